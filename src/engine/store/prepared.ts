/**
 * Prepared batches: the first writes of a step's batch put into a LevelDB chained batch ahead of
 * the rest (src/engine/store/store.ts `prepare`), the puts every chained batch of the store
 * is built with, and how synced writes sharing one batch (group commit) take a prepared one.
 *
 * @module
 */
import type { Level } from "level";
import type { SublevelName } from "./sublevels.js";
import type { RawOp, StoreOp } from "./store.js";
import { versioned } from "./version.js";

/** A LevelDB chained batch of the store's database. */
export type ChainedBatch = ReturnType<Level<string, Uint8Array>["batch"]>;

/**
 * The first writes of a step's batch, put into a LevelDB batch ahead of the rest
 * (`EngineStore.prepare`): a receiver's commit document (83 KB at 1000 members) and index
 * records go in while its worker applies the commit, or a joiner's (720 KB and 1,018 index
 * records at 1000 members) while its worker joins, so the write after the worker only adds the
 * state. Still one atomic write; used by exactly one `EngineStore.batch` call, which discards it
 * when its ops do not start with these. Made only from PREPARE_MIN_BYTES of values: a synced
 * write that brings one starts its own LevelDB batch in the group commit ({@link syncGroupLength}).
 */
export interface PreparedOps {
  readonly ops: readonly StoreOp[];
  /** Frees the LevelDB batch unwritten (idempotent). */
  discard(): void;
}

/** What `EngineStore.prepare` hands out: the ops and their native batch. */
export class Prepared implements PreparedOps {
  constructor(
    readonly ops: readonly StoreOp[],
    readonly batch: ChainedBatch,
  ) {}

  discard(): void {
    void this.batch.close().catch(() => undefined); // closing a written or closed batch is a no-op
  }
}

/** The unsealed stored form of a plain op's value (version byte in front). */
export const plainRaw = (op: StoreOp): RawOp => ({ sub: op.sub, key: op.key, raw: op.value === null ? null : op.versioned === true ? op.value : versioned(op.value) });

/**
 * Puts raw ops into a chained batch of the root database, each under its sublevel's prefix
 * (`prefix(name)`: the sublevel's `prefix`, `!name!`): the same stored keys as a put with the
 * `sublevel` option, which costs abstract-level ~10-20 us an op in option handling and key
 * re-encoding (a join at 1000 members puts 1,059, ~20 ms under load; this ~1 ms).
 *
 * @example
 * ```ts
 * putAll(batch, ops, (name) => db.sublevel(name).prefix)
 * ```
 */
export function putAll(batch: ChainedBatch, ops: readonly RawOp[], prefix: (name: SublevelName) => string): void {
  for (const op of ops) {
    if (op.raw === null) batch.del(prefix(op.sub) + op.key);
    else batch.put(prefix(op.sub) + op.key, op.raw);
  }
}

/** A synced write waiting in the store's group commit (src/engine/store/store.ts `syncedBatch`). */
export interface SyncedWrite {
  readonly raw: readonly RawOp[];
  /** Its first ops, already in this LevelDB batch. */
  readonly prepared?: ChainedBatch;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * How many of the queued synced writes go into the next LevelDB batch: at most `max`, and only the
 * first may bring a prepared batch (its puts must come first, and two chained batches cannot be
 * merged), so a group ends before the next write that brings one.
 *
 * @example
 * ```ts
 * const group = queue.splice(0, syncGroupLength(queue, SYNC_GROUP_MAX_WRITES))
 * ```
 */
export function syncGroupLength(queue: ReadonlyArray<{ readonly prepared?: unknown }>, max: number): number {
  let n = Math.min(1, queue.length);
  while (n < queue.length && n < max && queue[n]?.prepared === undefined) n++;
  return n;
}
