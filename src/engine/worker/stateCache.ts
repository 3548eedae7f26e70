/**
 * A worker's cache of decoded MLS states, weighed in bytes: each entry weighs the bytes its
 * state is stored in (the sum of its storage parts, src/mls/storage.ts), kept exactly as the
 * parts are loaded and staged. A decoded state costs a roughly constant multiple of its encoded
 * size in heap (8-9x, measured: src/constants.ts `DEFAULT_WORKER_CACHE_BYTES`), so a bound on encoded bytes bounds the heap, whatever the
 * group sizes: one state of 10,000 members weighs as much as thousands of groups of 3.
 * Least recently used entries go first; the entry just added always stays.
 *
 * @module
 */
import { CACHED_STATE_ENTRY_BYTES } from "../../constants.js";
import type { GroupState } from "../../group/index.js";
import type { PersistMeta, StatePart } from "../../mls/storage.js";

/** One cached state and the bytes it is stored in. @example `cache.lookup(key)?.state` */
export interface CachedState {
  readonly token: string;
  readonly state: GroupState;
  readonly meta: PersistMeta;
  /** Stored size of each part of the state, by part key. */
  readonly sizes: ReadonlyMap<string, number>;
  /** The sum of `sizes` plus {@link CACHED_STATE_ENTRY_BYTES}. */
  readonly bytes: number;
}

/** Bounds of a state cache. @example `{ entries: 64, bytes: 8 * 1024 * 1024 }` */
export interface CacheBounds {
  readonly entries: number;
  readonly bytes: number;
}

/**
 * Part sizes after writing `parts` over `base` (a `null` value deletes its part).
 *
 * @example
 * ```ts
 * partSizes(undefined, loadedParts) // Map { "h" => 412, ... }
 * ```
 */
export function partSizes(base: ReadonlyMap<string, number> | undefined, parts: ReadonlyArray<StatePart>): Map<string, number> {
  const sizes = new Map(base);
  for (const [key, value] of parts) {
    if (value === null) sizes.delete(key);
    else sizes.set(key, value.length);
  }
  return sizes;
}

/**
 * The LRU of decoded states of one worker, bounded by entries and by stored bytes.
 *
 * @example
 * ```ts
 * const cache = new StateCache()
 * cache.remember(key, { token, state, meta }, partSizes(undefined, parts), { entries: 64, bytes: 1 << 24 })
 * ```
 */
export class StateCache {
  private readonly entries = new Map<string, CachedState>();
  private total = 0;

  /** Entries held. @example `cache.size` */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes held (the sum of the entries' {@link CachedState.bytes}). @example `cache.bytes` */
  get bytes(): number {
    return this.total;
  }

  /** The entry under `key`, made the most recently used. @example `cache.lookup(key)` */
  lookup(key: string): CachedState | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit;
  }

  /** Drops the entry under `key`. @example `cache.forget(key)` */
  forget(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.total -= entry.bytes;
  }

  /**
   * Caches `entry` under `key` with its part sizes, then evicts least recently used entries
   * until both bounds hold (or only this entry is left).
   *
   * @example
   * ```ts
   * cache.remember(key, { token, state, meta }, sizes, bounds)
   * ```
   */
  remember(key: string, entry: Omit<CachedState, "sizes" | "bytes">, sizes: ReadonlyMap<string, number>, bounds: CacheBounds): CachedState {
    this.forget(key);
    let bytes = CACHED_STATE_ENTRY_BYTES;
    for (const size of sizes.values()) bytes += size;
    const cached: CachedState = { ...entry, sizes, bytes };
    this.entries.set(key, cached);
    this.total += bytes;
    const most = Math.max(1, bounds.entries);
    while (this.entries.size > 1 && (this.entries.size > most || this.total > bounds.bytes)) {
      this.forget(this.entries.keys().next().value as string);
    }
    return cached;
  }

  /** Every entry's key and bytes, least recently used first (for tests and stats). @example `cache.list()` */
  list(): Array<{ key: string; bytes: number }> {
    return [...this.entries].map(([key, e]) => ({ key, bytes: e.bytes }));
  }
}
