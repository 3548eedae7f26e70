import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import { decode as cborDecode } from "cborg";
import { fromHex, toHex, utf8 } from "../src/bytes.js";
import { SYNC_VERIFY_MAX_BYTES } from "../src/constants.js";
import { decodeCanonical, encodeCanonical } from "../src/documents/cbor.js";
import { decodeDocument, decodeDocumentDeferred, documentIdOf, signDocument } from "../src/documents/document.js";
import { isAcceptablePublicKey, verifyEd25519 } from "../src/documents/ed25519.js";
import { MAX_DOCUMENT_SIZE, MAX_FIELDS } from "../src/documents/schema.js";
import type { FieldValue } from "../src/documents/schema.js";
import { DecodeError, ErrorCode, SecretGroupError, UsageError, ValidationError } from "../src/errors.js";
import { hash, idOf, identityFromByte, payloadOf, rawDocument, signedMessage } from "./documents-support.js";

interface VectorCase {
  name: string; seedByte: number; schema: string; timestamp: number; documentId?: string;
  fields: Record<string, unknown>; publicKey: string; payload: string; signature: string; bytes: string; id: string;
}
const vectors = JSON.parse(readFileSync(new URL("../../test/vectors/documents.json", import.meta.url), "utf8")) as { cases: VectorCase[] };

function fieldFromJson(value: unknown): FieldValue {
  if (value !== null && typeof value === "object" && "$bytes" in value) return fromHex((value as { $bytes: string }).$bytes);
  return value as FieldValue;
}

const alice = identityFromByte(1);
const bob = identityFromByte(2);

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof ValidationError && e.code === code, `expected ${code}`);
}

test("KAT: stored vectors are reproduced byte for byte and decode back", () => {
  assert.ok(vectors.cases.length >= 6);
  for (const k of vectors.cases) {
    const identity = identityFromByte(k.seedByte);
    assert.equal(toHex(identity.publicKey), k.publicKey, k.name);
    const fields = Object.fromEntries(Object.entries(k.fields).map(([n, v]) => [n, fieldFromJson(v)]));
    const options = k.documentId === undefined ? { timestamp: k.timestamp } : { timestamp: k.timestamp, documentId: fromHex(k.documentId) };
    const doc = signDocument(identity, k.schema, fields, options);
    assert.equal(toHex(doc.bytes), k.bytes, `${k.name}: bytes`);
    assert.equal(toHex(doc.id), k.id, `${k.name}: id`);
    // Independent checks: envelope layout with plain cborg, id with BLAKE3, signature with noble.
    const envelope = cborDecode(fromHex(k.bytes)) as { payload: Uint8Array; signature: Uint8Array };
    assert.deepEqual(Object.keys(envelope).sort(), ["payload", "signature"]);
    assert.equal(toHex(envelope.payload), k.payload);
    assert.equal(toHex(envelope.signature), k.signature);
    assert.equal(toHex(hash(fromHex(k.bytes))), k.id);
    const message = new Uint8Array([...utf8("p2panda-secret-group/document/v1"), 0, ...envelope.payload]);
    assert.ok(ed25519.verify(envelope.signature, message, identity.publicKey, { zip215: false }), `${k.name}: noble verifies`);
    const payload = cborDecode(envelope.payload) as Record<string, unknown>;
    assert.equal(payload["v"], 1);
    assert.equal(payload["schema"], k.schema);
    assert.equal(payload["timestamp"], k.timestamp);
    const decoded = decodeDocument(fromHex(k.bytes));
    assert.equal(toHex(decoded.id), k.id);
    assert.equal(decoded.schema, k.schema);
    assert.equal(decoded.timestamp, k.timestamp);
    assert.deepEqual({ ...decoded.fields }, fields);
    assert.equal(decoded.documentId === undefined ? undefined : toHex(decoded.documentId), k.documentId);
  }
});

test("KAT: the envelope keys and payload keys come in canonical (bytewise) order", () => {
  const k = vectors.cases[0]!;
  // a2 | 67 "payload" | 58 len | ... : a two-entry map whose first key is "payload".
  assert.ok(k.bytes.startsWith("a2677061796c6f6164"));
  // payload: a5 | 61 "v" 01 | 66 "author" ...
  assert.ok(k.payload.startsWith("a56176016661757468" + "6f72"));
});

