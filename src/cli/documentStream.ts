/**
 * Reading and writing streams of documents for the CLI: a CBOR sequence (concatenated CBOR
 * items, RFC 8742) or newline-delimited base64, told apart by content.
 *
 * @module
 */
import { decode, encode } from "cborg";
import { DecodeError } from "../errors.js";

/** The two stream formats. */
export const StreamFormat = { CborSequence: "cbor-seq", Base64Lines: "base64-lines" } as const;
/** `"cbor-seq"` or `"base64-lines"`. */
export type StreamFormat = (typeof StreamFormat)[keyof typeof StreamFormat];

const BASE64_LINE = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Detects the format: a stream that parses whole as a sequence of CBOR byte strings is CBOR;
 * otherwise text made only of base64 lines is base64; anything else is treated as CBOR (and
 * fails to parse with a decoding error naming the item).
 *
 * @example
 * ```ts
 * detectStreamFormat(new TextEncoder().encode("AAEC\n")) // "base64-lines"
 * ```
 */
function detectStreamFormat(bytes: Uint8Array): StreamFormat {
  try {
    splitCborSequence(bytes);
    return StreamFormat.CborSequence;
  } catch {
    // not a CBOR sequence: try base64 below
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  if (lines.length > 0 && lines.every((line) => BASE64_LINE.test(line.trim()))) return StreamFormat.Base64Lines;
  return StreamFormat.CborSequence;
}

/**
 * Splits a stream into document byte strings. In a CBOR sequence every item is a byte string
 * holding one encoded document.
 *
 * @example
 * ```ts
 * const docs = readDocumentStream(await readFile("docs.cbor"))
 * ```
 */
export function readDocumentStream(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length === 0) return [];
  if (detectStreamFormat(bytes) === StreamFormat.Base64Lines) {
    const text = Buffer.from(bytes).toString("latin1");
    return text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== "")
      .map((line) => new Uint8Array(Buffer.from(line, "base64")));
  }
  return splitCborSequence(bytes);
}

function splitCborSequence(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    let item: unknown;
    let remainder: Uint8Array;
    try {
      [item, remainder] = decodeFirst(rest);
    } catch (e) {
      throw new DecodeError(`document stream item ${out.length + 1}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!(item instanceof Uint8Array)) throw new DecodeError(`document stream item ${out.length + 1} is not a byte string`);
    out.push(item);
    rest = remainder;
  }
  return out;
}

function decodeFirst(bytes: Uint8Array): [unknown, Uint8Array] {
  // cborg 4 has no decodeFirst: a byte string head tells the item length, which is all we accept.
  const head = bytes[0] ?? 0;
  if (head >> 5 !== 2) throw new Error("expected a CBOR byte string");
  const info = head & 0x1f;
  let headerLength = 1;
  let length: number;
  if (info < 24) length = info;
  else if (info === 24) [length, headerLength] = [readUint(bytes, 1, 1), 2];
  else if (info === 25) [length, headerLength] = [readUint(bytes, 1, 2), 3];
  else if (info === 26) [length, headerLength] = [readUint(bytes, 1, 4), 5];
  else throw new Error("unsupported byte string length");
  const end = headerLength + length;
  if (end > bytes.length) throw new Error("truncated");
  return [decode(bytes.subarray(0, end)), bytes.subarray(end)];
}

function readUint(bytes: Uint8Array, offset: number, size: number): number {
  if (offset + size > bytes.length) throw new Error("truncated");
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + (bytes[offset + i] as number);
  return v;
}

/**
 * Encodes documents as a stream in the given format.
 *
 * @example
 * ```ts
 * await writeFile("docs.cbor", writeDocumentStream(documents, "cbor-seq"))
 * ```
 */
export function writeDocumentStream(documents: readonly Uint8Array[], format: StreamFormat): Uint8Array {
  if (format === StreamFormat.Base64Lines) {
    return new TextEncoder().encode(documents.map((d) => Buffer.from(d).toString("base64") + "\n").join(""));
  }
  const parts = documents.map((d) => encode(d));
  return new Uint8Array(Buffer.concat(parts));
}
