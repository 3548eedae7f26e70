/**
 * The canonical-form check of our CBOR profile (./cbor.ts), read straight off the bytes: an
 * input is canonical exactly when encoding its decoded value again (cborg,
 * `rfc8949EncodeOptions`) gives back the same bytes. That re-encoding was the check until it
 * showed up in the many-groups profile (about 9 us and several copies of every document, its
 * map keys encoded once more for each comparison of the sort); this walk allocates nothing.
 * test/documents-cbor-canonical.test.ts holds the two to the same verdict on random inputs.
 *
 * What re-encoding pins down, and so what this checks:
 * - every head (integer, length) in its shortest form; no indefinite lengths, no tags;
 * - integers within the safe range of a JS number (outside it they decode to floats or fail);
 * - a float is a float64 whose value is not a safe integer (-0 included): such values re-encode
 *   as integers, and other widths re-encode as float64;
 * - only `false`, `true` and `null` among the simple values;
 * - text is well-formed UTF-8: a decoder replaces malformed sequences with U+FFFD, so the
 *   re-encoding differs (a leading U+FEFF is text like any other: our cborg patch keeps it);
 * - map keys are text, in strictly increasing bytewise order of their encodings (RFC 8949
 *   section 4.2.1; strict also refuses duplicates), and none is `__proto__`, which a decoder
 *   building plain objects cannot hold as a key.
 *
 * @module
 */
import { isUtf8 } from "node:buffer";
import { equalBytesAt } from "../bytes.js";
import { DecodeError } from "../errors.js";

const MAJOR_UINT = 0;
const MAJOR_NEGINT = 1;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const SIMPLE_FALSE = 0xf4;
const SIMPLE_TRUE = 0xf5;
const SIMPLE_NULL = 0xf6;
const FLOAT64 = 0xfb;
/** Largest argument of a negative integer whose value (-1 - n) is a safe integer: 2^53 - 2. */
const MAX_NEGINT_ARGUMENT = Number.MAX_SAFE_INTEGER - 1;
/** `__proto__` as a CBOR text string. */
const PROTO_KEY = Uint8Array.of(0x69, 0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f);

function notCanonical(why: string): never {
  throw new DecodeError(`CBOR is not in canonical form: ${why}`);
}

/**
 * Throws {@link DecodeError} unless `bytes` is exactly one CBOR item in the canonical form of
 * our profile (see the module comment). Meant for bytes a strict cborg decode accepted, but
 * checks every rule on its own, bounds included.
 *
 * @example
 * ```ts
 * assertCanonicalCbor(Uint8Array.of(0xa2, 0x61, 0x61, 0x02, 0x61, 0x62, 0x01)) // {a: 2, b: 1}: passes
 * assertCanonicalCbor(Uint8Array.of(0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02)) // {b: 1, a: 2}: throws
 * ```
 */