test("round trip of an application document keeps every value type", () => {
  const fields = { b: new Uint8Array([0, 1, 2]), s: "zwölf ✓ 😀", i: -123456789, f: 3.25, t: true, f0: false, n: null, e: new Uint8Array(0), z: 0 };
  const doc = signDocument(alice, "chat_v1", fields, { timestamp: 5 });
  const back = decodeDocument(doc.bytes);
  assert.deepEqual({ ...back.fields }, fields);
  assert.deepEqual(back.id, doc.id);
  assert.deepEqual(back.author, alice.publicKey);
  assert.equal(back.timestamp, 5);
  assert.equal(back.documentId, undefined);
  assert.deepEqual(documentIdOf(back), back.id);
  assert.ok(Object.isFrozen(back) && Object.isFrozen(back.fields));
  assert.equal(Object.getPrototypeOf(back.fields), null);
});

test("update operations carry document_id and documentIdOf returns it", () => {
  const create = signDocument(alice, "chat_v1", { body: "a" });
  const update = signDocument(alice, "chat_v1", { body: "b" }, { documentId: create.id });
  const back = decodeDocument(update.bytes);
  assert.deepEqual(back.documentId, create.id);
  assert.deepEqual(documentIdOf(back), create.id);
  assert.notDeepEqual(back.id, create.id);
});

test("signing is deterministic and the timestamp defaults to now", () => {
  const a = signDocument(alice, "x", { a: 1 }, { timestamp: 9 });
  const b = signDocument(alice, "x", { a: 1 }, { timestamp: 9 });
  assert.deepEqual(a.bytes, b.bytes);
  const before = Date.now();
  const c = signDocument(alice, "x", {});
  assert.ok(c.timestamp >= before && c.timestamp <= Date.now());
});

test("field order given to signDocument does not change the bytes", () => {
  const a = signDocument(alice, "x", { a: 1, bb: 2, c: "3" }, { timestamp: 1 });
  const b = signDocument(alice, "x", { c: "3", bb: 2, a: 1 }, { timestamp: 1 });
  assert.deepEqual(a.bytes, b.bytes);
});

test("decoding copies: mutating the input afterwards does not change the document", () => {
  const doc = signDocument(alice, "x", { b: new Uint8Array([1, 2, 3]) }, { timestamp: 1 });
  const input = new Uint8Array(doc.bytes);
  const back = decodeDocument(input);
  input.fill(0);
  assert.deepEqual(back.fields["b"], new Uint8Array([1, 2, 3]));
  assert.deepEqual(back.bytes, doc.bytes);
});

test("signing copies the caller's byte arrays", () => {
  const body = new Uint8Array([1, 2, 3]);
  const doc = signDocument(alice, "x", { body }, { timestamp: 1 });
  body.fill(9);
  assert.deepEqual(doc.fields["body"], new Uint8Array([1, 2, 3]));
  assert.deepEqual(decodeDocument(doc.bytes).fields["body"], new Uint8Array([1, 2, 3]));
});

