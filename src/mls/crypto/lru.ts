/**
 * A small bounded least-recently-used cache for parsed key objects.
 *
 * Why: importing an Ed25519 or X25519 key into `node:crypto` costs more than the
 * operation itself; group members sign and verify with the same few keys over and
 * over, so caching the parsed `KeyObject` per key removes most of that cost while
 * the bound keeps memory flat in a 1000-member group.
 *
 * @module
 */

/**
 * Bounded map that evicts the least recently used entry when full.
 *
 * @example
 * ```ts
 * const cache = new LruCache<string, number>(2);
 * cache.set("a", 1); cache.set("b", 2); cache.get("a"); cache.set("c", 3);
 * cache.get("b"); // undefined: "b" was least recently used
 * ```
 */
export class LruCache<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();

  /**
   * @param max - largest number of entries kept (at least 1)
   * @example
   * ```ts
   * new LruCache<string, Uint8Array>(1024);
   * ```
   */
  constructor(max: number) {
    this.#max = Math.max(1, Math.floor(max));
  }

  /**
   * Returns the cached value and marks it most recently used.
   *
   * @example
   * ```ts
   * cache.get("a");
   * ```
   */
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      // Re-insert so Map iteration order (insertion order) tracks recency.
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  /**
   * Stores a value, evicting the least recently used entry when full.
   *
   * @example
   * ```ts
   * cache.set("a", 1);
   * ```
   */
  set(key: K, value: V): void {
    if (this.#map.has(key)) this.#map.delete(key);
    else if (this.#map.size >= this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done !== true) this.#map.delete(oldest.value);
    }
    this.#map.set(key, value);
  }

  /**
   * The cached value of `key`, or `make()`'s, stored (the one get-or-parse of the key caches).
   *
   * @example
   * ```ts
   * cache.getOrAdd("pub:" + bytesKey(raw), () => rawKey("X25519", "public", raw));
   * ```
   */
  getOrAdd(key: K, make: () => V): V {
    let value = this.get(key);
    if (value === undefined) this.set(key, (value = make()));
    return value;
  }

  /**
   * Number of entries currently held.
   *
   * @example
   * ```ts
   * cache.size; // <= max
   * ```
   */
  get size(): number {
    return this.#map.size;
  }

  /**
   * Drops every entry.
   *
   * @example
   * ```ts
   * cache.clear();
   * ```
   */
  clear(): void {
    this.#map.clear();
  }
}

/**
 * Cache key for a byte string: latin1 keeps one char per byte, cheaper than hex.
 *
 * @example
 * ```ts
 * bytesKey(new Uint8Array([1, 2])); // "\u0001\u0002"
 * ```
 */
export function bytesKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/**
 * Copies bytes into a fresh, unshared `Uint8Array`.
 *
 * Why: `node:crypto` returns `Buffer`s, some of them views into a shared pool slab;
 * ts-mls keeps, compares and encodes what we return, so it must own its memory and
 * must not be a `Buffer` (whose `slice` and `toString` differ from `Uint8Array`).
 *
 * @example
 * ```ts
 * const owned = fresh(createHash("sha256").update(data).digest());
 * ```
 */
export function fresh(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  return out;
}

/**
 * A `Uint8Array` over a `Buffer` that `node:crypto` has just returned, without copying
 * when that Buffer owns its whole ArrayBuffer (outputs made in C++ do), copying otherwise
 * (small Buffers made in JS share the pool slab). Only for Buffers nobody else holds.
 *
 * Why: saves one allocation per hash, HMAC and AEAD call, which shows up as GC time in a
 * 1000-member commit (about 12,000 such calls).
 *
 * @example
 * ```ts
 * const tag = owned(createHmac("sha256", key).update(data).digest());
 * ```
 */
export function owned(buf: Uint8Array): Uint8Array {
  const ab = buf.buffer;
  if (buf.byteOffset === 0 && ab.byteLength === buf.byteLength && ab instanceof ArrayBuffer) {
    return new Uint8Array(ab);
  }
  return fresh(buf);
}
