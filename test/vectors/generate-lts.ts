/**
 * One-off generator of test/vectors/lts.json. Run by hand only, never by a test:
 *   npx tsc -p . && node dist/test/vectors/generate-lts.js [--force]
 * It refuses to overwrite the committed file without --force. Every expected value is checked
 * against an independent construction before it is written: codec bytes against encodings
 * spelled out byte by byte here, AEAD against both backends, derivation against both
 * node:crypto HKDF and @noble/hashes HKDF.
 *
 * @module
 */
import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { strict as assert } from "node:assert";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { LongTermCiphersuiteName } from "../../src/constants.js";
import { nobleAead, nodeAead } from "../../src/lts/aead.js";
import { encodeLongTermSecretCiphertext } from "../../src/lts/ciphertext.js";
import type { LongTermSecretCiphertext } from "../../src/lts/ciphertext.js";
import { deriveLongTermNonce, deriveLongTermSecret, longTermKeyLabel, longTermNonceLabel } from "../../src/lts/derive.js";
import { sealLongTerm } from "../../src/lts/encrypt.js";
import { asLongTermEpoch, encodeLongTermSecret, encodeLongTermSecrets } from "../../src/lts/secret.js";
import type { LongTermSecret } from "../../src/lts/secret.js";
import { encodeSecretGroupMessage } from "../../src/message.js";
import { encodeSecretGroupCommit } from "../../src/commit.js";
import {
  HKDF_EXPORTER_DESCRIPTION, SUITES, ciphertextToJson, hex, hkdfExporter, pattern, privateMessage, secretToJson,
} from "./helpers.js";
import type { LtsVectors } from "./helpers.js";

const SUITE_BYTE: Record<LongTermCiphersuiteName, string> = {
  PANDA10_AES128GCM: "01",
  PANDA10_AES256GCM: "02",
  PANDA10_CHACHA20POLY1305: "03",
};
const KEY_SIZE: Record<LongTermCiphersuiteName, number> = { PANDA10_AES128GCM: 16, PANDA10_AES256GCM: 32, PANDA10_CHACHA20POLY1305: 32 };

/** Hand-written QUIC varint (independent of src/codec/tls.ts). */
function varintHex(n: number): string {
  if (n < 0x40) return n.toString(16).padStart(2, "0");
  if (n < 0x4000) return (0x4000 | n).toString(16).padStart(4, "0");
  return (0x80000000 + n).toString(16).padStart(8, "0");
}
const opaqueHex = (b: Uint8Array): string => varintHex(b.length) + hex(b);
const u64Hex = (n: bigint): string => n.toString(16).padStart(16, "0");
const U64_MAX = (1n << 64n) - 1n;

const out = fileURLToPath(new URL("../../../test/vectors/lts.json", import.meta.url));
if (existsSync(out) && !process.argv.includes("--force")) {
  console.error(`${out} exists; the committed vectors are never regenerated silently (pass --force on purpose)`);
  process.exit(1);
}

const groupId = pattern(32, 0xa0);
const te = new TextEncoder();

// ---- LongTermSecret ----
const secrets: LongTermSecret[] = [
  { groupId, ciphersuite: "PANDA10_AES128GCM", epoch: asLongTermEpoch(0), value: pattern(16, 0x10) },
  { groupId, ciphersuite: "PANDA10_AES256GCM", epoch: asLongTermEpoch(1), value: pattern(32, 0x20) },
  { groupId, ciphersuite: "PANDA10_CHACHA20POLY1305", epoch: asLongTermEpoch(U64_MAX), value: pattern(32, 0x40) },
  { groupId: new Uint8Array(0), ciphersuite: "PANDA10_AES128GCM", epoch: asLongTermEpoch(0x0102030405060708n), value: pattern(16, 0xf8) },
  { groupId: pattern(100, 0), ciphersuite: "PANDA10_AES256GCM", epoch: asLongTermEpoch(64), value: pattern(32, 0x80) },
];
const secretHex = (s: LongTermSecret): string => opaqueHex(s.groupId) + SUITE_BYTE[s.ciphersuite] + u64Hex(s.epoch) + opaqueHex(s.value);
const longTermSecret = secrets.map((s) => {
  const encoded = hex(encodeLongTermSecret(s));
  assert.equal(encoded, secretHex(s));
  return { ...secretToJson(s), encoded };
});

