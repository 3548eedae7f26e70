/**
 * The byte writer and reader of the stored MLS state parts (src/mls/stateParts.ts,
 * src/mls/treeChunks.ts): fixed big-endian integers written straight into one preallocated
 * buffer, since these run on every commit. The reader is bounded and throws only DecodeError.
 *
 * @module
 */
import { DecodeError } from "../errors.js";

/** Appends fixed-width integers and length-prefixed bytes. @example `new Sink(64).u32(1).bytes(b).finish()` */
export class Sink {
  private buf: Uint8Array;
  len = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }
  /** Bytes without a length (fixed-size fields). */
  raw(v: Uint8Array): this {
    this.room(v.length);
    this.buf.set(v, this.len);
    this.len += v.length;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    const b = this.buf;
    b[this.len++] = v >>> 24;
    b[this.len++] = (v >>> 16) & 0xff;
    b[this.len++] = (v >>> 8) & 0xff;
    b[this.len++] = v & 0xff;
    return this;
  }
  bytes(v: Uint8Array): this {
    this.u32(v.length);
    this.room(v.length);
    this.buf.set(v, this.len);
    this.len += v.length;
    return this;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
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
