/**
 * The staging area for native calls' small arguments (src/staging.ts): a staged copy holds the
 * bytes and is wiped by `unstage`; large arrays pass unchanged; a full area falls back to the
 * caller's arrays; outputs are copied out before the wipe. Every native call that stages
 * (HMAC, the MLS AEAD, X25519, Ed25519 checks, the sealed store) leaves the area empty and
 * zeroed after success and after failure: no key stays behind in it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { stage, stagedBytes, stageOutput, takeOutput, unstage } from "../src/staging.js";
import { toHex } from "../src/bytes.js";
import { hkdf, hmacParts } from "../src/mls/crypto/hash.js";
import { makeNodeAead } from "../src/mls/crypto/aead.js";
import { x25519PublicOf, x25519Raw } from "../src/mls/crypto/x25519.js";
import { verifyEd25519Sync } from "../src/ed25519Verify.js";
import { generateIdentity } from "../src/identity.js";
import { ed25519SignerOf } from "../src/ed25519Sign.js";

/** The first 512 bytes of the area as they are now (stageOutput hands them out unwritten). */
function areaNow(): Uint8Array {
  assert.equal(stagedBytes(), 0, "nothing staged between calls");
  const parts = Array.from({ length: 8 }, () => takeOutput(stageOutput(64)));
  unstage();
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

const zeros = (bytes: Uint8Array): boolean => bytes.every((b) => b === 0);

test("a staged copy holds the bytes, apart from the caller's, and unstage wipes it", () => {
  const key = new Uint8Array(32).fill(0xaa);
  const copy = stage(key);
  assert.deepEqual(copy, key);
  copy[0] = 1;
  assert.equal(key[0], 0xaa, "a copy, not the caller's array");
  assert.equal(stagedBytes(), 32);
  unstage();
  assert.equal(stagedBytes(), 0);
  assert.ok(zeros(copy), "the staged copy is wiped");
});

test("arrays over 64 bytes pass unchanged; a full area falls back to the caller's arrays", () => {
  const big = new Uint8Array(65);
  assert.equal(stage(big), big);
  const small = Array.from({ length: 9 }, (_, i) => new Uint8Array(64).fill(i + 1));
  const staged = small.map(stage);
  for (let i = 0; i < 8; i++) assert.notEqual(staged[i], small[i]);
  assert.equal(staged[8], small[8], "the ninth 64-byte array does not fit in 512 bytes");
  assert.equal(stageOutput(64).length, 64);
  unstage();
  assert.ok(staged.slice(0, 8).every(zeros));
});

test("takeOutput copies a staged output before the wipe; a large output is its own array", () => {
  const room = stageOutput(16);
  room.fill(9);
  const out = takeOutput(room);
  unstage();
  assert.ok(zeros(room));
  assert.deepEqual(out, new Uint8Array(16).fill(9));
  const large = stageOutput(100);
  assert.equal(takeOutput(large), large);
  unstage();
});

test("hex, HMAC, HKDF, AEAD, X25519 and Ed25519 calls (signing too) leave the area empty and zeroed, after failures too", () => {
  const key = new Uint8Array(32).fill(0x5c);
  assert.equal(toHex(key), "5c".repeat(32));
  assert.ok(zeros(areaNow()), "hex");
  hmacParts("SHA-256", key, new Uint8Array(40).fill(1), new Uint8Array(3), new Uint8Array(1));
  assert.ok(zeros(areaNow()), "HMAC");
  hkdf("SHA-256", key, new Uint8Array(16).fill(2), new Uint8Array(10).fill(3), 80);
  assert.ok(zeros(areaNow()), "HKDF");

  const aead = makeNodeAead("AES128GCM");
  const k = new Uint8Array(16).fill(0x11);
  const nonce = new Uint8Array(12).fill(0x22);
  const sealed = aead.seal(k, nonce, new Uint8Array(5), new Uint8Array(20).fill(0x33));
  assert.ok(zeros(areaNow()), "AEAD seal");
  assert.deepEqual(aead.open(k, nonce, new Uint8Array(5), sealed), new Uint8Array(20).fill(0x33));
  assert.ok(zeros(areaNow()), "AEAD open");
  sealed[0]! ^= 1;
  assert.throws(() => aead.open(k, nonce, new Uint8Array(5), sealed));
  assert.ok(zeros(areaNow()), "AEAD open that fails");

  const secret = new Uint8Array(randomBytes(32));
  const pub = x25519PublicOf(secret, () => assert.fail("libsodium path"));
  assert.ok(zeros(areaNow()), "X25519 public");
  const other = new Uint8Array(randomBytes(32));
  assert.deepEqual(x25519Raw(other, pub, () => assert.fail(), () => assert.fail()), x25519Raw(secret, x25519PublicOf(other, () => assert.fail()), () => assert.fail(), () => assert.fail()));
  assert.ok(zeros(areaNow()), "X25519");
  assert.throws(() => x25519Raw(secret, new Uint8Array(32), () => assert.fail(), () => assert.fail()), "a small-order point");
  assert.ok(zeros(areaNow()), "X25519 that fails");

  const id = generateIdentity();
  const message = new Uint8Array(30).fill(4);
  const signature = ed25519SignerOf(id.secretKey).sign(message);
  assert.ok(zeros(areaNow()), "Ed25519 signing");
  assert.equal(verifyEd25519Sync(id.publicKey, message, signature), true);
  signature[5]! ^= 1;
  assert.equal(verifyEd25519Sync(id.publicKey, message, signature), false);
  assert.ok(zeros(areaNow()), "Ed25519");
});
