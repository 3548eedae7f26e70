/**
 * Generic fast-check properties every bounded decoder must satisfy.
 *
 * @module
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError } from "../../src/errors.js";

/** What {@link decoderProperties} needs to know about one wire type. */
export interface CodecUnderTest<T> {
  readonly name: string;
  readonly arb: fc.Arbitrary<T>;
  readonly encode: (value: T) => Uint8Array;
  readonly decode: (bytes: Uint8Array) => unknown;
  /** The value the decoder is expected to return for `value` (default: `value` itself). */
  readonly normalize?: (value: T) => unknown;
  readonly runs?: number;
}

function isDecodeError(e: unknown): boolean {
  return e instanceof DecodeError;
}

/** Decodes `bytes`; returns the value or undefined on DecodeError; fails the test on anything else. */
function tryDecode(decode: (b: Uint8Array) => unknown, bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: decode(bytes) };
  } catch (e) {
    if (!isDecodeError(e)) throw new assert.AssertionError({ message: `decoder threw a non-DecodeError: ${String(e)}` });
    return { ok: false };
  }
}

/**
 * Registers the decoder properties as node:test cases: round trip, every truncation and every
 * one-byte extension rejected, bit flips rejected or canonical, garbage and mutations give only
 * DecodeError, decoded bytes are copies.
 *
 * @example
 * ```ts
 * decoderProperties({ name: "LongTermSecret", arb: arbSecret, encode: encodeLongTermSecret, decode: decodeLongTermSecret })
 * ```
 */
export function decoderProperties<T>(c: CodecUnderTest<T>): void {
  const runs = c.runs ?? 300;
  const normalize = c.normalize ?? ((v: T) => v);
  const reencode = (v: unknown): Uint8Array => c.encode(v as T);

  it(`${c.name}: round-trips and re-encodes to the same bytes`, () => {
    fc.assert(
      fc.property(c.arb, (value) => {
        const bytes = c.encode(value);
        const decoded = c.decode(bytes);
        assert.deepEqual(decoded, normalize(value));
        assert.deepEqual(reencode(decoded), bytes);
        // decoding a view at an offset inside a larger buffer works the same
        const padded = new Uint8Array(bytes.length + 7);
        padded.set(bytes, 3);
        assert.deepEqual(c.decode(padded.subarray(3, 3 + bytes.length)), decoded);
        // decoded byte arrays are copies: wiping the input does not change the value
        padded.fill(0);
        bytes.fill(0xff);
        assert.deepEqual(decoded, normalize(value));
      }),
      { numRuns: runs },
    );
  });

  it(`${c.name}: every truncation and every one-byte extension is a DecodeError`, () => {
    fc.assert(
      fc.property(c.arb, fc.integer({ min: 0, max: 255 }), (value, extra) => {
        const bytes = c.encode(value);
        for (let n = 0; n < bytes.length; n++) assert.throws(() => c.decode(bytes.subarray(0, n)), isDecodeError, `prefix ${n}`);
        const longer = new Uint8Array(bytes.length + 1);
        longer.set(bytes);
        longer[bytes.length] = extra;
        assert.throws(() => c.decode(longer), isDecodeError);
      }),
      { numRuns: runs },
    );
  });

  it(`${c.name}: a flipped bit is a DecodeError or decodes to something that re-encodes to the flipped bytes`, () => {
    fc.assert(
      fc.property(c.arb, fc.nat(), fc.integer({ min: 0, max: 7 }), (value, pos, bit) => {
        const bytes = c.encode(value);
        if (bytes.length === 0) return;
        const flipped = bytes.slice();
        const i = pos % bytes.length;
        flipped[i] = (flipped[i] as number) ^ (1 << bit);
        const r = tryDecode(c.decode, flipped);
        if (r.ok) assert.deepEqual(reencode(r.value), flipped);
      }),
      { numRuns: runs * 2 },
    );
  });

  it(`${c.name}: random garbage and random mutations give a canonical value or only a DecodeError`, () => {
    const mutation = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom("set", "insert", "delete"),
      byte: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (garbage) => {
        const r = tryDecode(c.decode, garbage);
        if (r.ok) assert.deepEqual(reencode(r.value), garbage);
      }),
      { numRuns: runs },
    );
    fc.assert(
      fc.property(c.arb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (value, muts) => {
        let bytes = Array.from(c.encode(value));
        for (const m of muts) {
          const i = bytes.length === 0 ? 0 : m.at % (bytes.length + (m.kind === "insert" ? 1 : 0));
          if (m.kind === "set" && bytes.length > 0) bytes[i] = m.byte;
          else if (m.kind === "insert") bytes.splice(i, 0, m.byte);
          else if (bytes.length > 0) bytes.splice(i, 1);
        }
        const mutated = Uint8Array.from(bytes);
        const r = tryDecode(c.decode, mutated);
        if (r.ok) assert.deepEqual(reencode(r.value), mutated);
        bytes = [];
      }),
      { numRuns: runs },
    );
  });

  it(`${c.name}: non-bytes input is a DecodeError`, () => {
    for (const bad of [undefined, null, "00", 0, [0], new ArrayBuffer(4), {}]) {
      assert.throws(() => c.decode(bad as unknown as Uint8Array), isDecodeError);
    }
  });
}
