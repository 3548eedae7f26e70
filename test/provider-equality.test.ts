/**
 * Byte-for-byte equality of nodeCryptoProvider with ts-mls's defaultCryptoProvider on
 * random inputs (fast-check), for every primitive and both directions where two parties
 * are involved. The default provider is the reference: ts-mls 1.6.4 is tested against
 * the MLS working group's vectors with it.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { getCiphersuiteFromName, type CiphersuiteImpl, type CiphersuiteName } from "ts-mls";
// Deep imports: the labeled KDF/HPKE paths ts-mls builds on top of the provider.
import { deriveSecret, deriveTreeSecret, expandWithLabel } from "ts-mls/crypto/kdf.js";
import { decryptWithLabel, encryptWithLabel } from "ts-mls/crypto/hpke.js";
import { signWithLabel, verifyWithLabel } from "ts-mls/crypto/signature.js";
import { CryptoError } from "ts-mls/mlsError.js";
import { nodeCryptoProvider, nodeProviderCoverage } from "../src/mls/crypto/provider.js";
import { DEFAULT_PROVIDER, getSuite } from "../src/mls/suite.js";

const RUNS = 40;
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

const SUITES: CiphersuiteName[] = [
  "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
  "MLS_128_DHKEMP256_AES128GCM_SHA256_P256",
  "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519",
  "MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448",
  "MLS_256_DHKEMP521_AES256GCM_SHA512_P521",
  "MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448",
  "MLS_256_DHKEMP384_AES256GCM_SHA384_P384",
];

// Through src/mls/suite.ts, so the wiring ("node" and "default" selectable) is tested too.
async function pair(name: CiphersuiteName): Promise<{ node: CiphersuiteImpl; def: CiphersuiteImpl }> {
  return { node: await getSuite(name, "node"), def: await getSuite(name, "default") };
}

function assertPlainUint8Array(x: Uint8Array): void {
  // ts-mls compares and re-encodes what we return: it must be a plain, unshared Uint8Array.
  assert.equal(Object.getPrototypeOf(x), Uint8Array.prototype);
  assert.equal(x.byteOffset, 0);
  assert.equal(x.buffer.byteLength, x.byteLength);
}

async function rejects(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return false;
  } catch {
    return true;
  }
}

for (const name of SUITES) {
  describe(`provider equality: ${name}`, () => {
    test("hash.digest, mac and verifyMac agree", async () => {
      const { node, def } = await pair(name);
      await fc.assert(
        fc.asyncProperty(bytes(0, 300), bytes(1, 200), async (data, key) => {
          const d = await node.hash.digest(data);
          assert.deepEqual(d, await def.hash.digest(data));
          assertPlainUint8Array(d);
          const m = await node.hash.mac(key, data);
          assert.deepEqual(m, await def.hash.mac(key, data));
          assertPlainUint8Array(m);
          assert.equal(await node.hash.verifyMac(key, await def.hash.mac(key, data), data), true);
          assert.equal(await def.hash.verifyMac(key, m, data), true);
          const bad = m.slice();
          bad[0] = bad[0]! ^ 1;
          assert.equal(await node.hash.verifyMac(key, bad, data), false);
          assert.equal(await def.hash.verifyMac(key, bad, data), false);
          assert.equal(await node.hash.verifyMac(key, m.subarray(1), data), false);
        }),
        { numRuns: RUNS },
      );
    });

    test("kdf.extract and kdf.expand agree, including edge lengths", async () => {
      const { node, def } = await pair(name);
      assert.equal(node.kdf.size, def.kdf.size);
      const size = node.kdf.size;
      await fc.assert(
        fc.asyncProperty(
          fc.boolean(),
          fc.uint8Array({ minLength: size, maxLength: size }),
          bytes(0, 200),
          fc.uint8Array({ minLength: size, maxLength: size }),
          bytes(0, 200),
          fc.integer({ min: 0, max: 3 * size + 5 }),
          async (emptySalt, salt, ikm, prk, info, len) => {
            const s = emptySalt ? new Uint8Array() : salt;
            const e = await node.kdf.extract(s, ikm);
            assert.deepEqual(e, await def.kdf.extract(s, ikm));
            assertPlainUint8Array(e);
            const x = await node.kdf.expand(prk, info, len);
            assert.deepEqual(x, await def.kdf.expand(prk, info, len));
            assert.equal(x.length, len);
          },
        ),
        { numRuns: RUNS },
      );
      // Both refuse what RFC 5869 / @hpke/core refuse.
      const tooLong = 255 * size + 1;
      assert.equal(await rejects(node.kdf.expand(new Uint8Array(size), new Uint8Array(), tooLong)), true);
      assert.equal(await rejects(def.kdf.expand(new Uint8Array(size), new Uint8Array(), tooLong)), true);
      const full = 255 * size;
      assert.deepEqual(
        await node.kdf.expand(new Uint8Array(size).fill(7), new Uint8Array([1]), full),
        await def.kdf.expand(new Uint8Array(size).fill(7), new Uint8Array([1]), full),
      );
      // @hpke/core only takes a PRK of exactly one hash length.
      for (const bad of [1, size - 1, size + 1]) {
        assert.equal(await rejects(node.kdf.expand(new Uint8Array(bad), new Uint8Array(), 8)), true);
        assert.equal(await rejects(def.kdf.expand(new Uint8Array(bad), new Uint8Array(), 8)), true);
      }
      const oddSalt = new Uint8Array(size + 1);
      assert.equal(await rejects(node.kdf.extract(oddSalt, new Uint8Array(4))), true);
      assert.equal(await rejects(def.kdf.extract(oddSalt, new Uint8Array(4))), true);
    });

    test("expandWithLabel, deriveSecret and deriveTreeSecret paths agree", async () => {
      const { node, def } = await pair(name);
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: node.kdf.size, maxLength: node.kdf.size }),
          fc.string({ maxLength: 40 }),
          bytes(0, 100),
          fc.integer({ min: 1, max: 100 }),
          fc.nat(2 ** 32 - 1),
          async (secret, label, context, len, generation) => {
            assert.deepEqual(
              await expandWithLabel(secret, label, context, len, node.kdf),
              await expandWithLabel(secret, label, context, len, def.kdf),
            );
            assert.deepEqual(await deriveSecret(secret, label, node.kdf), await deriveSecret(secret, label, def.kdf));
            assert.deepEqual(
              await deriveTreeSecret(secret, label, generation, len, node.kdf),
              await deriveTreeSecret(secret, label, generation, len, def.kdf),
            );
          },
        ),
        { numRuns: RUNS },
      );
    });

    test("AEAD (hpke.encryptAead/decryptAead) seals identically and opens the other's output", async () => {
      const { node, def } = await pair(name);
      assert.equal(node.hpke.keyLength, def.hpke.keyLength);
      assert.equal(node.hpke.nonceLength, def.hpke.nonceLength);
      const k = node.hpke.keyLength;
      const n = node.hpke.nonceLength;
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: k, maxLength: k }),
          fc.uint8Array({ minLength: n, maxLength: n }),
          fc.option(bytes(0, 64), { nil: undefined }),
          bytes(0, 2000),
          async (key, nonce, aad, pt) => {
            const a = await node.hpke.encryptAead(key, nonce, aad, pt);
            const b = await def.hpke.encryptAead(key, nonce, aad, pt);
            assert.deepEqual(a, b);
            assertPlainUint8Array(a);
            assert.deepEqual(await def.hpke.decryptAead(key, nonce, aad, a), pt);
            const opened = await node.hpke.decryptAead(key, nonce, aad, b);
            assert.deepEqual(opened, pt);
            assertPlainUint8Array(opened);
            const bad = a.slice();
            bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x80;
            await assert.rejects(node.hpke.decryptAead(key, nonce, aad, bad), CryptoError);
            await assert.rejects(def.hpke.decryptAead(key, nonce, aad, bad), CryptoError);
            await assert.rejects(node.hpke.decryptAead(key, nonce, aad, a.subarray(0, 15)), CryptoError);
          },
        ),
        { numRuns: RUNS },
      );
    });

    test("signatures: each verifies the other's, both ways; deterministic schemes sign identically", async () => {
      const { node, def } = await pair(name);
      const alg = getCiphersuiteFromName(name).signature;
      const deterministic = alg === "Ed25519" || alg === "Ed448";
      const keys = [await node.signature.keygen(), await def.signature.keygen()];
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(0, 1), bytes(0, 500), fc.string({ maxLength: 20 }), async (which, msg, label) => {
          const { signKey, publicKey } = keys[which]!;
          const sn = await node.signature.sign(signKey, msg);
          const sd = await def.signature.sign(signKey, msg);
          assertPlainUint8Array(sn);
          if (deterministic) assert.deepEqual(sn, sd);
          assert.equal(await def.signature.verify(publicKey, msg, sn), true);
          assert.equal(await node.signature.verify(publicKey, msg, sd), true);
          assert.equal(await node.signature.verify(publicKey, msg, sn), true);
          const other = keys[1 - which]!.publicKey;
          assert.equal(await node.signature.verify(other, msg, sn), false);
          const tampered = msg.length > 0 ? msg.slice() : new Uint8Array([0]);
          if (msg.length > 0) tampered[0] = tampered[0]! ^ 1;
          assert.equal(await node.signature.verify(publicKey, tampered, sn), false);
          assert.equal(await def.signature.verify(publicKey, tampered, sn), false);
          const ln = await signWithLabel(signKey, label, msg, node.signature);
          assert.equal(await verifyWithLabel(publicKey, label, msg, ln, def.signature), true);
        }),
        { numRuns: RUNS / 2 },
      );
    });

    test("HPKE: derived key pairs are identical, seal with one opens with the other (both ways)", async () => {
      const { node, def } = await pair(name);
      await fc.assert(
        fc.asyncProperty(bytes(0, 64), bytes(0, 64), fc.option(bytes(0, 32), { nil: undefined }), bytes(0, 300), async (ikm, info, aad, pt) => {
          const kn = await node.hpke.deriveKeyPair(ikm);
          const kd = await def.hpke.deriveKeyPair(ikm);
          const skBytes = await node.hpke.exportPrivateKey(kn.privateKey);
          const pkBytes = await node.hpke.exportPublicKey(kn.publicKey);
          assert.deepEqual(skBytes, await def.hpke.exportPrivateKey(kd.privateKey));
          assert.deepEqual(pkBytes, await def.hpke.exportPublicKey(kd.publicKey));
          assertPlainUint8Array(pkBytes);
          // node seals to the default's imported key, default opens; and the reverse.
          const s1 = await node.hpke.seal(await node.hpke.importPublicKey(pkBytes), pt, info, aad);
          assert.deepEqual(await def.hpke.open(await def.hpke.importPrivateKey(skBytes), s1.enc, s1.ct, info, aad), pt);
          const s2 = await def.hpke.seal(await def.hpke.importPublicKey(pkBytes), pt, info, aad);
          assert.deepEqual(await node.hpke.open(await node.hpke.importPrivateKey(skBytes), s2.enc, s2.ct, info, aad), pt);
          // Wrong info fails on both.
          const wrongInfo = new Uint8Array([...info, 1]);
          await assert.rejects(node.hpke.open(kn.privateKey, s2.enc, s2.ct, wrongInfo, aad), CryptoError);
          await assert.rejects(def.hpke.open(kd.privateKey, s1.enc, s1.ct, wrongInfo, aad), CryptoError);
        }),
        { numRuns: RUNS / 2 },
      );
    });

    test("HPKE: exporter secrets agree both ways; labeled encryption crosses", async () => {
      const { node, def } = await pair(name);
      const kp = await def.hpke.generateKeyPair();
      const sk = await def.hpke.exportPrivateKey(kp.privateKey);
      const pk = await def.hpke.exportPublicKey(kp.publicKey);
      const kn = await node.hpke.generateKeyPair();
      const skN = await node.hpke.exportPrivateKey(kn.privateKey);
      const pkN = await node.hpke.exportPublicKey(kn.publicKey);
      // A freshly generated node key pair is consistent by the default's rules.
      assert.deepEqual(await def.hpke.exportPublicKey(await def.hpke.importPublicKey(pkN)), pkN);
      await fc.assert(
        fc.asyncProperty(bytes(0, 64), bytes(0, 64), fc.integer({ min: 1, max: 80 }), fc.string({ maxLength: 16 }), bytes(0, 100), async (ctx, info, len, label, pt) => {
          const a = await node.hpke.exportSecret(await node.hpke.importPublicKey(pk), ctx, len, info);
          assert.deepEqual(await def.hpke.importSecret(await def.hpke.importPrivateKey(sk), ctx, a.enc, len, info), a.secret);
          const b = await def.hpke.exportSecret(await def.hpke.importPublicKey(pkN), ctx, len, info);
          assert.deepEqual(await node.hpke.importSecret(await node.hpke.importPrivateKey(skN), ctx, b.enc, len, info), b.secret);
          const c = await encryptWithLabel(await node.hpke.importPublicKey(pk), label, ctx, pt, node.hpke);
          assert.deepEqual(await decryptWithLabel(await def.hpke.importPrivateKey(sk), label, ctx, c.enc, c.ct, def.hpke), pt);
        }),
        { numRuns: RUNS / 2 },
      );
    });
  });
}

test("suite.ts wiring: node is the default provider and is this provider", async () => {
  assert.equal(DEFAULT_PROVIDER, "node");
  const name: CiphersuiteName = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";
  assert.equal(await getSuite(name), await nodeCryptoProvider.getCiphersuiteImpl(getCiphersuiteFromName(name)));
  assert.notEqual(await getSuite(name, "default"), await getSuite(name, "node"));
});

test("coverage: X25519 suites are fully native, others delegate HPKE only", () => {
  const c1 = nodeProviderCoverage(getCiphersuiteFromName("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"));
  assert.deepEqual(c1, { hash: "node", kdf: "node", aead: "node", signature: "node", hpke: "node" });
  const c2 = nodeProviderCoverage(getCiphersuiteFromName("MLS_128_DHKEMP256_AES128GCM_SHA256_P256"));
  assert.equal(c2.hpke, "default");
  assert.equal(c2.signature, "node");
  const c85 = nodeProviderCoverage(getCiphersuiteFromName("MLS_256_MLKEM1024_AES256GCM_SHA512_MLDSA87"));
  assert.equal(c85.signature, "default");
});
