/**
 * Ed25519 verification answers the same on every path (src/ed25519Verify.ts): libsodium on this
 * thread, node:crypto on this thread (the fallback), node:crypto on libuv's pool, and the addon's
 * shared run checked by its pool thread (native/ed25519.c, after `passesEd25519Rule`, as
 * src/mls/crypto/verifyRun.ts adds items), for RFC 8032's vectors, random signatures with random
 * damage, and the inputs where OpenSSL alone would accept what libsodium refuses (a small-order
 * key or R, both forgeable).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPublicKey, verify as rawVerify } from "node:crypto";
import fc from "fast-check";
import { ed25519 } from "@noble/curves/ed25519.js";
import { Ed25519Backend, ed25519Backend, isAcceptablePublicKey, passesEd25519Rule, verifyEd25519Node, verifyEd25519OnPool, verifyEd25519Sync } from "../src/ed25519Verify.js";
import { ED25519_SODIUM_MAX_BYTES } from "../src/constants.js";
import { nativeAddon } from "../src/native.js";

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));
const le = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).reverse().toString("hex") || "0"}`);
const le32 = (n: bigint): Uint8Array => new Uint8Array(Buffer.from(n.toString(16).padStart(64, "0"), "hex").reverse());
const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array): bigint => le(createHash("sha512").update(r).update(a).update(m).digest()) % L;
const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => new Uint8Array([...a, ...b]);

/** A shared run's verdict with the pool thread checking the item (the caller never takes it); libsodium's where the addon is not loaded. */
function sharedRun(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const addon = nativeAddon;
  if (addon === undefined) return Promise.resolve(verifyEd25519Sync(publicKey, message, signature));
  if (!passesEd25519Rule(publicKey, signature)) return Promise.resolve(false);
  return new Promise((resolve, reject) => {
    const run = addon.runOpen((verdicts) => (verdicts.length === 1 && verdicts[0] !== 0 ? resolve(verdicts[0] === 1) : reject(new Error(`pool thread verdicts ${verdicts.join()}`))));
    addon.runAdd(run, publicKey, message, signature);
    addon.runClose(run);
  });
}

/** Each path's answer: they must all be `expected`. */
async function answers(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<{ sync: boolean; node: boolean; pool: boolean; run: boolean }> {
  return {
    sync: verifyEd25519Sync(publicKey, message, signature),
    node: verifyEd25519Node(publicKey, message, signature),
    pool: await verifyEd25519OnPool(publicKey, message, signature),
    run: await sharedRun(publicKey, message, signature),
  };
}

async function expectAll(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, expected: boolean, what: string): Promise<void> {
  assert.deepEqual(await answers(publicKey, message, signature), { sync: expected, node: expected, pool: expected, run: expected }, what);
}

// OpenSSL's own answer, without the rule's pre-checks (shows what the pre-checks stop)
function openssl(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey).toString("base64url") }, format: "jwk" });
  return rawVerify(null, message, key, signature);
}

test("sodium-native loads here, so the sync path is libsodium's and the comparisons below compare two implementations", () => {
  assert.equal(ed25519Backend(), Ed25519Backend.Libsodium);
});

