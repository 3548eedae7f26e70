/**
 * Bounded TLS-presentation-language codec (RFC 9420 section 2.1.2): fixed-width big-endian
 * integers and QUIC-varint length-prefixed vectors. The reader never reads past its input and
 * throws nothing but {@link DecodeError}; the writer is in `writer.ts`.
 *
 * @module
 */
import { DecodeError, SecretGroupError } from "../errors.js";
import { MAX_VARINT } from "../constants.js";

export { MAX_VARINT };
export { varintLength, writeVarint, Writer } from "./writer.js";

/** Bounded byte reader. @example `const r = new Reader(bytes); const t = r.u8(); r.end()` */
export class Reader {
  private pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what = "value",
  ) {}

  /** Bytes not read yet. */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number): void {
    if (n > this.remaining) throw new DecodeError(`${this.what}: truncated (needs ${n} bytes, has ${this.remaining})`);
  }

  /** Reads one byte. */
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++] as number;
  }

  /** Reads a boolean byte: 0 or 1, anything else is a decoding error. */
  bool(): boolean {
    const b = this.u8();
    if (b > 1) throw new DecodeError(`${this.what}: invalid boolean ${b}`);
    return b === 1;
  }

  /** Reads a big-endian u32. */
  u32(): number {
    this.need(4);
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset).getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** Reads a big-endian u64. */
  u64(): bigint {
    this.need(8);
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset).getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  /** Reads a QUIC varint; rejects the 8-byte form and non-minimal encodings (RFC 9420 2.1.2). */
  varint(): number {
    const first = this.u8();
    const prefix = first >>> 6;
    if (prefix === 0) return first;
    if (prefix === 1) {
      const v = ((first & 0x3f) << 8) | this.u8();
      if (v < 0x40) throw new DecodeError(`${this.what}: non-minimal varint`);
      return v;
    }
    if (prefix === 2) {
      this.need(3);
      const v = ((first & 0x3f) * 0x1000000 + (this.u8() << 16)) + ((this.u8() << 8) | this.u8());
      if (v < 0x4000) throw new DecodeError(`${this.what}: non-minimal varint`);
      return v;
    }
    throw new DecodeError(`${this.what}: invalid varint prefix`);
  }

  /** Reads exactly `n` bytes (a view, not a copy). */
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Reads `opaque data<V>`, refusing lengths above `max`. Returns a copy. */
  opaque(max = MAX_VARINT): Uint8Array {
    return this.opaqueView(max).slice();
  }

  /** Reads `opaque data<V>` like {@link opaque}, as a view into the input (no copy). */
  opaqueView(max = MAX_VARINT): Uint8Array {
    const n = this.varint();
    if (n > max) throw new DecodeError(`${this.what}: length ${n} exceeds limit ${max}`);
    return this.raw(n);
  }

  /** Reads `T items<V>` with `read` applied to a sub-reader bounded by the vector length. */
  vector<T>(read: (r: Reader) => T, maxItems = Number.MAX_SAFE_INTEGER): T[] {
    const n = this.varint();
    const inner = new Reader(this.raw(n), this.what);
    const items: T[] = [];
    while (inner.remaining > 0) {
      if (items.length >= maxItems) throw new DecodeError(`${this.what}: more than ${maxItems} items`);
      items.push(read(inner));
    }
    return items;
  }

  /** Reads `optional<T>`. */
  optional<T>(read: (r: Reader) => T): T | undefined {
    const present = this.u8();
    if (present === 0) return undefined;
    if (present !== 1) throw new DecodeError(`${this.what}: invalid optional flag ${present}`);
    return read(this);
  }

  /** Asserts that every byte was read: trailing bytes are a decoding error. */
  end(): void {
    if (this.remaining !== 0) throw new DecodeError(`${this.what}: ${this.remaining} trailing bytes`);
  }
}

/**
 * Runs `read` over `bytes` and requires it to consume every byte. Any fault inside the decoder
 * that is not one of our typed errors becomes a {@link DecodeError}, so callers see only those.
 *
 * @example
 * ```ts
 * const epoch = decodeAll(bytes, "epoch", (r) => r.u64())
 * ```
 */
export function decodeAll<T>(bytes: Uint8Array, what: string, read: (r: Reader) => T): T {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError(`${what}: expected bytes`);
  try {
    const r = new Reader(bytes, what);
    const value = read(r);
    r.end();
    return value;
  } catch (e) {
    // our typed errors pass (a stored record of an unknown format version is a StorageError)
    if (e instanceof SecretGroupError) throw e;
    throw new DecodeError(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
