/**
 * What every group step shares: the store, the pool, the engine's identity, and the helpers
 * that run a state task (with the cache-miss round trip) and turn its staged change into
 * store operations and a new group record.
 *
 * @module
 */
import type { Piscina } from "piscina";
import { toHex } from "../bytes.js";
import type { Identity } from "../identity.js";
import type { EngineLimits } from "../constants.js";
import { LruCache } from "../mls/crypto/lru.js";
import { runTask } from "./pool.js";
import type { PendingCommits } from "./pending.js";
import type { PendingBook } from "./pendingOperations.js";
import type { EventHub } from "./watch.js";
import { isMiss } from "./worker/protocol.js";
import type { StateChange, StateOut, StateRef, TaskRequest } from "./worker/protocol.js";
import type { GroupRecord } from "./store/records.js";
import { Sublevel } from "./store/sublevels.js";
import type { EngineStore, StoreOp } from "./store/store.js";
import type { OutboxKeys } from "./outbox.js";
import type { WelcomeKeys } from "./welcomeKeys.js";
import type { PendingChain } from "./pendingChain.js";
import type { JoinBatcher } from "./joinBatch.js";
import type { BulkDecrypt } from "./poolDecrypt.js";
import { decodeMemberList } from "./worker/memberList.js";

/**
 * The engine as its group steps see it.
 *
 * @example
 * ```ts
 * const ctx: EngineContext = { store, pool, joins: new JoinBatcher(pool), identity, engineId: "e1", cacheLimit: 64, cacheBytes: 8 * 1024 * 1024, workerGroups: new LruCache(workerGroupsBound(64, 2)), nonceBlock: 1024n, bulkDecrypt: "auto", stats: emptyStats(), limits: DEFAULT_ENGINE_LIMITS, pendingCommits: await PendingCommits.load(store), pendingOps: await PendingBook.load(store), welcomes: await WelcomeKeys.load(store), pendingChain: await PendingChain.load(store), outbox: await OutboxKeys.open(store), events: new EventHub(), droppedRuns: new Map() }
 * ```
 */
export interface EngineContext {
  readonly store: EngineStore;
  readonly pool: Piscina;
  /** Posts joins to the pool, those of one event-loop turn together (src/engine/joinBatch.ts). */
  readonly joins: JoinBatcher;
  readonly identity: Identity;
  /** Random per open engine: names its states in shared worker caches. */
  readonly engineId: string;
  /** Most decoded states per worker. */
  readonly cacheLimit: number;
  /** Most stored bytes summed over the decoded states of one worker. */
  readonly cacheBytes: number;
  /**
   * Groups some worker has been given a state of since open (bounded by {@link workerGroupsBound}).
   * One not here cannot be in a worker's cache, whose key holds this engine's random id.
   */
  readonly workerGroups: LruCache<string, true>;
  /** Long-term nonce counters reserved per block. */
  readonly nonceBlock: bigint;
  /** Where large long-term batches open (`EngineOptions.bulkDecrypt`; absent: `"auto"`). */
  readonly bulkDecrypt?: BulkDecrypt;
  /** Counters for `engine.stats()`. */
  readonly stats: EngineStats;
  /** Pending-input limits (defaults in constants.ts). */
  readonly limits: EngineLimits;
  /** Commits buffered because their predecessor is missing (bounded by `limits`). */
  readonly pendingCommits: PendingCommits;
  /** Keys of created documents in the durable outbox, in creation order (src/engine/outbox.ts). */
  readonly outbox: OutboxKeys;
  /** Groups with stored Welcome entries (src/engine/welcomeKeys.ts). */
  readonly welcomes: WelcomeKeys;
  /** Chain positions holding pending follower records (scans skipped where none). */
  readonly pendingChain: PendingChain;
  /** Pending operations in memory, for the limits and re-examination (src/engine/pendingOperations.ts). */
  readonly pendingOps: PendingBook;
  /** The watchers of `engine.watch()`. */
  readonly events: EventHub;
  /**
   * Groups whose early commit run (src/engine/commits.ts startApply) was dropped because its
   * document failed the signature check or the full read, with the MLS epoch it was at: no more
   * early runs for that group at that epoch (bounded by `EARLY_RUN_DROPPED_GROUPS`).
   */
  readonly droppedRuns: Map<string, bigint>;
  /** Asks another group's actor to drop one of its pending operations (set by the engine). */
  requestDrop?: (groupId: string, key: string, reason: string) => void;
}

