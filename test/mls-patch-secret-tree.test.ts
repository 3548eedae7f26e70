/**
 * Our ts-mls patch derives the secret tree lazily (patches/ts-mls+1.6.4.patch). These tests
 * compare every leaf's keys and nonces with a reference derivation written from RFC 9420
 * sections 8 and 9 on node:crypto HKDF, in random leaf order and across generations, and check
 * the deletion schedule of section 9.2 (an expanded node's secret is gone).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { createSecretTree, consumeRatchet, ratchetToGeneration } from "ts-mls/secretTree.js";
import type { SecretTree } from "ts-mls/secretTree.js";
import { defaultKeyRetentionConfig } from "ts-mls/keyRetentionConfig.js";
import { getSuite } from "../src/mls/suite.js";

const NH = 32; // SHA-256
const NK = 16; // AES-128-GCM
const NN = 12;

function expand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const out: Buffer[] = [];
  let prev = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(out).length < length; i++) {
    prev = createHmac("sha256", prk).update(Buffer.concat([prev, info, Buffer.from([i])])).digest();
    out.push(prev);
  }
  return new Uint8Array(Buffer.concat(out).subarray(0, length));
}
// RFC 9420 8: ExpandWithLabel over KDFLabel { uint16 length; opaque label<V>; opaque context<V> } (short varints)
function expandWithLabel(secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  const l = Buffer.from(`MLS 1.0 ${label}`);
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, l.length]), l, Buffer.from([context.length]), context]);
  return expand(secret, info, length);
}
const u32 = (n: number): Uint8Array => new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
const deriveTreeSecret = (s: Uint8Array, label: string, gen: number, len: number): Uint8Array => expandWithLabel(s, label, u32(gen), len);

/** RFC 9420 9: the leaf secret of `leaf` in a tree of `width` leaves (width a power of two). */
function referenceLeafSecret(encryptionSecret: Uint8Array, width: number, leaf: number): Uint8Array {
  let secret = encryptionSecret;
  let lo = 0;
  let hi = width;
  while (hi - lo > 1) {
    const mid = (lo + hi) / 2;
    const goLeft = leaf < mid;
    secret = expandWithLabel(secret, "tree", new TextEncoder().encode(goLeft ? "left" : "right"), NH);
    if (goLeft) hi = mid;
    else lo = mid;
  }
  return secret;
}
function referenceKeyNonce(leafSecret: Uint8Array, kind: "application" | "handshake", generation: number): { key: Uint8Array; nonce: Uint8Array } {
  let s = expandWithLabel(leafSecret, kind, new Uint8Array(0), NH);
  for (let g = 0; g < generation; g++) s = deriveTreeSecret(s, "secret", g, NH);
  return { key: deriveTreeSecret(s, "key", generation, NK), nonce: deriveTreeSecret(s, "nonce", generation, NN) };
}
function unguard(nonce: Uint8Array, reuseGuard: Uint8Array): Uint8Array {
  const n = nonce.slice();
  for (let i = 0; i < 4; i++) n[i] = (n[i] as number) ^ (reuseGuard[i] as number);
  return n;
}
function shuffled(n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return a;
}

test("lazy secret tree: every leaf's first key and nonce equal the RFC 9420 derivation, any leaf order", async () => {
  const cs = await getSuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
  for (const width of [1, 2, 4, 8, 16, 64]) {
    const encryptionSecret = new Uint8Array(randomBytes(NH));
    let tree: SecretTree = await createSecretTree(width, encryptionSecret, cs.kdf);
    for (const leaf of shuffled(width)) {
      for (const kind of ["application", "handshake"] as const) {
        const r = await consumeRatchet(tree, leaf * 2, kind === "application" ? "application" : "commit", cs);
        tree = r.newTree;
        const want = referenceKeyNonce(referenceLeafSecret(encryptionSecret, width, leaf), kind, 0);
        assert.deepEqual(r.key, want.key, `width ${width} leaf ${leaf} ${kind} key`);
        assert.deepEqual(unguard(r.nonce, r.reuseGuard), want.nonce, `width ${width} leaf ${leaf} ${kind} nonce`);
      }
    }
    // RFC 9420 9.2: once every leaf is derived, no node secret is left pending in the tree
    for (let i = 1; i < tree.length; i += 2) {
      assert.equal(tree[i]?.handshake.secret.length, 0, `width ${width}: parent ${i} secret deleted`);
    }
  }
});

test("lazy secret tree: a receiver ratchets to generation g of a lazily derived leaf, then to an earlier kept one", async () => {
  const cs = await getSuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
  const width = 32;
  const encryptionSecret = new Uint8Array(randomBytes(NH));
  let tree: SecretTree = await createSecretTree(width, encryptionSecret, cs.kdf);
  const reuseGuard = new Uint8Array(randomBytes(4));
  for (const [leaf, generation] of [[17, 5], [3, 0], [17, 2], [30, 40]] as const) {
    const r = await ratchetToGeneration(tree, { leafIndex: leaf, generation, reuseGuard: reuseGuard as Uint8Array & { length: 4 } }, "application", defaultKeyRetentionConfig, cs);
    tree = r.newTree;
    const want = referenceKeyNonce(referenceLeafSecret(encryptionSecret, width, leaf), "application", generation);
    assert.deepEqual(r.key, want.key, `leaf ${leaf} generation ${generation} key`);
    assert.deepEqual(unguard(r.nonce, reuseGuard), want.nonce, `leaf ${leaf} generation ${generation} nonce`);
  }
});

test("lazy secret tree: each epoch's tree is rooted in that epoch's secret (ts-mls zeroes the one it passed in)", async () => {
  const { makeGroup } = await import("./group-fixtures.js");
  const { updateGroup } = await import("../src/group/index.js");
  const cs = await getSuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
  const zeroRootKey = referenceKeyNonce(referenceLeafSecret(new Uint8Array(NH), 4, 2), "application", 0).key;
  const keys: string[] = [];
  for (let i = 0; i < 2; i++) {
    const { owner } = await makeGroup(3); // 4 leaves
    const u = await updateGroup(owner.state, { rotate: false });
    const r = await consumeRatchet(u.state.mls.secretTree, 4, "application", cs); // leaf 2: not yet derived
    assert.notDeepEqual(r.key, zeroRootKey, "not derived from a zeroed encryption secret");
    keys.push(Buffer.from(r.key).toString("hex"));
  }
  assert.notEqual(keys[0], keys[1], "two groups' trees differ");
});
