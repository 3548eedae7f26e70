/**
 * The AEAD addon (native/aead.c through src/nativeAead.ts): built here (CI builds it at `npm ci`),
 * the same bytes as node:crypto's cipher objects for the three long-term suites, the tag checked
 * before a plaintext is left in the caller's buffer (a failed open wipes what it wrote and touches
 * nothing else), and every offset, length and type checked before a byte is read or written.
 * With SECRET_GROUP_NATIVE=0 (test/native-aead-fallback.test.ts) only the first test runs: the
 * addon is then absent and node:crypto does the work.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import fc from "fast-check";
import { LongTermCiphersuite, LTS_KEY_SIZE } from "../src/constants.js";
import type { LongTermCiphersuiteName } from "../src/constants.js";
import { NODE_ALGORITHM } from "../src/lts/aead.js";
import { arbAeadCase } from "./vectors/helpers.js";
import { aeadBackend, nativeAead, suiteId } from "../src/nativeAead.js";

const disabled = process.env.SECRET_GROUP_NATIVE === "0";
const SUITES = Object.keys(LongTermCiphersuite) as LongTermCiphersuiteName[];

/** node:crypto's ciphertext || tag. */
function nodeSeal(suite: LongTermCiphersuiteName, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const c = createCipheriv(NODE_ALGORITHM[suite] as "aes-128-gcm", key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  return new Uint8Array(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]));
}

function nodeOpen(suite: LongTermCiphersuiteName, key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  const d = createDecipheriv(NODE_ALGORITHM[suite] as "aes-128-gcm", key, nonce, { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  d.setAAD(aad);
  return new Uint8Array(Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]));
}

// inputs, and where in larger buffers the sealed value and the plaintext sit
const arbCase = fc.tuple(arbAeadCase(600, 80), fc.nat({ max: 40 }), fc.nat({ max: 40 })).map(([c, at, slack]) => ({ ...c, at, slack }));