/**
 * How many groups `workerGroups` remembers: four times what the workers' caches can hold. A group
 * forgotten while a worker still holds it costs a needless load of its parts, never a wrong
 * state (a cached state with the expected token is used whatever parts come with the task).
 *
 * @example
 * ```ts
 * new LruCache<string, true>(workerGroupsBound(64, 2)) // 512
 * ```
 */
export function workerGroupsBound(cacheLimit: number, threads: number): number {
  return 4 * cacheLimit * Math.max(1, threads);
}

/**
 * Cumulative counters of an engine (since open).
 *
 * @example
 * ```ts
 * const { workerMisses, workMs, stageMs, persistMs } = engine.stats()
 * ```
 */
export interface EngineStats {
  /** State tasks run on workers. */
  stateTasks: number;
  /** Of those, how many ran on the stored parts: the worker answered a cache miss, or no worker had been given the group since open. */
  workerMisses: number;
  /** Worker milliseconds in library calls (and decoding stored states after a miss). */
  workMs: number;
  /** Worker milliseconds staging storage parts. */
  stageMs: number;
  /** Milliseconds writing batches. */
  persistMs: number;
  /** Batches written. */
  batches: number;
  /** Milliseconds (main thread) computing materialisation index operations for commits. */
  indexMs: number;
  /** Long-term messages opened on the main thread (from the held secrets, no worker task). */
  mainDecrypts: number;
  /** Long-term messages opened in the worker pool (batches of at least `POOL_DECRYPT_MIN_VALUES` values or `POOL_DECRYPT_MIN_BYTES`). */
  poolDecrypts: number;
  /** Times a group's long-term secrets were read from its stored state head (after hydration). */
  secretLoads: number;
  /** Pending inputs dropped because a limit was reached, by reason (e.g. `pendingCommitsPerGroup`). */
  dropped: Record<string, number>;
  /** Jobs the engine queued on its own (re-examinations at open, drops for a total limit) that failed. */
  backgroundErrors: number;
}

/** Fresh zeroed counters. @example `const stats = emptyStats()` */
export function emptyStats(): EngineStats {
  return { stateTasks: 0, workerMisses: 0, workMs: 0, stageMs: 0, persistMs: 0, batches: 0, indexMs: 0, mainDecrypts: 0, poolDecrypts: 0, secretLoads: 0, dropped: {}, backgroundErrors: 0 };
}

/** Counts one pending input dropped because the limit `reason` was reached. @example `countDropped(ctx, "pendingCommitsPerGroup")` */
export function countDropped(ctx: EngineContext, reason: string): void {
  ctx.stats.dropped[reason] = (ctx.stats.dropped[reason] ?? 0) + 1;
}

function count(ctx: EngineContext, out: StateOut): StateOut {
  ctx.stats.stateTasks++;
  if (out.timing !== undefined) {
    ctx.stats.workMs += out.timing.workMs;
    ctx.stats.stageMs += out.timing.stageMs;
  }
  return out;
}

type StateTask = TaskRequest & { ref: StateRef };
type WithoutRef<T> = T extends unknown ? Omit<T, "ref"> : never;

/**
 * Posts a state task. A processed commit's MLS message (83 KB at 1000 members) goes as a fresh
 * copy moved to the worker: serialising it costs several times a copy (the message buffer grows
 * in steps, and the worker copies it out again). A fresh copy per attempt: a moved buffer is gone
 * here. Stored parts move too: each was opened in the memory it was read into, its own
 * (src/engine/store/seal.ts `openInPlace`), which nothing here keeps once posted (322 KB at 1000
 * members).
 */
