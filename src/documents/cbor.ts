/**
 * Strict, canonical CBOR for documents (cborg). Encoding is deterministic (RFC 8949 core
 * deterministic key order: bytewise on the encoded keys; integers in their shortest form; floats
 * always 64-bit), and decoding accepts exactly one encoding per value: the one that encoding the
 * decoded value gives back. That is what makes a document id (BLAKE3 of the bytes) unique per
 * content: no float width games, no unsorted or duplicate keys, no indefinite lengths, no tags,
 * no `undefined`, no invalid UTF-8 (which decodes to U+FFFD and so re-encodes differently).
 * ./cborCanonical.ts checks it on the bytes, without encoding anything.
 *
 * @module
 */
import { decode, encode, rfc8949EncodeOptions } from "cborg";
import type { DecodeOptions } from "cborg";
import { DecodeError } from "../errors.js";
import { assertCanonicalCbor } from "./cborCanonical.js";

/**
 * cborg's options for a strict decode of our profile (what the canonical check then holds to one
 * encoding per value).
 *
 * @example
 * ```ts
 * decode(bytes, DECODE_OPTIONS)
 * ```
 */
export const DECODE_OPTIONS: Readonly<DecodeOptions> = {
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
  assertCanonicalCbor(bytes);
  return value;
}