describe("the AEAD addon", () => {
  it(disabled ? "is not loaded under SECRET_GROUP_NATIVE=0" : "is built and loaded (npm ci builds it; CI fails here if it did not)", () => {
    assert.equal(aeadBackend(), disabled ? "node:crypto" : "native");
    assert.equal(nativeAead === undefined, disabled);
  });

  if (disabled) return;
  const aead = nativeAead!;

  it("seals and opens the bytes node:crypto does, at any offset of a larger buffer, leaving the rest untouched", () => {
    fc.assert(
      fc.property(arbCase, ({ suite, key, nonce, plaintext, aad, at, slack }) => {
        const expected = nodeSeal(suite, key, nonce, plaintext, aad);
        const sealedIn = new Uint8Array(at + expected.length + slack).fill(0xa5);
        aead.seal(suiteId(suite), key, nonce, plaintext, aad, sealedIn, at);
        assert.deepEqual(sealedIn.subarray(at, at + expected.length), expected);
        assert.ok(sealedIn.subarray(0, at).every((b) => b === 0xa5) && sealedIn.subarray(at + expected.length).every((b) => b === 0xa5));
        const target = new Uint8Array(slack + plaintext.length + at).fill(0x5a);
        assert.equal(aead.open(suiteId(suite), key, nonce, sealedIn, at, at + expected.length, aad, target, slack), true);
        assert.deepEqual(target.subarray(slack, slack + plaintext.length), plaintext);
        assert.ok(target.subarray(0, slack).every((b) => b === 0x5a) && target.subarray(slack + plaintext.length).every((b) => b === 0x5a));
        assert.deepEqual(nodeOpen(suite, key, nonce, sealedIn.subarray(at, at + expected.length), aad), plaintext);
      }),
      { numRuns: 400 },
    );
  });

  it("agrees with node:crypto on large values (64 KiB + 1, 1 MiB) and empty ones", () => {
    for (const suite of SUITES) {
      for (const size of [0, 16, 65_537, 1 << 20]) {
        const key = randomBytes(LTS_KEY_SIZE[suite]);
        const nonce = randomBytes(12);
        const aad = randomBytes(32);
        const plaintext = randomBytes(size);
        const sealed = new Uint8Array(size + 16);
        aead.seal(suiteId(suite), key, nonce, plaintext, aad, sealed, 0);
        assert.deepEqual(sealed, nodeSeal(suite, key, nonce, plaintext, aad));
        const out = new Uint8Array(size);
        assert.equal(aead.open(suiteId(suite), key, nonce, sealed, 0, sealed.length, aad, out, 0), true);
        assert.ok(Buffer.from(out).equals(plaintext));
      }
    }
  });

  it("refuses every tampered byte of ciphertext, tag, nonce and aad, and wipes what it wrote", () => {
    for (const suite of SUITES) {
      const key = randomBytes(LTS_KEY_SIZE[suite]);
      const nonce = randomBytes(12);
      const aad = randomBytes(20);
      const plaintext = randomBytes(100).fill(0x77, 0, 1);
      const sealed = nodeSeal(suite, key, nonce, plaintext, aad);
      const check = (n: Uint8Array, s: Uint8Array, a: Uint8Array, what: string): void => {
        const target = new Uint8Array(plaintext.length + 8).fill(0xee);
        assert.equal(aead.open(suiteId(suite), key, n, s, 0, s.length, a, target, 4), false, what);
        assert.ok(target.subarray(4, 4 + plaintext.length).every((b) => b === 0), `${what}: the written plaintext is wiped`);
        assert.ok(target.subarray(0, 4).every((b) => b === 0xee) && target.subarray(4 + plaintext.length).every((b) => b === 0xee), `${what}: nothing else written`);
      };
      for (let i = 0; i < sealed.length; i++) {
        const s = Uint8Array.from(sealed);
        s[i] = (s[i] as number) ^ (1 << i % 8);
        check(nonce, s, aad, `${suite} byte ${i}`);
      }
      for (let i = 0; i < 12; i++) {
        const n = Uint8Array.from(nonce);
        n[i] = (n[i] as number) ^ 0x01;
        check(n, sealed, aad, `${suite} nonce byte ${i}`);
      }
      for (let i = 0; i < aad.length; i++) {
        const a = Uint8Array.from(aad);
        a[i] = (a[i] as number) ^ 0x80;
        check(nonce, sealed, a, `${suite} aad byte ${i}`);
      }
      check(nonce, sealed, aad.subarray(1), `${suite} shorter aad`);
      const otherKey = Uint8Array.from(key);
      otherKey[0] = (otherKey[0] as number) ^ 1;
      const target = new Uint8Array(plaintext.length);
      assert.equal(aead.open(suiteId(suite), otherKey, nonce, sealed, 0, sealed.length, aad, target, 0), false);
      assert.ok(target.every((b) => b === 0));
    }
  });

  it("re-keys whenever the key differs from the one its context holds, in any byte, after a failure too", () => {
    // a context keeps its key between calls (only the nonce is set while the key is the same):
    // keys one bit apart in their last byte, in turns, each call must use its own
    for (const suite of SUITES) {
      const id = suiteId(suite);
      const base = randomBytes(LTS_KEY_SIZE[suite]);
      const keys = Array.from({ length: 3 }, (_, i) => {
        const k = Uint8Array.from(base);
        k[k.length - 1] = (k[k.length - 1] as number) ^ i;
        return k;
      });
      const aad = randomBytes(9);
      const order = [0, 0, 1, 0, 2, 2, 1, 1, 0, 2];
      const sealed = order.map((k) => {
        const nonce = randomBytes(12);
        const plaintext = randomBytes(33);
        const out = new Uint8Array(plaintext.length + 16);
        aead.seal(id, keys[k] as Uint8Array, nonce, plaintext, aad, out, 0);
        assert.deepEqual(out, nodeSeal(suite, keys[k] as Uint8Array, nonce, plaintext, aad), `${suite}: seal ${k} after another key`);
        return { k, nonce, plaintext, out };
      });
      for (const { k, nonce, plaintext, out } of sealed) {
        const other = keys[(k + 1) % keys.length] as Uint8Array;
        const target = new Uint8Array(plaintext.length);
        assert.equal(aead.open(id, other, nonce, out, 0, out.length, aad, target, 0), false, `${suite}: a key one bit off opens nothing`);
        assert.equal(aead.open(id, keys[k] as Uint8Array, nonce, out, 0, out.length, aad, target, 0), true, `${suite}: its own key right after`);
        assert.deepEqual(target, new Uint8Array(plaintext));
        const tampered = Uint8Array.from(out);
        tampered[0] = (tampered[0] as number) ^ 1;
        assert.equal(aead.open(id, keys[k] as Uint8Array, nonce, tampered, 0, tampered.length, aad, target, 0), false);
        assert.equal(aead.open(id, keys[k] as Uint8Array, nonce, out, 0, out.length, aad, target, 0), true, `${suite}: the same key after a failed tag`);
        assert.deepEqual(target, new Uint8Array(plaintext));
      }
    }
  });

  it("opens in place (target = source) and refuses a partial overlap", () => {
    const key = randomBytes(16);
    const nonce = randomBytes(12);
    const plaintext = randomBytes(64);
    const sealed = nodeSeal("PANDA10_AES128GCM", key, nonce, plaintext, new Uint8Array(0));
    const inPlace = Uint8Array.from(sealed);
    assert.equal(aead.open(1, key, nonce, inPlace, 0, inPlace.length, new Uint8Array(0), inPlace, 0), true);
    assert.deepEqual(inPlace.subarray(0, 64), new Uint8Array(plaintext));
    const shifted = Uint8Array.from(sealed);
    assert.throws(() => aead.open(1, key, nonce, shifted, 0, shifted.length, new Uint8Array(0), shifted, 3), RangeError);
    assert.deepEqual(shifted, sealed, "nothing written");
    const buffer = new Uint8Array(200);
    buffer.set(plaintext, 10);
    assert.throws(() => aead.seal(1, key, nonce, buffer.subarray(10, 74), new Uint8Array(0), buffer, 20), RangeError);
  });

  it("checks every offset, length and type before touching a byte", () => {
    const key = randomBytes(16);
    const nonce = randomBytes(12);
    const sealed = nodeSeal("PANDA10_AES128GCM", key, nonce, randomBytes(32), new Uint8Array(0));
    const none = new Uint8Array(0);
    const out = new Uint8Array(32);
    const roomy = new Uint8Array(64);
    const n = sealed.length;
    const openCases: Array<[string, () => unknown, ErrorConstructor]> = [
      // a target with room to spare: only the source's own bound refuses these
      ["end past the source", () => aead.open(1, key, nonce, sealed, 0, n + 1, none, roomy, 0), RangeError],
      ["ciphertext start past the source", () => aead.open(1, key, nonce, sealed, n + 4, n + 20, none, roomy, 0), RangeError],
      ["ciphertext shorter than a tag", () => aead.open(1, key, nonce, sealed, n - 15, n, none, out, 0), RangeError],
      ["ctAt after end", () => aead.open(1, key, nonce, sealed, 30, 20, none, out, 0), RangeError],
      ["target too small", () => aead.open(1, key, nonce, sealed, 0, n, none, out, 1), RangeError],
      ["target offset past its end", () => aead.open(1, key, nonce, sealed, 0, n, none, out, 33), RangeError],
      ["negative offset", () => aead.open(1, key, nonce, sealed, -1, n, none, out, 0), RangeError],
      ["fractional offset", () => aead.open(1, key, nonce, sealed, 0.5, n, none, out, 0), RangeError],
      ["offset of 2^31", () => aead.open(1, key, nonce, sealed, 2 ** 31, n, none, out, 0), RangeError],
      ["offset not a number", () => aead.open(1, key, nonce, sealed, "0" as never, n, none, out, 0), RangeError],
      ["unknown suite", () => aead.open(4, key, nonce, sealed, 0, n, none, out, 0), TypeError],
      ["suite 0", () => aead.open(0, key, nonce, sealed, 0, n, none, out, 0), TypeError],
      ["AES-256 with a 16-byte key", () => aead.open(2, key, nonce, sealed, 0, n, none, out, 0), TypeError],
      ["short nonce", () => aead.open(1, key, nonce.subarray(1), sealed, 0, n, none, out, 0), TypeError],
      ["source not a Uint8Array", () => aead.open(1, key, nonce, Array.from(sealed) as never, 0, n, none, out, 0), TypeError],
      ["a Uint16Array target", () => aead.open(1, key, nonce, sealed, 0, n, none, new Uint16Array(32) as never, 0), TypeError],
      ["too few arguments", () => (aead.open as (...a: unknown[]) => unknown)(1, key, nonce, sealed), TypeError],
    ];
    for (const [what, call, kind] of openCases) {
      out.fill(0x33);
      roomy.fill(0x33);
      assert.throws(call, kind, what);
      assert.ok(out.every((b) => b === 0x33) && roomy.every((b) => b === 0x33), `${what}: nothing written`);
    }
    const target = new Uint8Array(48).fill(0x44);
    const sealCases: Array<[string, () => unknown, ErrorConstructor]> = [
      ["target too small", () => aead.seal(1, key, nonce, new Uint8Array(32), none, target, 1), RangeError],
      ["ChaCha20-Poly1305 with a 16-byte key", () => aead.seal(3, key, nonce, new Uint8Array(32), none, target, 0), TypeError],
      ["13-byte nonce", () => aead.seal(1, key, new Uint8Array(13), new Uint8Array(32), none, target, 0), TypeError],
      ["aad not bytes", () => aead.seal(1, key, nonce, new Uint8Array(32), "x" as never, target, 0), TypeError],
    ];
    for (const [what, call, kind] of sealCases) {
      assert.throws(call, kind, what);
      assert.ok(target.every((b) => b === 0x44), `${what}: nothing written`);
    }
  });

  it("works the same in a worker thread (each thread keeps its own cipher contexts)", async () => {
    const { Worker } = await import("node:worker_threads");
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const plaintext = randomBytes(1000);
    const sealed = nodeSeal("PANDA10_CHACHA20POLY1305", key, nonce, plaintext, new Uint8Array(0));
    const module = new URL("../src/nativeAead.js", import.meta.url).href;
    const code = `
      const { parentPort, workerData } = require("node:worker_threads");
      import(${JSON.stringify(module)}).then(({ nativeAead }) => {
        const out = new Uint8Array(workerData.sealed.length - 16);
        const ok = nativeAead.open(3, workerData.key, workerData.nonce, workerData.sealed, 0, workerData.sealed.length, new Uint8Array(0), out, 0);
        parentPort.postMessage({ ok, out });
      });`;
    const worker = new Worker(code, { eval: true, workerData: { key, nonce, sealed } });
    const reply = await new Promise<{ ok: boolean; out: Uint8Array }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    assert.equal(reply.ok, true);
    assert.ok(Buffer.from(reply.out).equals(plaintext));
  });
});
