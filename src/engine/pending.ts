/**
 * The bound on commits a node buffers because their predecessor has not arrived (the
 * follower's pending records, `materialise/q/...`, src/materialise/commits.ts): per group and in
 * total, by count and by bytes ({@link EngineLimits}). When a limit is reached the oldest
 * pending commit goes, from the store (its index record, commit record, document and Welcome
 * entry) and from this ledger, and `stats().dropped[limit]` counts it. A commit this node has
 * applied is never in the ledger, so applied state is never dropped.
 *
 * The ledger is in memory and derived from the store when the engine opens (so the totals
 * survive a restart); it changes only after a batch is written ({@link PendingCommits.afterBatch}),
 * from the batch's own operations. Arrival order is kept in memory: after a restart the commits
 * buffered before it count as older than any that arrive later (among themselves, in key order).
 *
 * @module
 */
import { STORAGE_VERSION_BYTES } from "../constants.js";
import type { EngineLimits } from "../constants.js";
import { CommitStatus, decodeCommitRecord } from "./store/records.js";
import { Sublevel } from "./store/sublevels.js";
import type { EngineStore, StoreOp } from "./store/store.js";
import { PENDING_PREFIX, parsePendingKey } from "../materialise/store.js";

/** One buffered commit. @example `{ gid, cid, indexKey: "q/<gid>/<prev>/<cid>", bytes: 812 }` */
export interface PendingEntry {
  readonly gid: string;
  readonly cid: string;
  /** Its follower record's key in the materialise sublevel. */
  readonly indexKey: string;
  /** Size of its document. */
  readonly bytes: number;
}

/** Names of the limits, as counted in `stats().dropped`. @example `PendingLimit.PerGroup` */
export const PendingLimit = {
  PerGroup: "pendingCommitsPerGroup",
  Total: "pendingCommitsTotal",
  BytesPerGroup: "pendingCommitBytesPerGroup",
  BytesTotal: "pendingCommitBytesTotal",
} as const;
/** One of {@link PendingLimit}. @example `const l: PendingLimitName = "pendingCommitsTotal"` */
export type PendingLimitName = (typeof PendingLimit)[keyof typeof PendingLimit];


/** True for a commit record that leaves the pending set (applied here, or refused by MLS). */
function settled(value: Uint8Array): boolean {
  try {
    const status = decodeCommitRecord(value).status;
    return status === CommitStatus.Applied || status === CommitStatus.Refused;
  } catch {
    return false;
  }
}

/**
 * The store operations that drop a pending commit (for a limit, or refused by MLS before the
 * follower chained it): its follower record, commit record, Welcome entry and document.
 *
 * @example
 * ```ts
 * ops.push(...dropPendingCommitOps(entry))
 * ```
 */
export function dropPendingCommitOps(e: Pick<PendingEntry, "gid" | "cid" | "indexKey">): StoreOp[] {
  return [
    { sub: Sublevel.Materialise, key: e.indexKey, value: null },
    { sub: Sublevel.Commits, key: `${e.gid}/${e.cid}`, value: null },
    { sub: Sublevel.Welcomes, key: `${e.gid}/${e.cid}`, value: null },
    { sub: Sublevel.Docs, key: e.cid, value: null },
  ];
}

/**
 * The pending commits of one engine, per group and in total, in arrival order.
 *
 * @example
 * ```ts
 * const pending = await PendingCommits.load(store)
 * pending.count // commits buffered over all groups
 * ```
 */
export class PendingCommits {
  /** Every entry by `<gid>/<cid>`, in arrival order (a Map keeps insertion order). */
  private readonly all = new Map<string, PendingEntry>();
  private readonly groups = new Map<string, Map<string, PendingEntry>>();
  private totalBytes = 0;

  /**
   * Derives the ledger from the store: every follower pending record whose commit this node
   * has not applied, sized by its stored document. `keys`: the pending records' keys, when the
   * caller has listed them already (opening lists them once for this and {@link PendingChain}).
   *
   * @example
   * ```ts
   * const pending = await PendingCommits.load(store)
   * ```
   */
  static async load(store: EngineStore, keys?: readonly string[]): Promise<PendingCommits> {
    const ledger = new PendingCommits();
    for (const key of keys ?? (await store.keys(Sublevel.Materialise, PENDING_PREFIX))) {
      const ids = parsePendingKey(key);
      if (ids === undefined) continue;
      const record = await store.get(Sublevel.Commits, `${ids.gid}/${ids.cid}`, "commit record");
      if (record !== undefined && settled(record)) continue;
      const doc = await store.get(Sublevel.Docs, ids.cid, "document");
      ledger.add({ ...ids, indexKey: key, bytes: doc?.length ?? 0 });
    }
    return ledger;
  }

  /** Pending commits over all groups. @example `pending.count` */
  get count(): number {
    return this.all.size;
  }

