import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { encodeCanonical } from "../src/documents/cbor.js";
import { decodeDocument, signDocument } from "../src/documents/document.js";
import type { SignedDocument } from "../src/documents/document.js";
import type { FieldValue } from "../src/documents/schema.js";
import { SecretGroupError, ValidationError } from "../src/errors.js";
import { identityFromByte, payloadOf, rawDocument } from "./documents-support.js";

const identity = identityFromByte(4);

const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/);
const fieldValue: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0) && (!Number.isInteger(d) || Number.isSafeInteger(d))),
  fc.boolean(),
  fc.constant(null),
);
const fields = fc.dictionary(name, fieldValue, { maxKeys: 10 });
const appDocument: fc.Arbitrary<SignedDocument> = fc
  .record({ schema: name, fields, timestamp: fc.maxSafeNat() })
  .filter(({ schema }) => !schema.endsWith("_v1"))
  .map(({ schema, fields: f, timestamp }) => signDocument(identity, schema, f, { timestamp }));

/** Runs decodeDocument and requires that it either succeeds or throws one of our typed errors. */
function decodeTyped(bytes: Uint8Array): SignedDocument | SecretGroupError {
  try {
    return decodeDocument(bytes);
  } catch (e) {
    assert.ok(e instanceof SecretGroupError, `untyped error: ${String(e)}`);
    return e;
  }
}

test("property: signed application documents round trip with the same id and fields", () => {
  fc.assert(
    fc.property(appDocument, (doc) => {
      const back = decodeDocument(doc.bytes);
      assert.deepEqual(back.id, doc.id);
      assert.deepEqual({ ...back.fields }, { ...doc.fields });
      assert.equal(back.timestamp, doc.timestamp);
      assert.equal(back.schema, doc.schema);
    }),
    { numRuns: 300 },
  );
});

test("property: every truncation is refused with a DecodeError", () => {
  fc.assert(
    fc.property(appDocument, fc.nat(), (doc, cut) => {
      const bytes = doc.bytes.subarray(0, cut % doc.bytes.length);
      const result = decodeTyped(bytes);
      assert.ok(result instanceof ValidationError && result.code === "DECODE_ERROR");
    }),
    { numRuns: 300 },
  );
});

test("property: any extension is refused with a DecodeError", () => {
  fc.assert(
    fc.property(appDocument, fc.uint8Array({ minLength: 1, maxLength: 40 }), (doc, tail) => {
      const bytes = new Uint8Array([...doc.bytes, ...tail]);
      const result = decodeTyped(bytes);
      assert.ok(result instanceof ValidationError && result.code === "DECODE_ERROR");
    }),
    { numRuns: 300 },
  );
});

test("property: any single bit flip is refused with a typed validation error", () => {
  fc.assert(
    fc.property(appDocument, fc.nat(), fc.integer({ min: 0, max: 7 }), (doc, pos, bit) => {
      const bytes = new Uint8Array(doc.bytes);
      bytes[pos % bytes.length]! ^= 1 << bit;
      const result = decodeTyped(bytes);
      assert.ok(result instanceof ValidationError, "a flipped document must not decode");
    }),
    { numRuns: 500 },
  );
});

test("property: random garbage never throws anything but typed errors", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      decodeTyped(bytes);
    }),
    { numRuns: 1000 },
  );
  // Garbage that is valid CBOR in canonical form, at the envelope and at the payload level.
  const cborValue = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.uint8Array({ maxLength: 40 }),
      fc.string({ maxLength: 10 }),
      fc.maxSafeInteger(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 8 }), tie("value"), { maxKeys: 4 }),
    ),
  })).value;
  fc.assert(
    fc.property(cborValue, (value) => {
      decodeTyped(encodeCanonical(value));
      decodeTyped(encodeCanonical({ payload: encodeCanonical(value), signature: new Uint8Array(64) }));
      decodeTyped(rawDocument(identity, value));
    }),
    { numRuns: 500 },
  );
});

test("property: validly signed payloads with arbitrary fields decode or give typed errors", () => {
  const anyField = fc.oneof(fieldValue, fc.array(fc.nat(), { maxLength: 3 }), fc.constant({ a: 1 }), fc.double());
  fc.assert(
    fc.property(fc.string({ maxLength: 12 }), fc.dictionary(fc.string({ maxLength: 12 }), anyField, { maxKeys: 6 }), fc.oneof(fc.maxSafeNat(), fc.double()), (schema, f, timestamp) => {
      let encoded: Uint8Array;
      try {
        encoded = rawDocument(identity, payloadOf(identity, schema, f, timestamp as number));
      } catch {
        return; // cborg itself refuses some values (none reach decodeDocument)
      }
      decodeTyped(encoded);
    }),
    { numRuns: 500 },
  );
});
