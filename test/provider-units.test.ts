/**
 * Unit checks of the node provider's pieces that equality tests do not reach: the LRU
 * bound, 32-byte Ed25519 seeds (p2panda identities), key-cache churn, rng.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { defaultCryptoProvider, getCiphersuiteFromName } from "ts-mls";
import { LruCache, fresh, owned } from "../src/mls/crypto/lru.js";
import { createHash } from "node:crypto";
import { KEY_CACHE_SIZE, clearKeyCaches } from "../src/mls/crypto/signature.js";
import { nodeCryptoProvider, nodeRng } from "../src/mls/crypto/provider.js";
import { VERIFY_SYNC_MAX } from "../src/constants.js";

const cs = getCiphersuiteFromName("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");

test("LruCache evicts the least recently used entry and stays bounded", () => {
  const c = new LruCache<string, number>(2);
  c.set("a", 1);
  c.set("b", 2);
  assert.equal(c.get("a"), 1);
  c.set("c", 3);
  assert.equal(c.get("b"), undefined);
  assert.equal(c.get("a"), 1);
  assert.equal(c.get("c"), 3);
  assert.equal(c.size, 2);
  c.set("a", 10);
  assert.equal(c.get("a"), 10);
  assert.equal(c.size, 2);
  // getOrAdd: makes a value only on a miss, and a hit counts as a use
  let made = 0;
  assert.equal(c.getOrAdd("c", () => ++made), 3);
  assert.equal(c.getOrAdd("d", () => ++made * 100), 100);
  assert.equal(made, 1);
  assert.equal(c.get("a"), undefined, "a was the least recently used");
  assert.equal(c.getOrAdd("d", () => ++made), 100);
  assert.equal(made, 1);
  assert.equal(c.size, 2);
});

test("fresh copies out of pooled Buffers", () => {
  const pooled = Buffer.from("abc"); // small Buffer.from uses the shared pool slab
  const f = fresh(pooled);
  assert.equal(Object.getPrototypeOf(f), Uint8Array.prototype);
  assert.equal(f.buffer.byteLength, 3);
  pooled[0] = 0;
  assert.equal(f[0], 0x61);
});

test("owned wraps unpooled Buffers without copying and copies pooled ones", () => {
  const digest = createHash("sha256").update("x").digest();
  const o = owned(digest);
  assert.equal(Object.getPrototypeOf(o), Uint8Array.prototype);
  assert.deepEqual(o, new Uint8Array(digest));
  const pooled = Buffer.from("pooled bytes");
  assert.notEqual(pooled.buffer.byteLength, pooled.byteLength); // really from the slab
  const p = owned(pooled);
  assert.equal(p.buffer.byteLength, pooled.byteLength);
  pooled[0] = 0;
  assert.equal(p[0], "p".charCodeAt(0));
});

test("Ed25519 with 32-byte seeds signs exactly like the default provider", async () => {
  const node = await nodeCryptoProvider.getCiphersuiteImpl(cs);
  const def = await defaultCryptoProvider.getCiphersuiteImpl(cs);
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), async (seed, msg) => {
      const a = await node.signature.sign(seed, msg);
      assert.deepEqual(a, await def.signature.sign(seed, msg));
    }),
    { numRuns: 30 },
  );
});

test("signing with more keys than the cache holds stays correct (eviction path)", async () => {
  clearKeyCaches();
  const node = await nodeCryptoProvider.getCiphersuiteImpl(cs);
  const msg = new Uint8Array([1, 2, 3]);
  const seeds = Array.from({ length: KEY_CACHE_SIZE + 50 }, (_, i) => {
    const s = new Uint8Array(32);
    new DataView(s.buffer).setUint32(0, i + 1);
    return s;
  });
  const first = await node.signature.sign(seeds[0]!, msg);
  for (const s of seeds) await node.signature.sign(s, msg);
  // seeds[0] has been evicted by now; re-parsing it must give the same signature.
  assert.deepEqual(await node.signature.sign(seeds[0]!, msg), first);
});

test("Ed25519 verify refuses malformed public keys like the default (throws) and bad signatures (false)", async () => {
  const node = await nodeCryptoProvider.getCiphersuiteImpl(cs);
  const def = await defaultCryptoProvider.getCiphersuiteImpl(cs);
  const { signKey, publicKey } = await node.signature.keygen();
  const sig = await node.signature.sign(signKey, new Uint8Array([9]));
  await assert.rejects(node.signature.verify(publicKey.subarray(1), new Uint8Array([9]), sig));
  await assert.rejects(def.signature.verify(publicKey.subarray(1), new Uint8Array([9]), sig));
  assert.equal(await node.signature.verify(publicKey, new Uint8Array([9]), sig.subarray(1)), false);
  assert.equal(await def.signature.verify(publicKey, new Uint8Array([9]), sig.subarray(1)), false);
});

test("rng returns fresh random bytes of the requested size, beyond getRandomValues' 64 KiB cap", () => {
  const a = nodeRng.randomBytes(32);
  const b = nodeRng.randomBytes(32);
  assert.equal(a.length, 32);
  assert.notDeepEqual(a, b);
  assert.equal(nodeRng.randomBytes(70_000).length, 70_000);
});

test("the provider builds one implementation per suite and shares it", async () => {
  const a = await nodeCryptoProvider.getCiphersuiteImpl(cs);
  const b = await nodeCryptoProvider.getCiphersuiteImpl(cs);
  assert.equal(a, b);
  assert.equal(a.name, cs.name);
});

test("Ed25519 verifications, 40 in a turn, answer each one for itself (libsodium; batched onto the pool under the fallback, provider-sodium-fallback)", async () => {
  const node = await nodeCryptoProvider.getCiphersuiteImpl(cs);
  const signers = await Promise.all(Array.from({ length: 40 }, () => node.signature.keygen()));
  const msgs = signers.map((_, i) => new Uint8Array([i, 1, 2, 3]));
  const sigs = await Promise.all(signers.map((s, i) => node.signature.sign(s.signKey, msgs[i]!)));
  // every third signature checked against another message: false, the others true
  const verdicts = await Promise.all(
    signers.map((s, i) => node.signature.verify(s.publicKey, i % 3 === 0 ? new Uint8Array([255]) : msgs[i]!, sigs[i]!)),
  );
  assert.deepEqual(verdicts, signers.map((_, i) => i % 3 !== 0));
  // a malformed signature in a batch is false for itself only; a malformed key rejects alone
  const mixed = await Promise.allSettled([
    node.signature.verify(signers[1]!.publicKey, msgs[1]!, sigs[1]!.subarray(3)),
    node.signature.verify(signers[2]!.publicKey.subarray(1), msgs[2]!, sigs[2]!),
    node.signature.verify(signers[4]!.publicKey, msgs[4]!, sigs[4]!),
  ]);
  assert.deepEqual(mixed[0], { status: "fulfilled", value: false });
  assert.equal(mixed[1]?.status, "rejected");
  assert.deepEqual(mixed[2], { status: "fulfilled", value: true });
});

test("Ed25519 verifications of one turn, few or more (under the fallback: this thread or the pool), answer each one for itself", async () => {
  const node = await nodeCryptoProvider.getCiphersuiteImpl(cs);
  const signers = await Promise.all(Array.from({ length: VERIFY_SYNC_MAX + 2 }, () => node.signature.keygen()));
  const msgs = signers.map((_, i) => new Uint8Array([i, 7]));
  const sigs = await Promise.all(signers.map((s, i) => node.signature.sign(s.signKey, msgs[i]!)));
  for (let n = 1; n <= signers.length; n++) {
    for (const wrong of [0, n - 1, Math.floor(n / 2)]) {
      const verdicts = await Promise.all(signers.slice(0, n).map((s, i) => node.signature.verify(s.publicKey, i === wrong ? new Uint8Array([255]) : msgs[i]!, sigs[i]!)));
      assert.deepEqual(verdicts, verdicts.map((_, i) => i !== wrong), `${n} in a turn, #${wrong} wrong`);
    }
  }
});