  /** Bytes of pending commit documents over all groups. @example `pending.bytes` */
  get bytes(): number {
    return this.totalBytes;
  }

  /** One group's pending commits, oldest first. @example `pending.ofGroup(gid).length` */
  ofGroup(gid: string): PendingEntry[] {
    return [...(this.groups.get(gid)?.values() ?? [])];
  }

  /** The oldest pending commit over all groups. @example `pending.oldest()?.gid` */
  oldest(): PendingEntry | undefined {
    return this.all.values().next().value;
  }

  /** The entry of one commit, if it is pending. @example `pending.get(gid, cid)` */
  get(gid: string, cid: string): PendingEntry | undefined {
    return this.all.get(`${gid}/${cid}`);
  }

  private add(e: PendingEntry): void {
    const key = `${e.gid}/${e.cid}`;
    if (this.all.has(key)) return;
    this.all.set(key, e);
    let group = this.groups.get(e.gid);
    if (group === undefined) this.groups.set(e.gid, (group = new Map()));
    group.set(e.cid, e);
    this.totalBytes += e.bytes;
  }

  /** Forgets one commit (it was chained, applied, refused or dropped). @example `pending.remove(gid, cid)` */
  remove(gid: string, cid: string): void {
    const e = this.all.get(`${gid}/${cid}`);
    if (e === undefined) return;
    this.all.delete(`${gid}/${cid}`);
    const group = this.groups.get(gid);
    group?.delete(cid);
    if (group?.size === 0) this.groups.delete(gid);
    this.totalBytes -= e.bytes;
  }

  /**
   * Follows a written batch: a follower pending record put (with its document, by a commit
   * not applied in the same batch) enters; a deleted one, or a commit applied or refused here,
   * leaves.
   *
   * @example
   * ```ts
   * await store.batch(ops); pending.afterBatch(ops)
   * ```
   */
  afterBatch(ops: readonly StoreOp[]): void {
    const sizes = docSizes(ops);
    // in batch order: LevelDB applies a batch in order, so a record put then deleted is gone
    for (const op of ops) {
      if (op.sub === Sublevel.Materialise) {
        const ids = parsePendingKey(op.key);
        if (ids === undefined) continue;
        if (op.value === null) this.remove(ids.gid, ids.cid);
        else this.add({ ...ids, indexKey: op.key, bytes: sizes.get(ids.cid) ?? 0 });
      } else if (op.sub === Sublevel.Commits && (op.value === null || settled(op.value))) {
        const [gid, cid] = op.key.split("/") as [string, string];
        this.remove(gid, cid);
      }
    }
  }

  /**
   * The per-group limit reached by a step's `ops` (applied to this ledger), with the oldest
   * commits to drop to get back within it (the newest arrival included only when it alone is
   * over the bytes limit).
   *
   * @example
   * ```ts
   * for (const { entry, limit } of pending.trimGroup(gid, ops, limits)) { ops.push(...dropPendingCommitOps(entry)); dropped[limit]++ }
   * ```
   */
  trimGroup(gid: string, ops: readonly StoreOp[], limits: EngineLimits): Array<{ entry: PendingEntry; limit: PendingLimitName }> {
    // the group's entries as they will be once `ops` are written (a dry run of afterBatch)
    const after = new PendingCommits();
    for (const e of this.ofGroup(gid)) after.add(e);
    after.afterBatch(ops);
    const list = after.ofGroup(gid);
    let count = list.length;
    let bytes = list.reduce((n, e) => n + e.bytes, 0);
    const out: Array<{ entry: PendingEntry; limit: PendingLimitName }> = [];
    for (const entry of list) {
      const limit = count > limits.pendingCommitsPerGroup ? PendingLimit.PerGroup : bytes > limits.pendingCommitBytesPerGroup ? PendingLimit.BytesPerGroup : undefined;
      if (limit === undefined) break;
      out.push({ entry, limit });
      count--;
      bytes -= entry.bytes;
    }
    return out;
  }

  /** The total limit reached, if any. @example `pending.overTotal(limits) // "pendingCommitsTotal"` */
  overTotal(limits: EngineLimits): PendingLimitName | undefined {
    if (this.count > limits.pendingCommitsTotal) return PendingLimit.Total;
    if (this.bytes > limits.pendingCommitBytesTotal) return PendingLimit.BytesTotal;
    return undefined;
  }
}

/**
 * Sizes of the documents a batch puts, by id, as a reload reads them: without the version byte
 * a `versioned` op carries already (src/engine/commits.ts stores a commit document so).
 */
function docSizes(ops: readonly StoreOp[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const op of ops) if (op.sub === Sublevel.Docs && op.value !== null) sizes.set(op.key, op.value.length - (op.versioned === true ? STORAGE_VERSION_BYTES : 0));
  return sizes;
}