test("RFC 8032 7.1 vectors verify on every path, and fail with the message or signature changed", async () => {
  const vectors = [
    ["d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "", "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"],
    ["3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72", "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"],
    ["fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82", "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"],
  ] as const;
  for (const [pk, msg, sig] of vectors) {
    await expectAll(hex(pk), hex(msg), hex(sig), true, `vector ${pk.slice(0, 8)}`);
    await expectAll(hex(pk), concat(hex(msg), new Uint8Array([0])), hex(sig), false, `vector ${pk.slice(0, 8)}, message extended`);
    const bad = hex(sig);
    bad[40] = bad[40]! ^ 1;
    await expectAll(hex(pk), hex(msg), bad, false, `vector ${pk.slice(0, 8)}, S changed`);
  }
});

test("messages on both sides of ED25519_SODIUM_MAX_BYTES (libsodium below, node:crypto above) verify, and fail damaged, on every path", async () => {
  const seed = new Uint8Array(32).fill(5);
  const publicKey = ed25519.getPublicKey(seed);
  for (const size of [ED25519_SODIUM_MAX_BYTES, ED25519_SODIUM_MAX_BYTES + 1, 300_000]) {
    const message = new Uint8Array(size).map((_, i) => i * 7);
    const signature = ed25519.sign(message, seed);
    await expectAll(publicKey, message, signature, true, `${size} bytes`);
    const damaged = Uint8Array.from(message);
    damaged[size - 1] = damaged[size - 1]! ^ 1;
    await expectAll(publicKey, damaged, signature, false, `${size} bytes, last byte changed`);
    const identity = hex("0100000000000000000000000000000000000000000000000000000000000000");
    const r = 987654321n;
    await expectAll(identity, message, concat(ed25519.Point.BASE.multiply(r).toBytes(), le32(r)), false, `${size} bytes, small-order key`);
  }
});

test("a small-order key forges anything for OpenSSL; every path refuses it", async () => {
  const identity = hex("0100000000000000000000000000000000000000000000000000000000000000"); // y = 1: order 1
  const message = new TextEncoder().encode("signed by nobody");
  const r = 1234567890123456789n;
  const forged = concat(ed25519.Point.BASE.multiply(r).toBytes(), le32(r)); // [S]B = R + [k]A with A the identity
  assert.equal(openssl(identity, message, forged), true, "OpenSSL alone accepts the forgery");
  await expectAll(identity, message, forged, false, "identity key");
  assert.equal(isAcceptablePublicKey(identity), false);
});

test("a signature whose R has small order passes OpenSSL's equation; every path refuses it", async () => {
  const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(new Uint8Array(32).fill(9));
  const message = new TextEncoder().encode("R is the identity");
  const R = hex("0100000000000000000000000000000000000000000000000000000000000000");
  const S = (challenge(R, pointBytes, message) * scalar) % L; // [S]B = [k]A and R = 0
  const signature = concat(R, le32(S));
  assert.equal(openssl(pointBytes, message, signature), true, "OpenSSL alone accepts it");
  await expectAll(pointBytes, message, signature, false, "small-order R");
});

test("S + L, small-order keys in each encoding, non-canonical keys, wrong sizes and off-curve keys are false on every path, never a throw", async () => {
  const seed = new Uint8Array(32).fill(3);
  const publicKey = ed25519.getPublicKey(seed);
  const message = new TextEncoder().encode("edge cases");
  const signature = ed25519.sign(message, seed);
  await expectAll(publicKey, message, signature, true, "the honest signature");
  await expectAll(publicKey, message, concat(signature.subarray(0, 32), le32(le(signature.subarray(32)) + L)), false, "S + L");
  const smallOrder = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p (non-canonical 0)
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p + 1 (non-canonical 1)
  ];
  for (const h of smallOrder) {
    for (const sign of [0, 0x80]) {
      const key = hex(h);
      key[31] = key[31]! | sign;
      await expectAll(key, message, signature, false, `key ${h.slice(0, 8)} sign ${sign}`);
      await expectAll(publicKey, message, concat(key, signature.subarray(32)), false, `R ${h.slice(0, 8)} sign ${sign}`);
    }
  }
  await expectAll(hex("f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), message, signature, false, "y >= p");
  await expectAll(publicKey.subarray(1), message, signature, false, "31-byte key");
  await expectAll(publicKey, message, signature.subarray(1), false, "63-byte signature");
  await expectAll(publicKey, message, concat(signature, new Uint8Array(1)), false, "65-byte signature");
  // y = 2 is not on the curve (x^2 = (y^2 - 1) / (d y^2 + 1) has no root there)
  await expectAll(hex("0200000000000000000000000000000000000000000000000000000000000000"), message, signature, false, "off-curve key");
});

test("random signatures with random damage: every path gives the same answer, and true only when undamaged", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.constantFrom("none", "key", "message", "R", "S"),
      fc.nat(),
      async (seed, message, damage, at) => {
        const publicKey = ed25519.getPublicKey(seed);
        const signature = ed25519.sign(message, seed);
        const flip = (bytes: Uint8Array, from: number, length: number): Uint8Array => {
          const out = Uint8Array.from(bytes);
          if (out.length === 0) return new Uint8Array([1]);
          const i = from + (at % length);
          out[i] = out[i]! ^ (1 << (at % 8));
          return out;
        };
        const key = damage === "key" ? flip(publicKey, 0, 32) : publicKey;
        const msg = damage === "message" ? flip(message, 0, Math.max(1, message.length)) : message;
        const sig = damage === "R" ? flip(signature, 0, 32) : damage === "S" ? flip(signature, 32, 32) : signature;
        await expectAll(key, msg, sig, damage === "none", damage);
      },
    ),
    { numRuns: 300, seed: 240424 },
  );
});
