/**
 * Known-answer tests: every codec, the AEAD of the three suites on both backends, the exporter
 * labels and the derivation against test/vectors/lts.json (committed, never regenerated here),
 * plus published AES-GCM (McGrew-Viega test cases 4 and 16) and RFC 8439 section 2.8.2 vectors.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { nobleAead, nodeAead } from "../src/lts/aead.js";
import { decodeLongTermSecretCiphertext, encodeLongTermSecretCiphertext } from "../src/lts/ciphertext.js";
import { deriveLongTermNonce, deriveLongTermSecret, longTermKeyLabel, longTermNonceLabel } from "../src/lts/derive.js";
import { openLongTerm, sealLongTerm } from "../src/lts/encrypt.js";
import { decodeLongTermSecret, decodeLongTermSecrets, encodeLongTermSecret, encodeLongTermSecrets } from "../src/lts/secret.js";
import { decodeSecretGroupMessage, encodeSecretGroupMessage } from "../src/message.js";
import type { SecretGroupMessage } from "../src/message.js";
import { decodeSecretGroupCommit, encodeSecretGroupCommit } from "../src/commit.js";
import type { SecretGroupCommit } from "../src/commit.js";
import { ciphertextFromJson, hex, hkdfExporter, loadVectors, secretFromJson, unhex } from "./vectors/helpers.js";

const V = loadVectors();
const BACKENDS = [nodeAead, nobleAead];

describe("known-answer vectors: codecs", () => {
  it("LongTermSecret", () => {
    assert.ok(V.longTermSecret.length >= 5);
    for (const v of V.longTermSecret) {
      const s = secretFromJson(v);
      assert.equal(hex(encodeLongTermSecret(s)), v.encoded);
      assert.deepEqual(decodeLongTermSecret(unhex(v.encoded)), s);
    }
  });

  it("LongTermSecret secrets<V>", () => {
    assert.ok(V.longTermSecrets.some((v) => v.secrets.length === 0) && V.longTermSecrets.some((v) => v.secrets.length === 3));
    for (const v of V.longTermSecrets) {
      const list = v.secrets.map(secretFromJson);
      assert.equal(hex(encodeLongTermSecrets(list)), v.encoded);
      // the encoder sorts: a reversed list gives the same bytes
      assert.equal(hex(encodeLongTermSecrets([...list].reverse())), v.encoded);
      assert.deepEqual(decodeLongTermSecrets(unhex(v.encoded)), list);
    }
  });

  it("LongTermSecretCiphertext", () => {
    for (const v of V.longTermSecretCiphertext) {
      const c = ciphertextFromJson(v);
      assert.equal(hex(encodeLongTermSecretCiphertext(c)), v.encoded);
      assert.deepEqual(decodeLongTermSecretCiphertext(unhex(v.encoded)), c);
    }
  });

  it("SecretGroupMessage of both types", () => {
    assert.deepEqual(new Set(V.secretGroupMessage.map((v) => v.type)), new Set(["mls", "long-term"]));
    for (const v of V.secretGroupMessage) {
      const msg: SecretGroupMessage =
        v.type === "mls" ? { type: "mls", mlsMessage: unhex(v.mlsMessage) } : { type: "long-term", ciphertext: ciphertextFromJson(v.ciphertext) };
      assert.equal(hex(encodeSecretGroupMessage(msg)), v.encoded);
      assert.deepEqual(decodeSecretGroupMessage(unhex(v.encoded)), msg);
    }
  });

  it("SecretGroupCommit with and without welcome", () => {
    assert.deepEqual(V.secretGroupCommit.map((v) => v.mlsWelcome !== undefined), [false, true]);
    for (const v of V.secretGroupCommit) {
      const commit: SecretGroupCommit = {
        mlsCommit: unhex(v.mlsCommit),
        ...(v.mlsWelcome === undefined ? {} : { mlsWelcome: unhex(v.mlsWelcome) }),
        encryptedSecrets: unhex(v.encryptedSecrets),
      };
      assert.equal(hex(encodeSecretGroupCommit(commit)), v.encoded);
      const decoded = decodeSecretGroupCommit(unhex(v.encoded));
      assert.deepEqual(decoded, commit);
      assert.equal("mlsWelcome" in decoded, v.mlsWelcome !== undefined);
    }
  });
});

describe("known-answer vectors: AEAD", () => {
  it("all three suites seal and open identically on both backends", () => {
    assert.deepEqual(new Set(V.aead.map((v) => v.suite)), new Set(["PANDA10_AES128GCM", "PANDA10_AES256GCM", "PANDA10_CHACHA20POLY1305"]));
    for (const v of V.aead) {
      for (const b of BACKENDS) {
        const ct = b.seal(v.suite, unhex(v.key), unhex(v.nonce), unhex(v.plaintext), unhex(v.aad));
        assert.equal(hex(ct), v.ciphertext, `${b.name} ${v.suite}`);
        assert.equal(hex(b.open(v.suite, unhex(v.key), unhex(v.nonce), unhex(v.ciphertext), unhex(v.aad))), v.plaintext);
      }
    }
  });

  // Published vectors, hard-coded so they do not depend on anything we generated.
  const GCM_P =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
  const published = [
    {
      name: "AES-128-GCM, McGrew-Viega GCM spec test case 4",
      suite: "PANDA10_AES128GCM" as const,
      key: "feffe9928665731c6d6a8f9467308308",
      nonce: "cafebabefacedbaddecaf888",
      aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
      plaintext: GCM_P,
      ciphertext:
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
      tag: "5bc94fbc3221a5db94fae95ae7121a47",
    },
    {
      name: "AES-256-GCM, McGrew-Viega GCM spec test case 16",
      suite: "PANDA10_AES256GCM" as const,
      key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
      nonce: "cafebabefacedbaddecaf888",
      aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
      plaintext: GCM_P,
      ciphertext:
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
      tag: "76fc6ece0f4e1768cddf8853bb2d551b",
    },
    {
      name: "ChaCha20-Poly1305, RFC 8439 section 2.8.2",
      suite: "PANDA10_CHACHA20POLY1305" as const,
      key: "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
      nonce: "070000004041424344454647",
      aad: "50515253c0c1c2c3c4c5c6c7",
      plaintext: hex(
        new TextEncoder().encode(
          "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
        ),
      ),
      ciphertext:
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b" +
        "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc" +
        "3ff4def08e4b7a9de576d26586cec64b6116",
      tag: "1ae10b594f09e26a7e902ecbd0600691",
    },
  ];
  for (const p of published) {
    it(`published vector: ${p.name}`, () => {
      for (const b of BACKENDS) {
        assert.equal(hex(b.seal(p.suite, unhex(p.key), unhex(p.nonce), unhex(p.plaintext), unhex(p.aad))), p.ciphertext + p.tag);
        assert.equal(hex(b.open(p.suite, unhex(p.key), unhex(p.nonce), unhex(p.ciphertext + p.tag), unhex(p.aad))), p.plaintext);
      }
    });
  }
});

describe("known-answer vectors: labels and derivation", () => {
  it("key labels", () => {
    for (const v of V.keyLabels) assert.equal(longTermKeyLabel(BigInt(v.epoch)), v.label);
    assert.ok(V.keyLabels.some((v) => v.label === "long_term_secret0"));
  });

  it("nonce labels", () => {
    for (const v of V.nonceLabels) assert.equal(longTermNonceLabel(unhex(v.author), BigInt(v.counter)), v.label);
  });

  it("keys and nonces from a fixed HKDF exporter", async () => {
    const exporter = hkdfExporter(unhex(V.derivation.exporterSecret));
    const groupId = unhex(V.derivation.groupId);
    assert.equal(V.derivation.keys.length, 9);
    for (const v of V.derivation.keys) {
      const calls: [string, number][] = [];
      const s = await deriveLongTermSecret(async (l, n) => (calls.push([l, n]), exporter(l, n)), groupId, v.ciphersuite, BigInt(v.epoch));
      assert.deepEqual(calls, [[v.label, v.length]]);
      assert.equal(hex(s.value), v.value);
      assert.equal(s.epoch, BigInt(v.epoch));
      assert.equal(s.ciphersuite, v.ciphersuite);
      assert.deepEqual(s.groupId, groupId);
    }
    for (const v of V.derivation.nonces) {
      const calls: [string, number][] = [];
      const n = await deriveLongTermNonce(async (l, len) => (calls.push([l, len]), exporter(l, len)), unhex(v.author), BigInt(v.counter));
      assert.deepEqual(calls, [[v.label, 12]]);
      assert.equal(hex(n), v.nonce);
    }
  });

  it("end to end: derived key and nonce, sealed with AD = group_id || aad, wrapped in a message", async () => {
    const exporter = hkdfExporter(unhex(V.derivation.exporterSecret));
    for (const v of V.sealLongTerm) {
      const secret = secretFromJson(v.secret);
      const derived = await deriveLongTermSecret(exporter, secret.groupId, secret.ciphersuite, secret.epoch);
      assert.deepEqual(derived, secret);
      const nonce = await deriveLongTermNonce(exporter, unhex(v.author), BigInt(v.counter));
      assert.equal(hex(nonce), v.nonce);
      for (const b of BACKENDS) {
        const ct = sealLongTerm(secret, nonce, unhex(v.plaintext), unhex(v.aad), b);
        assert.equal(hex(encodeSecretGroupMessage({ type: "long-term", ciphertext: ct })), v.message);
      }
      const msg = decodeSecretGroupMessage(unhex(v.message));
      assert.equal(msg.type, "long-term");
      if (msg.type !== "long-term") return;
      for (const b of BACKENDS) assert.equal(hex(openLongTerm([secret], secret.groupId, msg.ciphertext, unhex(v.aad), b)), v.plaintext);
    }
  });
});
