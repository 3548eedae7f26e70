/**
 * Small byte helpers shared by every module.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { ErrorCode, UsageError } from "./errors.js";
import { stage, unstage } from "./staging.js";

/** Lowercase hex of `bytes`. @example `toHex(new Uint8Array([255])) // "ff"` */
export function toHex(bytes: Uint8Array): string {
  // small arrays (ids, keys) through the staging area, wiped after: a Buffer over their
  // `.buffer` would move each off V8's heap into an ArrayBuffer of its own (src/staging.ts)
  try {
    const staged = stage(bytes);
    return Buffer.from(staged.buffer, staged.byteOffset, staged.byteLength).toString("hex");
  } finally {
    unstage();
  }
}

/**
 * Parses lowercase or uppercase hex; throws a usage error on anything else.
 *
 * @example
 * ```ts
 * fromHex("00ff") // Uint8Array [0, 255]
 * ```
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new UsageError(ErrorCode.InvalidArgument, "not a hex string");
  }
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** Concatenates byte arrays. @example `concatBytes(a, b)` */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Constant-time equality of two byte arrays (length is not secret). @example `equalBytes(a, b)` */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a.length > 64) return timingSafeEqual(a, b);
  // Keys, ids and secrets (at most 64 bytes, which V8 keeps on its heap) are compared here:
  // handed to timingSafeEqual, each would first be moved into an ArrayBuffer of its own (two
  // allocations a call; a receiver checking a commit's secret list made hundreds). The loop reads
  // every byte whatever they hold (noble's `equalBytes` is the same).
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * True when the `length` bytes at `at` in `bytes` are `id`. Not constant-time: for public ids
 * (a group id in a ciphertext header), compared in place without a copy.
 *
 * @example
 * ```ts
 * if (!equalBytesAt(groupId, message, item.groupAt, item.groupLength)) ...
 * ```
 */
export function equalBytesAt(id: Uint8Array, bytes: Uint8Array, at: number, length: number): boolean {
  if (length !== id.length) return false;
  for (let k = 0; k < length; k++) if (id[k] !== bytes[at + k]) return false;
  return true;
}

/** UTF-8 encoding of a string. @example `utf8("long_term_secret")` */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/**
 * Accepts a 32-byte id or public key as bytes or hex and returns bytes.
 *
 * @example
 * ```ts
 * toId32("ab".repeat(32), "groupId")
 * ```
 */
export function toId32(value: Uint8Array | string, what: string): Uint8Array {
  const bytes = typeof value === "string" ? fromHex(value) : value;
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) {
    throw new UsageError(ErrorCode.InvalidArgument, `${what} must be 32 bytes or 64 hex characters`);
  }
  return bytes;
}
