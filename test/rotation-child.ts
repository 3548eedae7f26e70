/**
 * Child process of test/storage-key-kill.test.ts: opens an engine and rotates its storage key,
 * telling the parent when the rotation starts (the parent kills it with SIGKILL at a random
 * moment). Arguments: folder, identity seed (hex), new storage key (hex).
 */
import { SecretGroupEngine } from "../src/engine/engine.js";
import { identityFromSecretKey } from "../src/identity.js";

const [path, seed, newKey] = process.argv.slice(2) as [string, string, string];
const engine = await SecretGroupEngine.open({ path, identity: identityFromSecretKey(new Uint8Array(Buffer.from(seed, "hex"))), threads: 1 });
process.send?.("rotating");
await engine.rotateStorageKey(new Uint8Array(Buffer.from(newKey, "hex")));
process.send?.("rotated");
await engine.close();
process.exit(0);
