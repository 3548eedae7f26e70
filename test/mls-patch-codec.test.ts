/**
 * Our ts-mls patch writes a vector's elements in a loop (patches/ts-mls+1.6.4.patch): 1.6.4
 * nested one closure per element, so a vector of about ten thousand elements (the add proposals
 * of a commit that fills a 10,000-member group) overflowed the stack. The bytes must not change.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { encode } from "ts-mls/codec/tlsEncoder.js";
import { uint32Encoder } from "ts-mls/codec/number.js";
import { decodeVarLenType, varLenDataEncoder, varLenTypeEncoder } from "ts-mls/codec/variableLength.js";
import { decodeUint32 } from "ts-mls/codec/number.js";
import { Writer } from "../src/codec/tls.js";

test("a vector of 200,000 elements encodes without overflowing the stack, to the same bytes as our codec", () => {
  const values = Array.from({ length: 200_000 }, (_, i) => (i * 2654435761) >>> 0);
  const bytes = encode(varLenTypeEncoder(uint32Encoder))(values);
  // reference: RFC 9420 vector = varint length of the body, then the body
  const body = new Writer();
  for (const v of values) body.u32(v);
  const reference = new Writer().opaque(body.finish()).finish();
  assert.deepEqual(bytes, reference);
  const decoded = decodeVarLenType(decodeUint32)(bytes, 0);
  assert.deepEqual(decoded?.[0], values);
});

test("nested vectors keep their layout", () => {
  const items = Array.from({ length: 50 }, (_, i) => new Uint8Array(i).fill(i));
  const bytes = encode(varLenTypeEncoder(varLenDataEncoder))(items);
  const body = new Writer();
  for (const it of items) body.opaque(it);
  assert.deepEqual(bytes, new Writer().opaque(body.finish()).finish());
});
