/**
 * AEAD backends: identical bytes on node:crypto and @noble/ciphers, tag checked, every tampered
 * byte and flipped nonce bit rejected, argument sizes enforced, 0 bytes to 1 MiB.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import type { AeadBackend } from "../src/lts/aead.js";
import { nobleAead, nodeAead } from "../src/lts/aead.js";
import { CryptoError, ErrorCode, UsageError } from "../src/errors.js";
import { KEY_SIZE, SUITES, arbAeadCase, pattern } from "./vectors/helpers.js";

const BACKENDS: readonly AeadBackend[] = [nodeAead, nobleAead];
const isDecryptionFailed = (e: unknown): boolean => e instanceof CryptoError && e.code === ErrorCode.DecryptionFailed;
const isInvalidArgument = (e: unknown): boolean => e instanceof UsageError && e.code === ErrorCode.InvalidArgument;

const arbCase = arbAeadCase(300, 64);

describe("AEAD backends", () => {
  it("have the expected names", () => {
    assert.equal(nodeAead.name, "node");
    assert.equal(nobleAead.name, "noble");
  });

  it("produce identical bytes for random inputs and open each other's output", () => {
    fc.assert(
      fc.property(arbCase, ({ suite, key, nonce, plaintext, aad }) => {
        const a = nodeAead.seal(suite, key, nonce, plaintext, aad);
        const b = nobleAead.seal(suite, key, nonce, plaintext, aad);
        assert.deepEqual(a, b);
        assert.equal(a.length, plaintext.length + 16);
        assert.deepEqual(nodeAead.open(suite, key, nonce, b, aad), plaintext);
        assert.deepEqual(nobleAead.open(suite, key, nonce, a, aad), plaintext);
      }),
      { numRuns: 300 },
    );
  });

  it("return plain Uint8Arrays, not views or Buffers", () => {
    for (const b of BACKENDS) {
      const ct = b.seal("PANDA10_AES128GCM", pattern(16), pattern(12), pattern(5), new Uint8Array(0));
      assert.equal(Object.getPrototypeOf(ct), Uint8Array.prototype);
      const pt = b.open("PANDA10_AES128GCM", pattern(16), pattern(12), ct, new Uint8Array(0));
      assert.equal(Object.getPrototypeOf(pt), Uint8Array.prototype);
    }
  });

  it("reject every tampered byte of ciphertext and tag", () => {
    fc.assert(
      fc.property(arbCase, fc.integer({ min: 1, max: 255 }), ({ suite, key, nonce, plaintext, aad }, delta) => {
        const ct = nodeAead.seal(suite, key, nonce, plaintext.subarray(0, 40), aad);
        for (let i = 0; i < ct.length; i++) {
          const bad = ct.slice();
          bad[i] = (bad[i] as number) ^ delta;
          for (const b of BACKENDS) assert.throws(() => b.open(suite, key, nonce, bad, aad), isDecryptionFailed);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("reject a flipped nonce bit, a different key, a different or extended aad, a truncated ciphertext", () => {
    fc.assert(
      fc.property(arbCase, fc.integer({ min: 0, max: 95 }), fc.integer({ min: 0, max: 255 }), (c, bit, extra) => {
        const { suite, key, nonce, plaintext, aad } = c;
        const ct = nobleAead.seal(suite, key, nonce, plaintext, aad);
        const badNonce = nonce.slice();
        badNonce[bit >> 3] = (badNonce[bit >> 3] as number) ^ (1 << (bit & 7));
        const badKey = key.slice();
        badKey[bit % key.length] = (badKey[bit % key.length] as number) ^ 0x80;
        const longerAad = new Uint8Array([...aad, extra]);
        for (const b of BACKENDS) {
          assert.throws(() => b.open(suite, key, badNonce, ct, aad), isDecryptionFailed);
          assert.throws(() => b.open(suite, badKey, nonce, ct, aad), isDecryptionFailed);
          assert.throws(() => b.open(suite, key, nonce, ct, longerAad), isDecryptionFailed);
          if (aad.length > 0) assert.throws(() => b.open(suite, key, nonce, ct, aad.subarray(1)), isDecryptionFailed);
          assert.throws(() => b.open(suite, key, nonce, ct.subarray(0, ct.length - 1), aad), isDecryptionFailed);
          assert.throws(() => b.open(suite, key, nonce, ct.subarray(0, 15), aad), isDecryptionFailed);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("do not confuse suites: AES-256-GCM output does not open as ChaCha20-Poly1305", () => {
    const ct = nodeAead.seal("PANDA10_AES256GCM", pattern(32), pattern(12), pattern(10), new Uint8Array(0));
    for (const b of BACKENDS) {
      assert.throws(() => b.open("PANDA10_CHACHA20POLY1305", pattern(32), pattern(12), ct, new Uint8Array(0)), isDecryptionFailed);
    }
  });

  it("refuse wrong key and nonce sizes, unknown suites and non-bytes as usage errors", () => {
    const empty = new Uint8Array(0);
    for (const b of BACKENDS) {
      for (const suite of SUITES) {
        for (const n of [0, 15, 16, 24, 31, 32, 33]) {
          if (n === KEY_SIZE[suite]) continue;
          assert.throws(() => b.seal(suite, new Uint8Array(n), pattern(12), empty, empty), isInvalidArgument);
          assert.throws(() => b.open(suite, new Uint8Array(n), pattern(12), pattern(16), empty), isInvalidArgument);
        }
        for (const n of [0, 8, 11, 13, 16, 24]) {
          assert.throws(() => b.seal(suite, new Uint8Array(KEY_SIZE[suite]), new Uint8Array(n), empty, empty), isInvalidArgument);
          assert.throws(() => b.open(suite, new Uint8Array(KEY_SIZE[suite]), new Uint8Array(n), pattern(16), empty), isInvalidArgument);
        }
      }
      const bogus = "PANDA10_AES512" as unknown as "PANDA10_AES128GCM";
      assert.throws(() => b.seal(bogus, pattern(16), pattern(12), empty, empty), isInvalidArgument);
      assert.throws(() => b.seal("toString" as unknown as "PANDA10_AES128GCM", pattern(16), pattern(12), empty, empty), isInvalidArgument);
      assert.throws(() => b.seal("PANDA10_AES128GCM", pattern(16), pattern(12), "hi" as unknown as Uint8Array, empty), isInvalidArgument);
      assert.throws(() => b.seal("PANDA10_AES128GCM", pattern(16), pattern(12), empty, undefined as unknown as Uint8Array), isInvalidArgument);
    }
  });

  it("handle 0 bytes and 1 MiB in every suite, identically", () => {
    for (const suite of SUITES) {
      const key = randomBytes(KEY_SIZE[suite]);
      const nonce = randomBytes(12);
      const aad = randomBytes(32);
      for (const size of [0, 1, 15, 16, 17, 1024 * 1024]) {
        const plaintext = new Uint8Array(randomBytes(size));
        const a = nodeAead.seal(suite, key, nonce, plaintext, aad);
        const b = nobleAead.seal(suite, key, nonce, plaintext, aad);
        assert.equal(a.length, size + 16);
        assert.ok(Buffer.from(a).equals(Buffer.from(b)), `${suite} ${size}`);
        assert.ok(Buffer.from(nodeAead.open(suite, key, nonce, b, aad)).equals(Buffer.from(plaintext)));
        if (size <= 1024) assert.deepEqual(nobleAead.open(suite, key, nonce, a, aad), plaintext);
      }
    }
  });

  it("release no plaintext when a 1 MiB ciphertext's tag is wrong", () => {
    const key = randomBytes(16);
    const nonce = randomBytes(12);
    const ct = nodeAead.seal("PANDA10_AES128GCM", key, nonce, new Uint8Array(1024 * 1024), new Uint8Array(0));
    ct[ct.length - 1] = (ct[ct.length - 1] as number) ^ 1;
    for (const b of BACKENDS) assert.throws(() => b.open("PANDA10_AES128GCM", key, nonce, ct, new Uint8Array(0)), isDecryptionFailed);
  });
});