function postStateTask(ctx: EngineContext, groupId: string, task: StateTask): Promise<StateOut> {
  if (task.op === "join") return ctx.joins.run(groupId, task);
  const moved = partBuffers(task.ref.parts);
  if (task.op !== "process") return runTask<StateOut>(ctx.pool, task, groupId, "group", moved);
  // new Uint8Array, not .slice(): a Node Buffer's slice is a view, whose transfer would detach the caller's bytes
  const mlsCommit = new Uint8Array(task.commit.mlsCommit);
  return runTask<StateOut>(ctx.pool, { ...task, commit: { ...task.commit, mlsCommit } }, groupId, "group", [mlsCommit.buffer, ...(moved ?? [])]);
}

/** The buffers of stored parts, when each part has one of its own (else none move: they are copied). */
function partBuffers(parts: StateRef["parts"]): ArrayBuffer[] | undefined {
  if (parts === undefined) return undefined;
  const buffers = new Set(parts.map(([, bytes]) => bytes.buffer));
  return buffers.size === parts.length ? ([...buffers] as ArrayBuffer[]) : undefined;
}

/** The group's stored state parts, keyed as the worker reads them. */
async function storedParts(ctx: EngineContext, groupId: string): Promise<StateRef["parts"]> {
  const prefix = `${groupId}/`;
  // opened where they were read (memory of their own, moved to the worker whole): not allocated and written again
  return (await ctx.store.scan(Sublevel.State, prefix, "group state", -1, { inPlace: true })).map(([k, v]) => [k.slice(prefix.length), v] as const);
}

/**
 * Runs a state task on the group's worker with its stored state: at once when no worker has been
 * given the group since this engine opened (its first task could only miss: the round trip was
 * ~0.6 ms of a reopened receiver's commit at 1000 members, session 23), else after the worker
 * answers a cache miss.
 *
 * @example
 * ```ts
 * const out = await runStateTask(ctx, gid, record, { op: "process", commit })
 * ```
 */
export async function runStateTask(ctx: EngineContext, groupId: string, record: GroupRecord | undefined, task: WithoutRef<StateTask>): Promise<StateOut> {
  const ref: StateRef = {
    key: `${ctx.engineId}:${groupId}`,
    cacheLimit: ctx.cacheLimit,
    cacheBytes: ctx.cacheBytes,
    ...(record?.stateToken === undefined ? {} : { token: toHex(record.stateToken) }),
  };
  const held = ref.token === undefined || ctx.workerGroups.get(groupId) === true;
  // given from here on, whatever the outcome: a worker that loads the parts keeps the state even if the task then fails
  ctx.workerGroups.set(groupId, true);
  if (held) {
    const first = await postStateTask(ctx, groupId, { ...task, ref } as StateTask);
    if (!isMiss(first)) return count(ctx, first);
  }
  ctx.stats.workerMisses++;
  const second = await postStateTask(ctx, groupId, { ...task, ref: { ...ref, parts: await storedParts(ctx, groupId) } } as StateTask);
  if (isMiss(second)) throw new Error("worker refused the stored state");
  return count(ctx, second);
}

/**
 * Store operations for a staged state change (parts under `state/<gid>/`).
 *
 * @example
 * ```ts
 * ops.push(...stateOps(gid, out.change))
 * ```
 */
export function stateOps(groupId: string, change: StateChange): StoreOp[] {
  return change.parts.map(([key, value]) => ({ sub: Sublevel.State, key: `${groupId}/${key}`, value }));
}

/**
 * The group record after a state change.
 *
 * @example
 * ```ts
 * const next = recordAfter(record, out.change, { head: commitId })
 * ```
 */
export function recordAfter(record: GroupRecord, change: StateChange, extra: Partial<GroupRecord> = {}): GroupRecord {
  return {
    ...record,
    status: change.summary.status,
    mlsEpoch: change.summary.mlsEpoch,
    ltsEpoch: change.summary.ltsEpoch,
    members: change.summary.members === undefined ? record.members : decodeMemberList(change.summary.members),
    stateToken: Uint8Array.from(Buffer.from(change.token, "hex")),
    ...extra,
  };
}
