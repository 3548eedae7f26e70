/**
 * Which chain positions hold pending follower records (`materialise/q/<gid>/<prev>/<cid>`,
 * src/materialise/store.ts), kept in memory so the follower's scans for the commits that follow
 * a head (src/materialise/replay.ts `drain`, src/materialise/commits.ts `nextCommits`) read the
 * store only where there can be one, and then by point reads of the records listed here: in a
 * stream of many new groups nearly every such scan finds nothing (~3.5 per joined group), the
 * rest one or two records, and each scan cost a LevelDB iterator round trip.
 *
 * Derived from the store when the engine opens; a batch's puts are listed before it is written
 * and its deletes dropped only after it is written (the last operation on a key deciding), so it
 * never misses a record the store holds: a failed batch leaves extra entries, each costing a
 * scan, nothing more.
 *
 * @module
 */
import { Sublevel } from "./store/sublevels.js";
import type { EngineStore, StoreOp } from "./store/store.js";
import { PENDING_PREFIX as PREFIX, parsePendingKey } from "../materialise/store.js";

/** `q/<gid>/<prev>/<cid>` -> `q/<gid>/<prev>/`; undefined for any other key. */
function positionOf(key: string): string | undefined {
  const parsed = parsePendingKey(key);
  return parsed === undefined ? undefined : `${PREFIX}${parsed.gid}/${parsed.prev}/`;
}

/**
 * The pending follower records by chain position.
 *
 * @example
 * ```ts
 * const chain = await PendingChain.load(store)
 * for (const key of chain.listed(`q/${gid}/${head}/`) ?? []) { ... point read ... }
 * ```
 */
export class PendingChain {
  private readonly positions = new Map<string, Set<string>>();

  /** Every stored pending record. @example `await PendingChain.load(store)` */
  static async load(store: EngineStore): Promise<PendingChain> {
    return PendingChain.fromKeys(await store.keys(Sublevel.Materialise, PREFIX));
  }

  /** The records of `keys`, the pending records' keys as listed from the store. @example `PendingChain.fromKeys(keys)` */
  static fromKeys(keys: readonly string[]): PendingChain {
    const chain = new PendingChain();
    for (const key of keys) chain.add(key);
    return chain;
  }

  /**
   * The listed records of one chain position (`q/<gid>/<prev>/`), in key order: every record the
   * store holds there, and perhaps some it does not (a batch not written yet, or failed);
   * undefined for any other prefix (not known here: scan it).
   *
   * @example
   * ```ts
   * chain.listed("q/ab/-/") // ["q/ab/-/cd"]
   * ```
   */
  listed(prefix: string): string[] | undefined {
    // a chain position is a pending key without its commit id
    if (!prefix.endsWith("/") || positionOf(`${prefix}-`) !== prefix) return undefined;
    const keys = this.positions.get(prefix);
    return keys === undefined ? [] : [...keys].sort();
  }

  /** Number of listed records (for tests). @example `chain.size` */
  get size(): number {
    let n = 0;
    for (const cids of this.positions.values()) n += cids.size;
    return n;
  }

  /** True when the record `key` is listed (for tests). @example `chain.has("q/ab/-/cd")` */
  has(key: string): boolean {
    const position = positionOf(key);
    return position !== undefined && this.positions.get(position)?.has(key) === true;
  }

  private add(key: string): void {
    const position = positionOf(key);
    if (position === undefined) return;
    let cids = this.positions.get(position);
    if (cids === undefined) this.positions.set(position, (cids = new Set()));
    cids.add(key);
  }

  private remove(key: string): void {
    const position = positionOf(key);
    if (position === undefined) return;
    const cids = this.positions.get(position);
    cids?.delete(key);
    if (cids?.size === 0) this.positions.delete(position);
  }

  /**
   * Lists the records a batch is about to write (before it is written: a reader never misses one).
   *
   * @example
   * ```ts
   * chain.beforeBatch(ops); await store.batch(ops); chain.afterBatch(ops)
   * ```
   */
  beforeBatch(ops: readonly StoreOp[]): void {
    for (const op of ops) if (op.sub === Sublevel.Materialise && op.value !== null) this.add(op.key);
  }

  /**
   * Drops the records a written batch deleted (the batch's last operation on a key decides,
   * as LevelDB applies a batch in order).
   *
   * @example
   * ```ts
   * await store.batch(ops); chain.afterBatch(ops)
   * ```
   */
  afterBatch(ops: readonly StoreOp[]): void {
    const last = new Map<string, boolean>();
    for (const op of ops) if (op.sub === Sublevel.Materialise && op.key.startsWith(PREFIX)) last.set(op.key, op.value !== null);
    for (const [key, put] of last) if (!put) this.remove(key);
  }
}
