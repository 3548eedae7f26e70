/**
 * The worker keeps one object per key pair its tasks name (src/engine/worker/tasks.ts
 * `identityOf`), so the documents layer's per-object key cache hits on every join. Keyed by the
 * public half, the secret half compared on every hit: a task whose public key does not belong to
 * its secret key is refused even after the
 * true pair (or a pair sharing either half) was cached, and every task acts as its own pair,
 * also past the cache's bound.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WORKER_IDENTITY_CACHE_ENTRIES } from "../src/constants.js";
import { runWorkerTask } from "../src/engine/worker/tasks.js";
import type { KeyPackageOut } from "../src/engine/worker/protocol.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { keyPackageInfo } from "../src/keyPackage.js";

/** A structured clone of the pair, as a task carries it. */
const copy = (publicKey: Uint8Array, secretKey: Uint8Array): Identity => ({ publicKey: Uint8Array.from(publicKey), secretKey: Uint8Array.from(secretKey) });

async function keyPackageOf(identity: Identity): Promise<Uint8Array | "refused"> {
  const out = await runWorkerTask({ op: "keyPackage", identity });
  return out.ok ? keyPackageInfo((out.value as KeyPackageOut).keyPackage).publicKey : "refused";
}

test("worker tasks act as the key pair they carry, mismatched pairs refused, past the cache's bound", async () => {
  const ids = Array.from({ length: WORKER_IDENTITY_CACHE_ENTRIES + 3 }, () => generateIdentity());
  const [a, b] = ids as [Identity, Identity];
  for (const round of [0, 1]) {
    for (const id of round === 0 ? ids : [...ids].reverse()) assert.deepEqual(await keyPackageOf(copy(id.publicKey, id.secretKey)), id.publicKey);
    // both halves cached (as parts of true pairs): their mix is still not a pair
    assert.equal(await keyPackageOf(copy(a.publicKey, b.secretKey)), "refused");
    assert.equal(await keyPackageOf(copy(b.publicKey, a.secretKey)), "refused");
    assert.deepEqual(await keyPackageOf(copy(a.publicKey, a.secretKey)), a.publicKey);
  }
});
