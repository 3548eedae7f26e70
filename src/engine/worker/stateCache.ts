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

/**
 * Stored size of each part of a state, by part key, and their sum (kept with the map, so a
 * stage costs its parts, not a pass over the 2,000+ parts of a 1000-member state).
 *
 * @example
 * ```ts
 * const { map, total } = partSizes(undefined, loadedParts)
 * ```
 */
export interface PartSizes {
  readonly map: ReadonlyMap<string, number>;
  readonly total: number;
}

/** One cached state and the bytes it is stored in. @example `cache.lookup(key)?.state` */
export interface CachedState {
  readonly token: string;
  readonly state: GroupState;
  readonly meta: PersistMeta;
  /** Stored size of each part of the state, and their sum. */
  readonly sizes: PartSizes;
  /** `sizes.total` plus {@link CACHED_STATE_ENTRY_BYTES}. */
  readonly bytes: number;
}

/** Bounds of a state cache. @example `{ entries: 64, bytes: 8 * 1024 * 1024 }` */
export interface CacheBounds {
  readonly entries: number;
  readonly bytes: number;
}

/**
 * Part sizes after writing `parts` over `base` (a `null` value deletes its part). Takes `base`
 * over: its map is updated in place and must not be read afterwards (the cache entry it belonged
 * to is replaced by the one these sizes are for: a staged state replaces its predecessor under
 * the same cache key, and a stage never persisted is never looked up again, its token unknown).
 * Relies on one state task per group at a time (the group's actor runs its steps one by one, and
 * a step awaits its early commit run however it ends, src/engine/commits.ts): two tasks of one
 * group staging over the same entry would both write its map.
 *
 * @example
 * ```ts
 * partSizes(undefined, loadedParts) // { map: Map { "h" => 412, ... }, total: 9650 }
 * ```
 */
export function partSizes(base: PartSizes | undefined, parts: ReadonlyArray<StatePart>): PartSizes {
  const map = (base?.map ?? new Map<string, number>()) as Map<string, number>;
  let total = base?.total ?? 0;
  for (const [key, value] of parts) {
    total -= map.get(key) ?? 0;
    if (value === null) map.delete(key);
    else {
      map.set(key, value.length);
      total += value.length;
    }
  }
  return { map, total };
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

  /**
   * @param released called with each entry that leaves the cache, evicted or forgotten (not one
   *   replaced by its group's next state): the worker drops what else holds its state's tree
   */
  constructor(private readonly released: (entry: CachedState) => void = () => {}) {}

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
    const entry = this.remove(key);
    if (entry !== undefined) this.released(entry);
  }

  private remove(key: string): CachedState | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.total -= entry.bytes;
    return entry;
  }

  /** Drops every entry whose key starts with `prefix`. @example `cache.forgetPrefix("e1:")` */
  forgetPrefix(prefix: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.forget(key);
  }

  /**
   * True when an entry of `sizes` under `key` would stay within `bounds` without evicting
   * another (it may replace the entry under `key` itself).
   *
   * @example
   * ```ts
   * if (cache.hasRoom(key, sizes, bounds)) cache.remember(key, entry, sizes, bounds)
   * ```
   */
  hasRoom(key: string, sizes: PartSizes, bounds: CacheBounds): boolean {
    const replaced = this.entries.get(key);
    const count = this.entries.size + (replaced === undefined ? 1 : 0);
    const bytes = this.total - (replaced?.bytes ?? 0) + CACHED_STATE_ENTRY_BYTES + sizes.total;
    return count <= Math.max(1, bounds.entries) && bytes <= bounds.bytes;
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
  remember(key: string, entry: Omit<CachedState, "sizes" | "bytes">, sizes: PartSizes, bounds: CacheBounds): CachedState {
    // a replaced entry is not released: the worker remembers a group's next state over its last
    // (whose tree's caches then move on to the new tree), and forgets any other first
    this.remove(key);
    const bytes = CACHED_STATE_ENTRY_BYTES + sizes.total;
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