test("signDocument refuses bad input with INVALID_ARGUMENT", () => {
  const bad: Array<[string, () => unknown]> = [
    ["schema", () => signDocument(alice, "Bad", {})],
    ["long schema", () => signDocument(alice, "a".repeat(65), {})],
    ["field name", () => signDocument(alice, "x", { Body: 1 })],
    ["field name digit", () => signDocument(alice, "x", { "1a": 1 })],
    ["too many fields", () => signDocument(alice, "x", Object.fromEntries(Array.from({ length: MAX_FIELDS + 1 }, (_, i) => [`f${i}`, i])))],
    ["NaN", () => signDocument(alice, "x", { a: Number.NaN })],
    ["Infinity", () => signDocument(alice, "x", { a: Number.POSITIVE_INFINITY })],
    ["-0", () => signDocument(alice, "x", { a: -0 })],
    ["unsafe int", () => signDocument(alice, "x", { a: 2 ** 60 })],
    ["array", () => signDocument(alice, "x", { a: [1] as unknown as FieldValue })],
    ["object", () => signDocument(alice, "x", { a: {} as unknown as FieldValue })],
    ["undefined", () => signDocument(alice, "x", { a: undefined as unknown as FieldValue })],
    ["lone surrogate", () => signDocument(alice, "x", { a: "\uD800x" })],
    ["timestamp", () => signDocument(alice, "x", {}, { timestamp: -1 })],
    ["float timestamp", () => signDocument(alice, "x", {}, { timestamp: 1.5 })],
    ["documentId size", () => signDocument(alice, "x", {}, { documentId: new Uint8Array(31) })],
    ["system update", () => signDocument(alice, "secret_group_v1", { lts_ciphersuite: "PANDA10_AES128GCM" }, { documentId: idOf(1) })],
    ["mismatched key pair", () => signDocument({ publicKey: bob.publicKey, secretKey: alice.secretKey }, "x", {})],
    ["short seed", () => signDocument({ publicKey: alice.publicKey, secretKey: new Uint8Array(31) }, "x", {})],
    ["too large", () => signDocument(alice, "x", { a: new Uint8Array(MAX_DOCUMENT_SIZE) })],
  ];
  for (const [name, fn] of bad) {
    assert.throws(fn, (e: unknown) => e instanceof UsageError && e.code === ErrorCode.InvalidArgument, name);
  }
});

test("tampering: any flipped signature bit, author swap or payload change is refused", () => {
  const doc = signDocument(alice, "chat_v1", { body: new Uint8Array(40).fill(7), n: 3 }, { timestamp: 77 });
  const envelope = cborDecode(doc.bytes) as { payload: Uint8Array; signature: Uint8Array };
  for (let bit = 0; bit < 512; bit += 7) {
    const signature = new Uint8Array(envelope.signature);
    signature[bit >> 3]! ^= 1 << (bit & 7);
    expectCode(() => decodeDocument(encodeCanonical({ payload: envelope.payload, signature })), ErrorCode.InvalidSignature);
  }
  // Same payload except the author: the signature does not verify under bob's key.
  const swapped = encodeCanonical({ ...payloadOf(bob, "chat_v1", { body: new Uint8Array(40).fill(7), n: 3 }, 77) });
  expectCode(() => decodeDocument(encodeCanonical({ payload: swapped, signature: envelope.signature })), ErrorCode.InvalidSignature);
  // A changed field value (still canonical) under the old signature.
  const changed = encodeCanonical(payloadOf(alice, "chat_v1", { body: new Uint8Array(40).fill(7), n: 4 }, 77));
  expectCode(() => decodeDocument(encodeCanonical({ payload: changed, signature: envelope.signature })), ErrorCode.InvalidSignature);
  // Every single byte of the whole encoding flipped: typed error, never a document with the same id.
  for (let i = 0; i < doc.bytes.length; i++) {
    const bytes = new Uint8Array(doc.bytes);
    bytes[i]! ^= 0x01;
    assert.throws(() => decodeDocument(bytes), (e: unknown) => e instanceof ValidationError, `byte ${i}`);
  }
});

