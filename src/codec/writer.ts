/**
 * The writer of the TLS-presentation-language codec (RFC 9420 section 2.1.2; the reader is in
 * `tls.ts`, which re-exports this): fixed-width big-endian integers and QUIC-varint
 * length-prefixed vectors, built in a buffer lent per thread.
 *
 * @module
 */
import { MAX_VARINT } from "../constants.js";

const U64_MAX = (1n << 64n) - 1n;
const UTF8 = new TextEncoder();

// Integers are written byte by byte, not through a DataView over the buffer: reading `.buffer`
// of a typed array of at most 64 bytes (a new Writer's) moves it off V8's heap into an
// ArrayBuffer of its own, an allocation per encoded record (src/staging.ts).

/** Writes `value` as a big-endian u32 at `at`. */
function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/**
 * Bytes of `value` as a QUIC variable-length integer (at most 4, as MLS allows); RangeError
 * beyond {@link MAX_VARINT}.
 *
 * @example
 * ```ts
 * varintLength(300) // 2
 * ```
 */
export function varintLength(value: number): 1 | 2 | 4 {
  if (!Number.isInteger(value) || value < 0 || value > MAX_VARINT) throw new RangeError(`varint out of range: ${value}`);
  return value < 0x40 ? 1 : value < 0x4000 ? 2 : 4;
}

/**
 * Writes `value` as a QUIC variable-length integer at `at` in `out` (which has the room);
 * returns the bytes written.
 *
 * @example
 * ```ts
 * at += writeVarint(out, at, key.length)
 * ```
 */
export function writeVarint(out: Uint8Array, at: number, value: number): number {
  const n = varintLength(value);
  if (n === 1) out[at] = value;
  else if (n === 2) {
    out[at] = 0x40 | (value >>> 8);
    out[at + 1] = value & 0xff;
  } else writeU32(out, at, (0x80000000 | value) >>> 0);
  return n;
}

/** Bytes of the build buffer a thread lends its writers. */
const LENT_BYTES = 16 * 1024;
/**
 * The build buffer (off V8's heap), lent to one writer at a time from its construction until its
 * `finish` or its first growth past it, then wiped and given back: a writer that started in 64
 * bytes of its own allocated an ArrayBuffer at each doubling past them (~15 a joined group on a
 * many-groups main thread, bench/results/NOTES.md, session 33). A writer made while it is out
 * (one inside another's encoding) uses memory of its own, as before.
 */
let lendable: Uint8Array | undefined = new Uint8Array(new ArrayBuffer(LENT_BYTES));
/** The writer holding the lent buffer, if any. */
let lentTo: Writer | undefined;
let reclaimQueued = false;

// Encoders run synchronously: a writer still holding the buffer once the running code has ended
// was abandoned (its encoder threw) or kept for later. Either way it moves to memory of its own
// (its bytes copied, still correct if it writes again) and the buffer is wiped and lendable.
function reclaim(): void {
  reclaimQueued = false;
  lentTo?.keepOwn();
}

/** Growable byte writer. @example `new Writer().u8(1).opaque(bytes).finish()` */
export class Writer {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialCapacity = 64) {
    if (lendable !== undefined && initialCapacity <= lendable.length) {
      this.buf = lendable;
      lendable = undefined;
      lentTo = this;
      if (!reclaimQueued) {
        reclaimQueued = true;
        queueMicrotask(reclaim);
      }
    } else this.buf = new Uint8Array(initialCapacity);
  }

  /** Moves a writer off the lent buffer into memory of its own (see `reclaim`). @internal */
  keepOwn(): void {
    if (lentTo !== this) return;
    const own = new Uint8Array(Math.max(64, this.len));
    own.set(this.buf.subarray(0, this.len));
    this.giveBack();
    this.buf = own;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = Math.max(64, this.buf.length * 2);
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.giveBack();
    this.buf = next;
  }

  /** Wipes the lent buffer (it may have held a secret's encoding) and makes it lendable again. */
  private giveBack(): void {
    if (lentTo !== this) return;
    this.buf.fill(0, 0, this.len);
    lendable = this.buf;
    lentTo = undefined;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.len;
  }

  /** Writes one byte. */
  u8(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`u8 out of range: ${value}`);
    this.reserve(1);
    this.buf[this.len++] = value;
    return this;
  }

  /** Writes a boolean as one byte, 0 or 1. */
  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  /** Writes a big-endian u32. */
  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`u32 out of range: ${value}`);
    this.reserve(4);
    writeU32(this.buf, this.len, value);
    this.len += 4;
    return this;
  }

  /** Writes a big-endian u64. */
  u64(value: bigint): this {
    if (value < 0n || value > U64_MAX) throw new RangeError(`u64 out of range: ${value}`);
    this.reserve(8);
    writeU32(this.buf, this.len, Number(value >> 32n));
    writeU32(this.buf, this.len + 4, Number(value & 0xffffffffn));
    this.len += 8;
    return this;
  }

  /** Writes a QUIC variable-length integer (at most 4 bytes, as MLS allows). */
  varint(value: number): this {
    const n = varintLength(value);
    this.reserve(n);
    this.len += writeVarint(this.buf, this.len, value);
    return this;
  }

  /** Writes raw bytes with no length prefix. */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** Writes `opaque data<V>`: varint length then bytes. */
  opaque(bytes: Uint8Array): this {
    return this.varint(bytes.length).raw(bytes);
  }

  /** Writes `opaque data<V>` holding the UTF-8 bytes of `text`, encoded in place. */
  opaqueUtf8(text: string): this {
    const n = Buffer.byteLength(text, "utf8");
    this.varint(n).reserve(n);
    UTF8.encodeInto(text, this.buf.subarray(this.len, this.len + n));
    this.len += n;
    return this;
  }

  /** Writes `T items<V>`: varint byte length of the encoded items, then the items. */
  vector<T>(items: readonly T[], write: (w: Writer, item: T) => void): this {
    // the items are written in place after a one-byte length, moved up when theirs needs more
    // (no inner writer: its buffers and copy were an allocation or more per vector)
    const start = this.len;
    this.reserve(1);
    this.len++;
    for (const item of items) write(this, item);
    const n = this.len - start - 1;
    const width = varintLength(n);
    if (width > 1) {
      this.reserve(width - 1);
      this.buf.copyWithin(start + width, start + 1, this.len);
      this.len += width - 1;
    }
    writeVarint(this.buf, start, n);
    return this;
  }

  /** Writes `optional<T>`: a presence byte then the value. */
  optional<T>(value: T | undefined, write: (w: Writer, item: T) => void): this {
    if (value === undefined) return this.u8(0);
    this.u8(1);
    write(this, value);
    return this;
  }

  /** The written bytes (a copy trimmed to length). */
  finish(): Uint8Array {
    const out = this.buf.slice(0, this.len);
    if (lentTo === this) {
      this.giveBack();
      // writes after finish grow from the copy (it is full: the first byte moves it), and a
      // second finish copies the same bytes
      this.buf = out;
    }
    return out;
  }
}
