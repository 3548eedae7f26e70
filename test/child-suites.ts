/**
 * Runs test files (names in dist/test/) in a child `node --test` process with extra environment
 * and node options, and asserts that they all passed: how the fallback suites run the project's
 * tests without an addon (sodium-native, our AEAD addon).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** A file of dist/test/ by name. @example `testFile("no-sodium-preload.cjs")` */
export function testFile(name: string): string {
  return fileURLToPath(new URL(name, import.meta.url));
}

/**
 * Runs `files` in a child process with `env` added and `nodeArgs` before `--test`; fails unless
 * every test passed. Returns the child's TAP report.
 *
 * @example
 * ```ts
 * const tap = runSuitesInChild(["lts-aead.test.js"], { SECRET_GROUP_NATIVE: "0" })
 * ```
 */
export function runSuitesInChild(files: readonly string[], env: Record<string, string>, nodeArgs: readonly string[] = []): string {
  const child = spawnSync(process.execPath, [...nodeArgs, "--test", ...files.map(testFile)], {
    // without the parent runner's NODE_TEST_CONTEXT, the child reports in TAP on its stdout
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "NODE_TEST_CONTEXT")), ...env },
    encoding: "utf8",
    timeout: 590_000,
  });
  const report = `${child.stdout}\n${child.stderr}`;
  assert.equal(child.status, 0, report.slice(-4000));
  assert.match(child.stdout, /^# fail 0$/m);
  return child.stdout;
}