// ---- LongTermSecret secrets<V> ----
const lists: LongTermSecret[][] = [[], [secrets[0]!], [secrets[0]!, { ...secrets[1]!, epoch: asLongTermEpoch(1) }, { ...secrets[2]!, epoch: asLongTermEpoch(300) }]];
const longTermSecrets = lists.map((list) => {
  const encoded = hex(encodeLongTermSecrets(list));
  const body = list.map(secretHex).join("");
  assert.equal(encoded, varintHex(body.length / 2) + body);
  return { secrets: list.map(secretToJson), encoded };
});

// ---- LongTermSecretCiphertext ----
const cts: LongTermSecretCiphertext[] = [
  { groupId, epoch: asLongTermEpoch(0), nonce: pattern(12, 0x60), ciphertext: pattern(16, 0x70) },
  { groupId, epoch: asLongTermEpoch(7), nonce: pattern(12, 0x61), ciphertext: pattern(100, 0x00) },
  { groupId: pattern(5, 9), epoch: asLongTermEpoch(U64_MAX), nonce: pattern(12, 0xf0), ciphertext: pattern(20000, 0x33) },
];
const ctHex = (c: LongTermSecretCiphertext): string => opaqueHex(c.groupId) + u64Hex(c.epoch) + opaqueHex(c.nonce) + opaqueHex(c.ciphertext);
const longTermSecretCiphertext = cts.map((c) => {
  const encoded = hex(encodeLongTermSecretCiphertext(c));
  assert.equal(encoded, ctHex(c));
  return { ...ciphertextToJson(c), encoded };
});

// ---- SecretGroupMessage ----
const mlsParts = {
  groupId, epoch: 5n, contentType: 1, authenticatedData: new Uint8Array(0),
  encryptedSenderData: pattern(28, 0x90), ciphertext: pattern(70, 0xb0),
};
const mlsMessage = privateMessage(mlsParts);
assert.equal(
  hex(mlsMessage),
  "0001" + "0002" + opaqueHex(groupId) + u64Hex(5n) + "01" + "00" + opaqueHex(mlsParts.encryptedSenderData) + opaqueHex(mlsParts.ciphertext),
);
const msgMls = hex(encodeSecretGroupMessage({ type: "mls", mlsMessage }));
assert.equal(msgMls, "01" + hex(mlsMessage));
const msgLt = hex(encodeSecretGroupMessage({ type: "long-term", ciphertext: cts[1]! }));
assert.equal(msgLt, "02" + ctHex(cts[1]!));
const secretGroupMessage: LtsVectors["secretGroupMessage"] = [
  { type: "mls", mlsMessage: hex(mlsMessage), encoded: msgMls },
  { type: "long-term", ciphertext: ciphertextToJson(cts[1]!), encoded: msgLt },
];

// ---- SecretGroupCommit ----
const encryptedSecrets = encodeSecretGroupMessage({ type: "mls", mlsMessage });
const mlsCommit = pattern(150, 0x11);
const mlsWelcome = pattern(300, 0x22);
const commitNoWelcome = hex(encodeSecretGroupCommit({ mlsCommit, encryptedSecrets }));
assert.equal(commitNoWelcome, "01" + opaqueHex(mlsCommit) + "00" + opaqueHex(encryptedSecrets));
const commitWelcome = hex(encodeSecretGroupCommit({ mlsCommit, mlsWelcome, encryptedSecrets }));
assert.equal(commitWelcome, "01" + opaqueHex(mlsCommit) + "01" + opaqueHex(mlsWelcome) + opaqueHex(encryptedSecrets));
const secretGroupCommit = [
  { mlsCommit: hex(mlsCommit), encryptedSecrets: hex(encryptedSecrets), encoded: commitNoWelcome },
  { mlsCommit: hex(mlsCommit), mlsWelcome: hex(mlsWelcome), encryptedSecrets: hex(encryptedSecrets), encoded: commitWelcome },
];

