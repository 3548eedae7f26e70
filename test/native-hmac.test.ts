/**
 * HMAC for the MLS provider (src/mls/crypto/hash.ts `hmacParts`, on the addon's native/hmac.c
 * where it loaded): RFC 4231's known answers, the bytes node:crypto's createHmac gives for any
 * key (empty, shorter and longer than a block) and any split of the message into parts, for
 * SHA-256, SHA-384 and SHA-512; each result a buffer of its own; HKDF with any salt as
 * hkdfSync derives it; the addon's arguments checked
 * before a byte is written; each thread with its own contexts. Under SECRET_GROUP_NATIVE=0
 * (test/native-aead-fallback.test.ts) the addon's own tests are skipped and the same answers
 * come from node:crypto.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac, hkdfSync } from "node:crypto";
import fc from "fast-check";
import type { HashAlgorithm } from "ts-mls/crypto/hash.js";
import { hkdf, hmacParts } from "../src/mls/crypto/hash.js";
import { nativeAddon } from "../src/native.js";
import { fromHex, utf8 } from "../src/bytes.js";

const disabled = process.env.SECRET_GROUP_NATIVE === "0";
const HASHES: Array<[HashAlgorithm, string, number, number]> = [
  ["SHA-256", "sha256", 1, 32],
  ["SHA-384", "sha384", 2, 48],
  ["SHA-512", "sha512", 3, 64],
];

function nodeHmac(node: string, key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const h = createHmac(node, key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** RFC 4231 section 4, test cases 1, 2 and 6 (a key longer than every block). */
const RFC4231 = [
  {
    key: new Uint8Array(20).fill(0x0b),
    data: utf8("Hi There"),
    mac: {
      "SHA-256": "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      "SHA-384": "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
      "SHA-512": "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
    },
  },
  {
    key: utf8("Jefe"),
    data: utf8("what do ya want for nothing?"),
    mac: {
      "SHA-256": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      "SHA-384": "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
      "SHA-512": "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
    },
  },
  {
    key: new Uint8Array(131).fill(0xaa),
    data: utf8("Test Using Larger Than Block-Size Key - Hash Key First"),
    mac: {
      "SHA-256": "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
      "SHA-384": "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
      "SHA-512": "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
    },
  },
] as const;

const arbParts = fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 });

describe("HMAC for the MLS provider", () => {
  it("gives RFC 4231's answers, whole and split into parts", () => {
    for (const { key, data, mac } of RFC4231) {
      for (const [alg] of HASHES) {
        assert.equal(Buffer.from(hmacParts(alg, key, data)).toString("hex"), mac[alg], `${alg}, key of ${key.length}`);
        const cut = Math.floor(data.length / 3);
        const split = hmacParts(alg, key, data.subarray(0, cut), new Uint8Array(0), data.subarray(cut, 2 * cut), data.subarray(2 * cut));
        assert.equal(Buffer.from(split).toString("hex"), mac[alg], `${alg} in four parts`);
      }
    }
  });

  it("gives createHmac's bytes for any key and any parts, each in a buffer of its own", () => {
    fc.assert(
      fc.property(fc.constantFrom(...HASHES), fc.uint8Array({ maxLength: 200 }), arbParts, ([alg, node, , size], key, parts) => {
        const mac = hmacParts(alg, key, parts[0]!, parts[1], parts[2], parts[3]);
        assert.deepEqual(mac, nodeHmac(node, key, parts));
        assert.equal(mac.buffer.byteLength, size, "exactly the MAC's bytes");
        const again = hmacParts(alg, key, parts[0]!, parts[1], parts[2], parts[3]);
        again.fill(0);
        assert.deepEqual(mac, nodeHmac(node, key, parts), "results share no memory");
      }),
      { numRuns: 300 },
    );
  });

  it("HKDF with any salt (the sealed store's keys) gives hkdfSync's bytes", () => {
    fc.assert(
      fc.property(fc.constantFrom(...HASHES), fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 60 }), fc.integer({ min: 1, max: 300 }), ([alg, node], ikm, salt, info, len) => {
        assert.deepEqual(hkdf(alg, ikm, salt, info, len), new Uint8Array(hkdfSync(node, ikm, salt, info, len)));
      }),
      { numRuns: 200 },
    );
  });

  it(disabled ? "runs on node:crypto under SECRET_GROUP_NATIVE=0" : "runs on the addon (npm ci builds it)", () => {
    assert.equal(nativeAddon === undefined, disabled);
  });

  if (disabled) return;
  const addon = nativeAddon!;

  it("the addon writes the MAC at the target's start and nothing past it; a part may be left undefined", () => {
    const key = fromHex("0102030405");
    const data = utf8("message");
    for (const [, node, id, size] of HASHES) {
      const target = new Uint8Array(size + 7).fill(0x5a);
      addon.hmac(id, key, target, undefined as unknown as Uint8Array, data, undefined, undefined);
      assert.deepEqual(target.subarray(0, size), nodeHmac(node, key, [data]));
      assert.ok(target.subarray(size).every((b) => b === 0x5a), "untouched past the MAC");
    }
  });

  it("the addon checks its arguments before writing a byte", () => {
    const key = new Uint8Array(32).fill(1);
    const data = new Uint8Array(10);
    const target = new Uint8Array(64).fill(0x5a);
    const cases: Array<[string, () => void, ErrorConstructor]> = [
      ["a target shorter than the MAC", () => addon.hmac(1, key, target.subarray(0, 31), data), RangeError],
      ["SHA-512 into 48 bytes", () => addon.hmac(3, key, target.subarray(0, 48), data), RangeError],
      ["hash 0", () => addon.hmac(0, key, target, data), TypeError],
      ["hash 4", () => addon.hmac(4, key, target, data), TypeError],
      ["a key that is no Uint8Array", () => addon.hmac(1, [1, 2] as unknown as Uint8Array, target, data), TypeError],
      ["a Uint16Array target", () => addon.hmac(1, key, new Uint16Array(32) as unknown as Uint8Array, data), TypeError],
      ["a part that is a string", () => addon.hmac(1, key, target, "data" as unknown as Uint8Array), TypeError],
      ["no part", () => (addon.hmac as (...a: unknown[]) => void)(1, key, target), TypeError],
      ["five parts", () => (addon.hmac as (...a: unknown[]) => void)(1, key, target, data, data, data, data, data), TypeError],
    ];
    for (const [what, call, type] of cases) {
      assert.throws(call, type, what);
      assert.ok(target.every((b) => b === 0x5a), `${what}: nothing written`);
    }
  });

  it("works the same in a worker thread (each thread keeps its own contexts)", async () => {
    const { Worker } = await import("node:worker_threads");
    const key = new Uint8Array(48).fill(7);
    const data = utf8("in a worker");
    const module = new URL("../src/mls/crypto/hash.js", import.meta.url).href;
    const code = `
      const { parentPort, workerData } = require("node:worker_threads");
      import(${JSON.stringify(module)}).then(({ hmacParts }) => {
        parentPort.postMessage(["SHA-256", "SHA-384", "SHA-512"].map((alg) => hmacParts(alg, workerData.key, workerData.data)));
      });`;
    const worker = new Worker(code, { eval: true, workerData: { key, data } });
    const reply = await new Promise<Uint8Array[]>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    HASHES.forEach(([, node], i) => assert.deepEqual(new Uint8Array(reply[i]!), nodeHmac(node, key, [data])));
  });
});
