/**
 * Strict, canonical CBOR for documents (cborg). Encoding is deterministic (RFC 8949 core
 * deterministic key order: bytewise on the encoded keys; integers in their shortest form; floats
 * always 64-bit), and decoding accepts exactly one encoding per value: after a strict decode the
 * value is encoded again and must give back the very same bytes. That re-encoding check is what
 * makes a document id (BLAKE3 of the bytes) unique per content: no float width games, no unsorted
 * or duplicate keys, no indefinite lengths, no tags, no `undefined`, no invalid UTF-8 (which
 * decodes to U+FFFD and so re-encodes differently).
 *
 * @module
 */
import { decode, encode, encodeInto, rfc8949EncodeOptions } from "cborg";
import { CANONICAL_SCRATCH_BYTES } from "../constants.js";
import type { DecodeOptions } from "cborg";
import { DecodeError } from "../errors.js";

const DECODE_OPTIONS: DecodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  useMaps: false,
  rejectDuplicateMapKeys: true,
  tags: [],
};

/**
 * Canonical CBOR encoding of a plain value (objects, arrays, strings, finite numbers, booleans,
 * null, Uint8Array). The caller validates the value first.
 *
 * @example
 * ```ts
 * encodeCanonical({ b: 1, a: 2 }) // a2 61 61 02 61 62 01
 * ```
 */
export function encodeCanonical(value: unknown): Uint8Array {
  const out = encode(value, rfc8949EncodeOptions);
  // cborg hands out a Buffer under Node; callers and deepEqual expect a plain Uint8Array view.
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Decodes one CBOR item that must fill `bytes` exactly and be in canonical form; throws only
 * {@link DecodeError}.
 *
 * @example
 * ```ts
 * decodeCanonical(encodeCanonical({ a: 1 })) // { a: 1 }
 * ```
 */
export function decodeCanonical(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = decode(bytes, DECODE_OPTIONS);
  } catch (cause) {
    // cborg throws plain Errors, and RangeError on deep nesting: all mean "malformed".
    throw new DecodeError(`malformed CBOR: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  // re-encoded into a buffer exactly as long as the input: a canonical encoding fills it, a longer
  // one overflows it (not canonical); no allocation per check up to CANONICAL_SCRATCH_BYTES
  const into = bytes.length <= CANONICAL_SCRATCH_BYTES ? scratchOf(bytes.length) : new Uint8Array(bytes.length);
  let written: number | undefined;
  try {
    try {
      written = encodeInto(value, into, rfc8949EncodeOptions).written;
    } catch (cause) {
      if (cause instanceof Error && /out of bounds/.test(cause.message)) throw new DecodeError("CBOR is not in canonical form", { cause });
      throw new DecodeError("CBOR value cannot be re-encoded", { cause });
    }
    // memcmp, not the constant-time compare (about 8x faster on an 83 KB commit document): whether
    // the input is canonical is no secret, even for a decrypted field's plaintext, whose bytes the
    // caller holds anyway
    if (written !== bytes.length || !Buffer.from(into.buffer, into.byteOffset, written).equals(bytes)) throw new DecodeError("CBOR is not in canonical form");
  } finally {
    // the re-encoding may be a decrypted field's plaintext (src/documents/fields.ts): the kept
    // scratch must not hold it for the thread's lifetime (after an overflow, written is unknown:
    // its whole range)
    into.fill(0, 0, written);
  }
  return value;
}

let scratch = new Uint8Array(0);

/** The kept scratch buffer's first `length` bytes (grown as needed; decodeCanonical is synchronous, so never shared by two checks). */
function scratchOf(length: number): Uint8Array {
  if (scratch.length < length) scratch = new Uint8Array(Math.min(CANONICAL_SCRATCH_BYTES, Math.max(length, scratch.length * 2)));
  return scratch.subarray(0, length);
}