test("documents of growing and shrinking sizes around SYNC_VERIFY_MAX_BYTES, valid and forged in turn, each get their own answer (the checks' reused buffer)", async () => {
  const sizes = [10, 3000, SYNC_VERIFY_MAX_BYTES - 200, SYNC_VERIFY_MAX_BYTES + 500, 5, 8000, 40, SYNC_VERIFY_MAX_BYTES - 120, 1];
  for (const [i, size] of sizes.entries()) {
    const doc = signDocument(alice, "chat_v1", { body: new Uint8Array(size).fill(i), n: i }, { timestamp: 77 });
    assert.deepEqual(decodeDocument(doc.bytes).id, doc.id, `valid, ${size} bytes`);
    const { verified } = decodeDocumentDeferred(doc.bytes);
    await verified;
    const envelope = cborDecode(doc.bytes) as { payload: Uint8Array; signature: Uint8Array };
    const signature = new Uint8Array(envelope.signature);
    signature[5]! ^= 0x20;
    const forgedBytes = encodeCanonical({ payload: envelope.payload, signature });
    expectCode(() => decodeDocument(forgedBytes), ErrorCode.InvalidSignature);
    await assert.rejects(decodeDocumentDeferred(forgedBytes).verified, (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.InvalidSignature, `forged, ${size} bytes`);
  }
});

test("signature without the context prefix (a raw Ed25519 signature of the payload) is refused", () => {
  const payload = encodeCanonical(payloadOf(alice, "x", {}));
  const signature = ed25519.sign(payload, alice.secretKey);
  expectCode(() => decodeDocument(encodeCanonical({ payload, signature })), ErrorCode.InvalidSignature);
  assert.ok(decodeDocument(encodeCanonical({ payload, signature: ed25519.sign(signedMessage(payload), alice.secretKey) })));
});

test("malleated signature S + L is refused (node:crypto checks S < L)", () => {
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const payload = encodeCanonical(payloadOf(alice, "x", {}));
  const signature = ed25519.sign(signedMessage(payload), alice.secretKey);
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(signature[32 + i]!);
  s += L;
  assert.ok(s < 2n ** 256n);
  const forged = new Uint8Array(signature);
  for (let i = 0; i < 32; i++) forged[32 + i] = Number((s >> BigInt(8 * i)) & 0xffn);
  expectCode(() => decodeDocument(encodeCanonical({ payload, signature: forged })), ErrorCode.InvalidSignature);
});

test("small-order and non-canonical author keys are refused; the blocklist matches noble", () => {
  // Walk the torsion subgroup from an order-8 point: all eight must be blocked, in both x signs.
  const order8 = ed25519.Point.fromHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05");
  assert.ok(order8.isSmallOrder());
  let point = ed25519.Point.ZERO;
  for (let k = 0; k < 8; k++) {
    const bytes = point.toBytes();
    assert.equal(isAcceptablePublicKey(bytes), false, `torsion point ${k}`);
    const flipped = new Uint8Array(bytes);
    flipped[31]! ^= 0x80;
    assert.equal(isAcceptablePublicKey(flipped), false, `torsion point ${k} with sign bit`);
    point = point.add(order8);
  }
  assert.ok(point.equals(ed25519.Point.ZERO));
  const nonCanonical = new Uint8Array(32).fill(0xff);
  nonCanonical[31] = 0x7f;
  nonCanonical[0] = 0xee; // y = p + 1
  assert.equal(isAcceptablePublicKey(nonCanonical), false);
  assert.equal(isAcceptablePublicKey(alice.publicKey), true);
  // A document claiming a small-order author never verifies.
  const zeroKey = new Uint8Array(32);
  zeroKey[0] = 1; // identity point
  const payload = encodeCanonical({ v: 1, author: zeroKey, fields: {}, schema: "x", timestamp: 1 });
  expectCode(() => decodeDocument(encodeCanonical({ payload, signature: new Uint8Array(64) })), ErrorCode.InvalidSignature);
  assert.equal(verifyEd25519(zeroKey, payload, new Uint8Array(64)), false);
});

test("non-canonical CBOR is a DecodeError, even with a valid signature inside", () => {
  const doc = signDocument(alice, "x", { a: 1 }, { timestamp: 1 });
  const hex = toHex(doc.bytes);
  const cases: Record<string, string> = {
    "trailing byte": hex + "00",
    "indefinite map": "bf" + hex.slice(2) + "ff",
    "tag": "d818" + hex,
    "undefined": "f7",
    "non-minimal length": hex.replace(/^a2677061796c6f616458/, "a2677061796c6f616459" + "00"),
    "duplicate key": "a3" + "677061796c6f6164" + "4100" + hex.slice(2),
    "array envelope": "82" + "4100" + "4100",
    "empty": "",
  };
  const envelope = cborDecode(doc.bytes) as { payload: Uint8Array; signature: Uint8Array };
  const payloadItem = toHex(encodeCanonical(envelope.payload));
  const signatureItem = toHex(encodeCanonical(envelope.signature));
  assert.equal(hex, "a2" + "677061796c6f6164" + payloadItem + "697369676e6174757265" + signatureItem);
  cases["envelope keys reversed"] = "a2" + "697369676e6174757265" + signatureItem + "677061796c6f6164" + payloadItem;
  for (const [name, h] of Object.entries(cases)) {
    assert.throws(() => decodeDocument(fromHex(h)), DecodeError, name);
  }
  // Canonical checks of the decoder itself.
  assert.throws(() => decodeCanonical(fromHex("a2616202616101")), DecodeError, "unsorted keys"); // {b:2, a:1}
  assert.throws(() => decodeCanonical(fromHex("f93e00")), DecodeError, "float16 1.5"); // canonical is float64
  assert.throws(() => decodeCanonical(fromHex("1801")), DecodeError, "non-minimal int");
  assert.throws(() => decodeCanonical(fromHex("62c328")), DecodeError, "invalid UTF-8");
  assert.throws(() => decodeCanonical(fromHex("a2616101616102")), DecodeError, "duplicate key");
  assert.throws(() => decodeCanonical(fromHex("1b0020000000000000")), DecodeError, "bigint");
  assert.throws(() => decodeCanonical(fromHex("fb7ff0000000000000")), DecodeError, "infinity");
  assert.throws(() => decodeCanonical(fromHex("81".repeat(100_000) + "00")), DecodeError, "deep nesting");
  assert.deepEqual(decodeCanonical(fromHex("fb3ff8000000000000")), 1.5);
});

test("decodeDocument refuses oversized input before parsing", () => {
  assert.throws(() => decodeDocument(new Uint8Array(MAX_DOCUMENT_SIZE + 1)), DecodeError);
  assert.throws(() => decodeDocument("not bytes" as unknown as Uint8Array), DecodeError);
});

test("signed but invalid payloads: DecodeError for structure, INVALID_DOCUMENT for content", () => {
  const base = payloadOf(alice, "x", { a: 1 });
  const decodeErrors: Record<string, unknown> = {
    "unknown key": { ...base, extra: 1 },
    "version 2": { ...base, v: 2 },
    "no version": { author: base["author"], fields: {}, schema: "x", timestamp: 1 },
    "short author": { ...base, author: new Uint8Array(31) },
    "no fields": { v: 1, author: alice.publicKey, schema: "x", timestamp: 1 },
    "payload not a map": [1, 2],
  };
  for (const [name, value] of Object.entries(decodeErrors)) {
    assert.throws(() => decodeDocument(rawDocument(alice, value)), DecodeError, name);
  }
  const invalid: Record<string, unknown> = {
    "schema case": { ...base, schema: "X" },
    "schema type": { ...base, schema: 7 },
    "negative timestamp": { ...base, timestamp: -1 },
    "string timestamp": { ...base, timestamp: "1" },
    "float timestamp": { ...base, timestamp: 1.5 },
    "fields array": { ...base, fields: [1] },
    "nested map value": { ...base, fields: { a: { b: 1 } } },
    "array value": { ...base, fields: { a: [1] } },
    "bad field name": { ...base, fields: { A: 1 } },
    "too many fields": { ...base, fields: Object.fromEntries(Array.from({ length: MAX_FIELDS + 1 }, (_, i) => [`f${i}`, i])) },
    "document_id size": { ...base, document_id: new Uint8Array(3) },
    "document_id on system schema": { ...payloadOf(alice, "secret_group_v1", { lts_ciphersuite: "PANDA10_AES128GCM" }), document_id: idOf(1) },
  };
  for (const [name, value] of Object.entries(invalid)) {
    expectCode(() => decodeDocument(rawDocument(alice, value)), ErrorCode.InvalidDocument);
    void name;
  }
  // Signed by someone other than the claimed author: a signature failure, not a content one.
  expectCode(() => decodeDocument(rawDocument(alice, { ...base, fields: { A: 1 } }, bob)), ErrorCode.InvalidSignature);
});

test("every error decodeDocument throws is a SecretGroupError subclass", () => {
  for (const bytes of [new Uint8Array([0xa0]), new Uint8Array([0xff]), fromHex("a1617801")]) {
    assert.throws(() => decodeDocument(bytes), SecretGroupError);
  }
});