// ---- AEAD ----
const aeadInputs: { plaintext: Uint8Array; aad: Uint8Array }[] = [
  { plaintext: new Uint8Array(0), aad: new Uint8Array(0) },
  { plaintext: te.encode("p2panda"), aad: groupId },
  { plaintext: pattern(1000, 0x05), aad: pattern(45, 0x99) },
];
const aead = SUITES.flatMap((suite, si) =>
  aeadInputs.map(({ plaintext, aad }, ii) => {
    const key = pattern(KEY_SIZE[suite], 0x30 + si * 0x40 + ii);
    const nonce = pattern(12, 0xc0 + si * 4 + ii);
    const a = nodeAead.seal(suite, key, nonce, plaintext, aad);
    const b = nobleAead.seal(suite, key, nonce, plaintext, aad);
    assert.deepEqual(a, b);
    assert.equal(a.length, plaintext.length + 16);
    return { suite, key: hex(key), nonce: hex(nonce), plaintext: hex(plaintext), aad: hex(aad), ciphertext: hex(a) };
  }),
);

// ---- labels and derivation ----
const author = pattern(32, 0xe0);
const keyEpochs = [0n, 1n, 10n, 12345678901234567890n, U64_MAX];
const keyLabels = keyEpochs.map((e) => {
  const label = longTermKeyLabel(e);
  assert.equal(label, `long_term_secret${e}`);
  return { epoch: e.toString(), label };
});
const counters = [0n, 1n, 1000n, U64_MAX];
const nonceLabels = counters.map((c) => {
  const label = longTermNonceLabel(author, c);
  assert.equal(label, `long_term_nonce${Buffer.from(author).toString("hex")}${c}`);
  return { author: hex(author), counter: c.toString(), label };
});
const exporterSecret = pattern(32, 0x42);
const exporter = hkdfExporter(exporterSecret);
const nobleExport = (label: string, length: number): Uint8Array => hkdf(sha256, exporterSecret, new Uint8Array(0), te.encode(label), length);
const keys = [];
for (const suite of SUITES) {
  for (const e of [0n, 1n, 99n]) {
    const s = await deriveLongTermSecret(exporter, groupId, suite, e);
    const label = `long_term_secret${e}`;
    assert.deepEqual(s.value, nobleExport(label, KEY_SIZE[suite]));
    keys.push({ ciphersuite: suite, epoch: e.toString(), label, length: KEY_SIZE[suite], value: hex(s.value) });
  }
}
const nonces = [];
for (const c of [0n, 1n, 2n, 1000n]) {
  const n = await deriveLongTermNonce(exporter, author, c);
  const label = `long_term_nonce${hex(author)}${c}`;
  assert.deepEqual(n, nobleExport(label, 12));
  nonces.push({ author: hex(author), counter: c.toString(), label, nonce: hex(n) });
}

// ---- end to end: derive key and nonce, seal with AD = group_id || aad, wrap in a message ----
const sealVectors = [];
for (const [i, suite] of SUITES.entries()) {
  const secret = await deriveLongTermSecret(exporter, groupId, suite, BigInt(i + 1));
  const counter = BigInt(i + 1);
  const nonce = await deriveLongTermNonce(exporter, author, counter);
  const plaintext = te.encode(`field value ${i}`);
  const aad = i === 0 ? new Uint8Array(0) : te.encode(`document:${i}/field`);
  const ct = sealLongTerm(secret, nonce, plaintext, aad);
  const ad = new Uint8Array([...groupId, ...aad]);
  assert.deepEqual(ct.ciphertext, nobleAead.seal(suite, secret.value, nonce, plaintext, ad));
  const message = hex(encodeSecretGroupMessage({ type: "long-term", ciphertext: ct }));
  assert.equal(message, "02" + ctHex(ct));
  sealVectors.push({
    secret: secretToJson(secret), author: hex(author), counter: counter.toString(), nonce: hex(nonce),
    plaintext: hex(plaintext), aad: hex(aad), message,
  });
}

const vectors: LtsVectors = {
  description:
    "Known-answer vectors for secret-group long-term secrets and wire codecs (DESIGN.md section 2). " +
    "Generated once by test/vectors/generate-lts.ts and checked against independent constructions; " +
    "tests compare against this file and never regenerate it. Byte strings are lowercase hex, u64 values decimal strings.",
  longTermSecret,
  longTermSecrets,
  longTermSecretCiphertext,
  secretGroupMessage,
  secretGroupCommit,
  aead,
  keyLabels,
  nonceLabels,
  derivation: { exporter: HKDF_EXPORTER_DESCRIPTION, exporterSecret: hex(exporterSecret), groupId: hex(groupId), keys, nonces },
  sealLongTerm: sealVectors,
};
writeFileSync(out, JSON.stringify(vectors, null, 1) + "\n");
console.log(`wrote ${out}`);