export function assertCanonicalCbor(bytes: Uint8Array): void {
  let end: number;
  try {
    end = item(bytes, 0);
  } catch (cause) {
    if (cause instanceof DecodeError) throw cause;
    // the walk recurses once per nesting level: past the stack, the input is malformed
    throw new DecodeError(`malformed CBOR: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  if (end !== bytes.length) notCanonical("bytes after the item");
}

/** Where the item starting at `pos` ends, each rule checked on the way. */
function item(b: Uint8Array, pos: number): number {
  if (pos >= b.length) notCanonical("truncated");
  const initial = b[pos] as number;
  const major = initial >> 5;
  if (major === 7) return simple(b, pos, initial);
  if (major === 6) notCanonical("a tag");
  const info = initial & 31;
  const argument = head(b, pos, info);
  // the head's own length: 1 byte, then 1, 2, 4 or 8 for infos 24-27 (head refused any other)
  const start = pos + (info < 24 ? 1 : 1 + (1 << (info - 24)));
  switch (major) {
    case MAJOR_UINT:
      if (argument > Number.MAX_SAFE_INTEGER) notCanonical("an integer beyond the safe range");
      return start;
    case MAJOR_NEGINT:
      if (argument > MAX_NEGINT_ARGUMENT) notCanonical("an integer beyond the safe range");
      return start;
    case MAJOR_BYTES:
      return within(b, start, argument);
    case MAJOR_TEXT: {
      const end = within(b, start, argument);
      if (!isUtf8(b.subarray(start, end))) notCanonical("text that is not UTF-8");
      return end;
    }
    case MAJOR_ARRAY: {
      // every item takes a byte at least: a count beyond the bytes left is refused before the loop
      within(b, start, argument);
      let at = start;
      for (let i = 0; i < argument; i++) at = item(b, at);
      return at;
    }
    default: // 5, a map: 6 and 7 went their own ways above
      return map(b, start, argument);
  }
}

/** A map's entries from `pos`: text keys in strictly increasing bytewise order, no `__proto__`. */
function map(b: Uint8Array, pos: number, entries: number): number {
  within(b, pos, entries * 2);
  let previousStart = -1;
  let previousEnd = -1;
  let at = pos;
  for (let i = 0; i < entries; i++) {
    if (at >= b.length) notCanonical("truncated");
    if ((b[at] as number) >> 5 !== MAJOR_TEXT) notCanonical("a map key that is not text");
    const keyEnd = item(b, at);
    if (previousStart >= 0 && compareRanges(b, previousStart, previousEnd, at, keyEnd) >= 0) notCanonical("map keys out of order or repeated");
    if (equalBytesAt(PROTO_KEY, b, at, keyEnd - at)) notCanonical("a __proto__ map key");
    previousStart = at;
    previousEnd = keyEnd;
    at = item(b, keyEnd);
  }
  return at;
}

/** `false`, `true`, `null` or a float64 that is not a safe integer; every other major-7 item is refused. */
function simple(b: Uint8Array, pos: number, initial: number): number {
  if (initial === SIMPLE_FALSE || initial === SIMPLE_TRUE || initial === SIMPLE_NULL) return pos + 1;
  if (initial !== FLOAT64) notCanonical("a simple value or float other than false, true, null and float64");
  const end = within(b, pos + 1, 8);
  const value = new DataView(b.buffer, b.byteOffset + pos + 1, 8).getFloat64(0);
  if (!Number.isFinite(value)) notCanonical("NaN or an infinity");
  if (Number.isSafeInteger(value)) notCanonical("a float with an integer value");
  return end;
}

/** The argument of a head (major 0-5) at `pos`, in its shortest form only. */
function head(b: Uint8Array, pos: number, info: number): number {
  if (info < 24) return info;
  if (info === 24) {
    within(b, pos + 1, 1);
    const value = b[pos + 1] as number;
    if (value < 24) notCanonical("a head longer than needed");
    return value;
  }
  if (info === 25) {
    within(b, pos + 1, 2);
    const value = ((b[pos + 1] as number) << 8) | (b[pos + 2] as number);
    if (value < 0x100) notCanonical("a head longer than needed");
    return value;
  }
  if (info === 26) {
    within(b, pos + 1, 4);
    const value = readUint32(b, pos + 1);
    if (value < 0x10000) notCanonical("a head longer than needed");
    return value;
  }
  if (info === 27) {
    within(b, pos + 1, 8);
    const high = readUint32(b, pos + 1);
    if (high === 0) notCanonical("a head longer than needed");
    // exact below 2^53; anything larger is refused by every caller as out of range or past the end
    return high * 0x1_0000_0000 + readUint32(b, pos + 5);
  }
  return notCanonical(info === 31 ? "an indefinite length" : "a reserved head");
}

function readUint32(b: Uint8Array, pos: number): number {
  return (b[pos] as number) * 0x100_0000 + (((b[pos + 1] as number) << 16) | ((b[pos + 2] as number) << 8) | (b[pos + 3] as number));
}

/** `pos + length`, refused when past the input's end. */
function within(b: Uint8Array, pos: number, length: number): number {
  if (length > b.length - pos) notCanonical("truncated");
  return pos + length;
}

/** Bytewise order of `b[aStart..aEnd)` and `b[cStart..cEnd)`: negative, 0 or positive, a prefix first. */
function compareRanges(b: Uint8Array, aStart: number, aEnd: number, cStart: number, cEnd: number): number {
  const n = Math.min(aEnd - aStart, cEnd - cStart);
  for (let i = 0; i < n; i++) {
    const d = (b[aStart + i] as number) - (b[cStart + i] as number);
    if (d !== 0) return d;
  }
  return aEnd - aStart - (cEnd - cStart);
}
