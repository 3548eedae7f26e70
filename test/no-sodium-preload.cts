/**
 * Preload (`node --require`, which worker threads inherit, unlike `--import`) that makes
 * `sodium-native` fail to load, as it does on a platform without a prebuild: the process and its
 * workers verify Ed25519 and compute X25519 with node:crypto. Used by test/provider-sodium-fallback.test.ts.
 */
import Module = require("node:module");

const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
const load = loader._load;
loader._load = function (this: unknown, request: string, ...rest: unknown[]): unknown {
  if (request === "sodium-native") throw new Error("sodium-native: no prebuild for this platform (simulated)");
  return load.call(this, request, ...rest);
};
