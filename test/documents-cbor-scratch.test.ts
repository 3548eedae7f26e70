/**
 * The canonical CBOR check re-encodes into a scratch buffer kept per thread
 * (src/documents/cbor.ts): inputs of every size decode or are refused as without it, and the
 * scratch keeps no bytes of what it checked (a decrypted field's plaintext among them).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fromHex, toHex, utf8 } from "../src/bytes.js";
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

/** Runs `body`, returning the buffers decodeCanonical compared through Buffer.from (the scratch's, for inputs up to 1 MiB). */
function comparedBuffers(body: () => void): ArrayBufferLike[] {
  const seen: ArrayBufferLike[] = [];
  const from = Buffer.from;
  Buffer.from = ((...args: Parameters<typeof Buffer.from>) => {
    if (args[0] instanceof ArrayBuffer) seen.push(args[0]);
    return (from as (...a: unknown[]) => Buffer)(...args);
  }) as typeof Buffer.from;
  try {
    body();
  } finally {
    Buffer.from = from;
  }
  return seen;
}

test("the canonical check's scratch holds no byte of a decoded value afterwards, canonical or refused", () => {
  const secret = utf8("the plaintext of a decrypted field, which must not stay in the scratch");
  const value = { a: secret, b: "x" };
  const bytes = encodeCanonical(value);
  const seen = comparedBuffers(() => assert.deepEqual(decodeCanonical(bytes), value));
  assert.equal(seen.length, 1, "the check compared through the kept scratch");
  const scratch = new Uint8Array(seen[0]!);
  assert.ok(scratch.every((x) => x === 0), "the scratch keeps the last checked bytes");
  // a non-canonical input (unsorted keys, the same length): compared, refused, zeroed too
  const hex = toHex(bytes);
  const unsorted = fromHex("a2" + "61626178" + hex.slice(2, hex.length - 8));
  assert.throws(() => decodeCanonical(unsorted), /not in canonical form/);
  assert.ok(scratch.every((x) => x === 0), "the scratch keeps a refused input's bytes");
  // one that overflows the scratch's range partway (a float16 re-encoded as float64)
  assert.throws(() => decodeCanonical(fromHex("a2" + hex.slice(2, hex.length - 8) + "6162" + "f93e00")), /not in canonical form/);
  assert.ok(scratch.every((x) => x === 0), "the scratch keeps an overflowing input's bytes");
});
