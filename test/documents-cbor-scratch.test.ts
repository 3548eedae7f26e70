/**
 * The canonical CBOR check re-encodes into a scratch buffer kept per thread
 * (src/documents/cbor.ts): inputs of every size decode or are refused as without it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fromHex, toHex } from "../src/bytes.js";
import { decodeCanonical, encodeCanonical } from "../src/documents/cbor.js";

test("the canonical check's re-encoding buffer: inputs of every size, around and past the kept scratch, decode or are refused alike", () => {
  // sizes up, down and past CANONICAL_SCRATCH_BYTES (1 MiB): the scratch grows and is reused, larger inputs get their own
  for (const size of [10, 100_000, 50, 1_500_000, 3_000, 700_000, 1_048_500, 20]) {
    const value = { a: new Uint8Array(size).fill(size & 0xff), b: "x" };
    const bytes = encodeCanonical(value);
    assert.deepEqual(decodeCanonical(bytes), value, `canonical, ${size} bytes`);
    // the same map with its keys in the wrong order: as long as the canonical form, other bytes
    const hex = toHex(bytes);
    const aPair = hex.slice(2, hex.length - 8); // "a" and its bytes; then "b": "x" (61 62 61 78)
    const unsorted = fromHex("a2" + "61626178" + aPair);
    assert.equal(unsorted.length, bytes.length);
    assert.throws(() => decodeCanonical(unsorted), /not in canonical form/, `unsorted keys, ${size} bytes`);
    // a float16 inside: re-encodes longer than the input (float64), so it overflows the buffer
    const float = fromHex("a2" + aPair + "6162" + "f93e00");
    assert.throws(() => decodeCanonical(float), /not in canonical form/, `float16, ${size} bytes`);
    // the next canonical input after a refused one still decodes
    assert.deepEqual(decodeCanonical(bytes), value);
  }
});
