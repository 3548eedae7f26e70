/**
 * Encrypted operation fields: the AAD binding (author, schema, field, document of an update),
 * value round trips in their original types, and ciphertexts moved anywhere else failing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { equalBytes, toHex } from "../src/bytes.js";
import { CryptoError, DecodeError, ErrorCode, UsageError } from "../src/errors.js";
import { decodeSecretGroupMessage, encodeSecretGroupMessage } from "../src/message.js";
import { openLongTerm, sealLongTerm } from "../src/lts/encrypt.js";
import { asLongTermEpoch } from "../src/lts/secret.js";
import type { LongTermSecret } from "../src/lts/secret.js";
import { encodeCanonical } from "../src/documents/cbor.js";
import { decodeDocument, signDocument } from "../src/documents/document.js";
import type { FieldValue } from "../src/documents/schema.js";
import {
  FIELD_AAD_LABEL,
  decodeFieldPlaintext,
  decryptFields,
  encodeFieldPlaintext,
  encryptFields,
  encryptedFields,
  fieldAad,
  fieldContextOf,
} from "../src/documents/fields.js";
import type { DecryptOne, EncryptOne, FieldContext } from "../src/documents/fields.js";
import { identityFromByte, idOf } from "./documents-support.js";

const groupId = idOf(0x47);
const secret: LongTermSecret = { groupId, ciphersuite: "PANDA10_AES256GCM", epoch: asLongTermEpoch(0), value: new Uint8Array(32).fill(9) };
let counter = 0;
const encryptOne: EncryptOne = async (plaintext, aad) => {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setUint32(8, ++counter);
  return encodeSecretGroupMessage({ type: "long-term", ciphertext: sealLongTerm(secret, nonce, plaintext, aad) });
};
const decryptOne: DecryptOne = async (message, aad) => {
  const decoded = decodeSecretGroupMessage(message);
  if (decoded.type !== "long-term") throw new Error("expected a long-term message");
  return openLongTerm([secret], groupId, decoded.ciphertext, aad);
};

const alice = identityFromByte(1);
const bob = identityFromByte(2);
const create: FieldContext = { author: alice.publicKey, schema: "chat_v1" };
const update: FieldContext = { ...create, documentId: idOf(0xd0) };
const plain = (o: Record<string, FieldValue>): Record<string, FieldValue> => ({ ...o });

function isDecryptionFailure(e: unknown): boolean {
  return e instanceof CryptoError && e.code === ErrorCode.DecryptionFailed;
}

test("fieldAad is length-prefixed, labelled and separates every part", () => {
  const a = fieldAad({ ...create, field: "body" });
  assert.ok(toHex(a).includes(Buffer.from(FIELD_AAD_LABEL).toString("hex")));
  assert.deepEqual(a, fieldAad({ ...create, field: "body" }));
  const variants = [
    fieldAad({ ...create, field: "bod" }),
    fieldAad({ ...create, schema: "chat_v2", field: "body" }),
    fieldAad({ ...create, author: bob.publicKey, field: "body" }),
    fieldAad({ ...update, field: "body" }),
    fieldAad({ ...update, documentId: idOf(0xd1), field: "body" }),
    // shifting a character between schema and field must not collide
    fieldAad({ ...create, schema: "chat_v1b", field: "ody" }),
  ];
  for (const v of variants) assert.ok(!equalBytes(v, a));
  assert.ok(!equalBytes(variants[5] as Uint8Array, fieldAad({ ...create, schema: "chat_v1", field: "bbody" })));
});

test("fieldAad is injective over contexts (property)", () => {
  const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
  const ctx = fc.record({ schema: name, field: name, doc: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }), who: fc.integer({ min: 0, max: 1 }) });
  fc.assert(
    fc.property(ctx, ctx, (x, y) => {
      const make = (c: typeof x): Uint8Array =>
        fieldAad({ author: c.who === 0 ? alice.publicKey : bob.publicKey, schema: c.schema, field: c.field, ...(c.doc === undefined ? {} : { documentId: idOf(c.doc) }) });
      const same = x.schema === y.schema && x.field === y.field && x.doc === y.doc && x.who === y.who;
      assert.equal(equalBytes(make(x), make(y)), same);
    }),
    { numRuns: 300 },
  );
});

test("fieldAad refuses malformed contexts and system schemas", () => {
  assert.throws(() => fieldAad({ ...create, author: new Uint8Array(31), field: "body" }), UsageError);
  assert.throws(() => fieldAad({ ...create, schema: "Chat", field: "body" }), UsageError);
  assert.throws(() => fieldAad({ ...create, schema: "secret_group_commit_v1", field: "body" }), UsageError);
  assert.throws(() => fieldAad({ ...create, field: "a/b" }), UsageError);
  assert.throws(() => fieldAad({ ...create, documentId: new Uint8Array(33), field: "body" }), UsageError);
});

test("field values round-trip in their original types; other fields are untouched", async () => {
  const fields: Record<string, FieldValue> = {
    bytes: new Uint8Array([0, 1, 2, 255]),
    empty: new Uint8Array(0),
    text: "grüße 👋",
    blank: "",
    int: 42,
    negative: -7,
    float: 1.5,
    yes: true,
    no: false,
    nothing: null,
    room: "lobby",
  };
  const names = Object.keys(fields).filter((n) => n !== "room");
  const enc = await encryptFields(update, fields, names, encryptOne);
  assert.equal(enc["room"], "lobby");
  for (const n of names) assert.ok(enc[n] instanceof Uint8Array && decodeSecretGroupMessage(enc[n]).type === "long-term");
  assert.deepEqual(encryptedFields(enc).map((f) => f.name), [...names].sort());
  assert.ok(encryptedFields(enc).every((f) => equalBytes(f.groupId, groupId) && f.scheme === "long-term" && f.epoch === 0n));
  const dec = await decryptFields(update, enc, decryptOne);
  assert.deepEqual(plain(dec), fields);
  assert.ok(dec["bytes"] instanceof Uint8Array);
});

test("a signed update document decrypts through fieldContextOf", async () => {
  const enc = await encryptFields(update, { body: "hello", n: 3 }, ["body"], encryptOne);
  const doc = decodeDocument(signDocument(alice, "chat_v1", enc, { timestamp: 1, documentId: update.documentId as Uint8Array }).bytes);
  assert.deepEqual(plain(await decryptFields(fieldContextOf(doc), doc.fields, decryptOne)), { body: "hello", n: 3 });
  // the same ciphertext in a create operation (no document id) is refused
  const asCreate = decodeDocument(signDocument(alice, "chat_v1", enc, { timestamp: 2 }).bytes);
  await assert.rejects(decryptFields(fieldContextOf(asCreate), asCreate.fields, decryptOne), isDecryptionFailure);
});

test("a ciphertext moved to another field, schema, author or document fails to decrypt", async () => {
  const enc = await encryptFields(update, { body: "secret", title: "t" }, ["body", "title"], encryptOne);
  const body = enc["body"] as Uint8Array;
  await assert.rejects(decryptFields(update, { title: body }, decryptOne), isDecryptionFailure); // another field
  await assert.rejects(decryptFields(update, { swapped: enc["title"] as Uint8Array, body }, decryptOne, ["swapped"]), isDecryptionFailure);
  await assert.rejects(decryptFields({ ...update, schema: "chat_v2" }, { body }, decryptOne), isDecryptionFailure);
  await assert.rejects(decryptFields({ ...update, author: bob.publicKey }, { body }, decryptOne), isDecryptionFailure);
  await assert.rejects(decryptFields({ ...update, documentId: idOf(0xd1) }, { body }, decryptOne), isDecryptionFailure);
  await assert.rejects(decryptFields(create, { body }, decryptOne), isDecryptionFailure);
  // and in place it still works
  assert.equal((await decryptFields(update, { body }, decryptOne))["body"], "secret");
});

test("encryptFields and decryptFields refuse unknown, duplicate and plain fields", async () => {
  await assert.rejects(encryptFields(create, { a: 1 }, ["b"], encryptOne), UsageError);
  await assert.rejects(encryptFields(create, { a: 1 }, ["a", "a"], encryptOne), UsageError);
  await assert.rejects(encryptFields(create, { a: Number.NaN }, ["a"], encryptOne), UsageError);
  await assert.rejects(encryptFields({ ...create, schema: "key_package_v1" }, { a: 1 }, ["a"], encryptOne), UsageError);
  await assert.rejects(decryptFields(create, { a: "text" }, decryptOne, ["a"]), UsageError);
  await assert.rejects(decryptFields(create, { a: new Uint8Array([2]) }, decryptOne, ["a", "a"]), UsageError);
  // a name the fields do not hold, an inherited one included
  await assert.rejects(decryptFields(create, { a: new Uint8Array([2]) }, decryptOne, ["b"]), UsageError);
  await assert.rejects(encryptFields(create, { a: 1 }, ["toString"], encryptOne), UsageError);
  await assert.rejects(decryptFields(create, { a: new Uint8Array([2]) }, decryptOne, ["toString"]), UsageError);
  // plain byte fields that are not SecretGroupMessages are not mistaken for ciphertexts
  assert.deepEqual(encryptedFields({ raw: new Uint8Array([2, 0, 1]), text: "x", one: new Uint8Array([1]) }), []);
});

test("field plaintexts: fixed encodings, and only DecodeError on bad bytes", () => {
  assert.deepEqual(encodeFieldPlaintext(new Uint8Array([7])), new Uint8Array([0, 7]));
  assert.deepEqual(encodeFieldPlaintext("hi"), new Uint8Array([1, 0x62, 0x68, 0x69]));
  assert.deepEqual(encodeFieldPlaintext(null), new Uint8Array([1, 0xf6]));
  const bad = [
    new Uint8Array(0),
    new Uint8Array([2, 0]),
    new Uint8Array([1]),
    new Uint8Array([1, 0x41, 7]), // CBOR bytes under the scalar tag: bytes have tag 0
    Uint8Array.from([1, ...encodeCanonical({ a: 1 })]),
    Uint8Array.from([1, ...encodeCanonical([1])]),
    new Uint8Array([1, 0x18, 0x05]), // non-minimal integer
    new Uint8Array([1, 0xf9, 0x3e, 0x00]), // 16-bit float
    new Uint8Array([1, 0x61, 0x61, 0x00]), // trailing byte
  ];
  for (const b of bad) assert.throws(() => decodeFieldPlaintext(b), DecodeError);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 24 }), (b) => {
      try {
        const v = decodeFieldPlaintext(b);
        assert.deepEqual(encodeFieldPlaintext(v), b); // one encoding per value
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
  const scalar = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0) && (!Number.isInteger(d) || Number.isSafeInteger(d))), fc.uint8Array());
  fc.assert(fc.property(scalar, (v) => assert.deepEqual(decodeFieldPlaintext(encodeFieldPlaintext(v)), v)), { numRuns: 500 });
});
