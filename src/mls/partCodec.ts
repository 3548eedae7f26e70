/**
 * The byte writer and reader of the stored MLS state parts (src/mls/stateParts.ts,
 * src/mls/treeChunks.ts): fixed big-endian integers and u32-length-prefixed bytes, run on
 * every commit. The reader is bounded and throws only DecodeError.
 *
 * @module
 */
import { DecodeError } from "../errors.js";
import { Writer } from "../codec/writer.js";

/**
 * Appends fixed-width integers and length-prefixed bytes, on the codec's {@link Writer} (its
 * growth and lent build buffer): bytes masked to 8 bits and integers to 32, as these encoders
 * pass them, lengths as u32.
 *
 * @example
 * ```ts
 * new Sink(64).u32(1).bytes(b).finish()
 * ```
 */
export class Sink {
  private readonly w: Writer;
  constructor(capacity: number) {
    this.w = new Writer(Math.max(16, capacity));
  }
  /** Bytes written so far. */
  get len(): number {
    return this.w.length;
  }
  u8(v: number): this {
    this.w.u8(v & 0xff);
    return this;
  }
  /** Bytes without a length (fixed-size fields). */
  raw(v: Uint8Array): this {
    this.w.raw(v);
    return this;
  }
  u32(v: number): this {
    this.w.u32(v >>> 0);
    return this;
  }
  bytes(v: Uint8Array): this {
    this.w.u32(v.length).raw(v);
    return this;
  }
  finish(): Uint8Array {
    return this.w.finish();
  }
}

/** Reads what a {@link Sink} wrote; throws only DecodeError. @example `new Source(bytes, "chunk").u32()` */
export class Source {
  private pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {}
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  u8(): number {
    if (this.pos + 1 > this.buf.length) throw new DecodeError(`${this.what}: truncated`);
    return this.buf[this.pos++] as number;
  }
  /** `n` bytes without a length, as a view (callers copy what they keep). */
  raw(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new DecodeError(`${this.what}: truncated`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u32(): number {
    if (this.pos + 4 > this.buf.length) throw new DecodeError(`${this.what}: truncated`);
    const b = this.buf;
    const v = ((b[this.pos] as number) * 0x1000000 + (((b[this.pos + 1] as number) << 16) | ((b[this.pos + 2] as number) << 8) | (b[this.pos + 3] as number))) >>> 0;
    this.pos += 4;
    return v;
  }
  bytes(): Uint8Array {
    const n = this.u32();
    if (this.pos + n > this.buf.length) throw new DecodeError(`${this.what}: truncated`);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  end(): void {
    if (this.pos !== this.buf.length) throw new DecodeError(`${this.what}: ${this.buf.length - this.pos} trailing bytes`);
  }
}


/**
 * Reads all of `bytes` with `read`; trailing bytes are a DecodeError.
 *
 * @example
 * ```ts
 * const n = decodeWith(bytes, "stored secret node", (r) => r.u32())
 * ```
 */
export function decodeWith<T>(bytes: Uint8Array, what: string, read: (r: Source) => T): T {
  const r = new Source(bytes, what);
  const value = read(r);
  r.end();
  return value;
}
