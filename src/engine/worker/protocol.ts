/**
 * The messages between the engine (main thread) and its workers. Everything here is plain
 * data that survives structured cloning; errors travel as {@link ErrorData}.
 *
 * A task that needs a group's MLS state names it by {@link StateRef}: the worker uses its
 * cached decoded state when the cached token equals `token`, otherwise answers `{ miss: true }`
 * and the engine repeats the task with the stored `parts`. A task that changes the state
 * returns a {@link StateChange}: the parts to write or delete (src/mls/storage.ts) and a fresh
 * token, which the engine persists in the same batch as the group record.
 *
 * @module
 */
import type { ErrorData } from "../../errors.js";
import type { LongTermCiphersuiteName, SchemeName } from "../../constants.js";
import type { StatePart } from "../../mls/storage.js";
import type { SecretGroupCommit } from "../../commit.js";
import type { CommitInspection } from "../../group/index.js";

/** Which state a task works on. @example `{ key: "e1:ab..", token: "9f..", cacheLimit: 64, cacheBytes: 8388608 }` */
export interface StateRef {
  /** Cache key: engine instance id and group id (one pool may serve several engines). */
  readonly key: string;
  /** Token of the persisted state the engine expects (undefined: no state yet). */
  readonly token?: string;
  /**
   * Every stored part of the state, sent only after a cache miss: opened from the engine's sealed
   * store, so each is authenticated under its key (the load does not hash them again).
   */
  readonly parts?: ReadonlyArray<readonly [string, Uint8Array]>;
  /** Most states the worker keeps decoded. */
  readonly cacheLimit: number;
  /** Most stored bytes (summed over cached states) the worker keeps decoded. */
  readonly cacheBytes: number;
}

/** A key pair as plain data. @example `{ publicKey, secretKey }` */
export interface IdentityData {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** Commit kinds the owner creates. @example `{ op: "commit", ref, action: "rotate" }` */
export type CommitAction = "add" | "remove" | "update" | "rotate";

/**
 * A worker task.
 *
 * @example
 * ```ts
 * const task: TaskRequest = { op: "process", ref, commit }
 * ```
 */
export type TaskRequest =
  | { readonly op: "keyPackage"; readonly identity: IdentityData }
  | { readonly op: "create"; readonly ref: StateRef; readonly identity: IdentityData; readonly groupId: Uint8Array; readonly ciphersuite: LongTermCiphersuiteName }
  | {
      readonly op: "join";
      readonly ref: StateRef;
      readonly identity: IdentityData;
      readonly secret: Uint8Array;
      /** The group's owner: the author of the commit's document, whose signature the engine verified (the worker trusts signatures under this key in the Welcome, src/mls/documentSigner.ts). */
      readonly owner: Uint8Array;
      /** That verified document's commit. */
      readonly commit: SecretGroupCommit;
      /** False: the joined state is cached only if that evicts no other state (src/engine/joinKeep.ts); absent means cached. */
      readonly keepState?: boolean;
    }
  | {
      readonly op: "commit";
      readonly ref: StateRef;
      readonly action: CommitAction;
      readonly keyPackages?: readonly Uint8Array[];
      /** The authors of the key packages' documents, in order: each package's credential must be its author. */
      readonly authors?: readonly Uint8Array[];
      readonly publicKeys?: readonly Uint8Array[];
    }
  | { readonly op: "process"; readonly ref: StateRef; readonly commit: SecretGroupCommit }
  | {
      readonly op: "encrypt";
      readonly ref: StateRef;
      readonly plaintexts: readonly Uint8Array[];
      readonly scheme: SchemeName;
      readonly aad?: Uint8Array;
      /** Last long-term nonce counter the engine knows used (or reserved after a restart). */
      readonly nonceFloor: bigint;
    }
  | { readonly op: "decrypt"; readonly ref: StateRef; readonly messages: ReadonlyArray<{ readonly message: Uint8Array; readonly aad?: Uint8Array }> }
  | { readonly op: "drop"; readonly key: string }
  /** A closing engine's leftovers: its states and long-term keys (names starting with `prefix`), its identity. */
  | { readonly op: "forget"; readonly prefix: string; readonly publicKey: Uint8Array }
  | { readonly op: "ping" }
  | { readonly op: "memory"; readonly list?: boolean }
  | { readonly op: "fail"; readonly error: ErrorData };

/** A worker's memory (task `memory`). @example `{ threadId: 1, heapUsed, heapTotal, external, cacheEntries: 64, cacheBytes }` */
export interface WorkerMemory {
  readonly threadId: number;
  /** V8 heap in use (bytes). */
  readonly heapUsed: number;
  /** V8 heap reserved (bytes). */
  readonly heapTotal: number;
  /** Bytes of off-heap memory V8 accounts for (array buffers included). */
  readonly external: number;
  /** The young generation's bound this worker was started with (MiB; 0: V8's default). */
  readonly youngGenerationMb: number;
  /** Decoded MLS states cached. */
  readonly cacheEntries: number;
  /** Their stored bytes (the bound `workerCacheBytes` applies to). */
  readonly cacheBytes: number;
  /** Long-term keys cached for bulk decryption. */
  readonly longTermKeys: number;
  /** Identities (key pairs) cached. */
  readonly identities: number;
  /** Tree-hash snapshots and key summaries the patched ts-mls keeps on this thread (src/mls/treeCaches.ts). */
  readonly treeSnapshots: number;
  readonly keySummaries: number;
  /** Every cached state's key and bytes, least recently used first (when asked). */
  readonly entries?: ReadonlyArray<{ readonly key: string; readonly bytes: number }>;
}

/** Public facts of a state, for the group record. @example `recordAfter(record, { token, parts, summary })` */
export interface StateSummary {
  readonly status: "member" | "removed";
  readonly mlsEpoch: bigint;
  readonly ltsEpoch: bigint;
  /** The members' identities as one vector (src/engine/worker/memberList.ts), only after a change of membership (create, join, commit; a processed commit only when the list changed): messages never send the member list. */
  readonly members?: Uint8Array;
  readonly nonceCounter: bigint;
}

/** A staged state change: parts to write/delete, the new token, the summary. @example `stateOps(gid, out.change)` */
export interface StateChange {
  readonly token: string;
  readonly parts: StatePart[];
  readonly summary: StateSummary;
  /** Milliseconds spent staging the parts. */
  readonly stageMs?: number;
}

/** The worker does not hold the expected state: resend with parts. @example `{ miss: true }` */
export interface Miss {
  readonly miss: true;
}

/** One decrypted message or its error. @example `o.ok ? o.plaintext : errorFromData(o.error)` */
export type DecryptOutcome = { readonly ok: true; readonly plaintext: Uint8Array } | { readonly ok: false; readonly error: ErrorData };

/** Result of `keyPackage`. @example `const { keyPackage, secret, ref } = await runTask<KeyPackageOut>(pool, { op: "keyPackage", identity })` */
export interface KeyPackageOut {
  readonly keyPackage: Uint8Array;
  readonly secret: Uint8Array;
  readonly ref: Uint8Array;
}

/** Result of the state tasks. @example `const { change, commit } = await runStateTask(ctx, gid, record, task)` */
export interface StateOut {
  readonly change?: StateChange;
  /** `commit`: the new SecretGroupCommit's parts and their public facts (so nothing decodes it again). */
  readonly commit?: SecretGroupCommit;
  readonly inspection?: CommitInspection;
  /** `encrypt`: one message per plaintext. */
  readonly messages?: Uint8Array[];
  /** `encrypt` with no change to store (long-term): the last nonce counter used. */
  readonly nonceCounter?: bigint;
  /** `decrypt`: one outcome per message. */
  readonly outcomes?: DecryptOutcome[];
  /** Milliseconds the worker spent in the library call and in staging the parts. */
  readonly timing?: { readonly workMs: number; readonly stageMs: number };
}

/**
 * True for a cache-miss answer.
 *
 * @example
 * ```ts
 * if (isMiss(out)) out = await run({ ...task, ref: { ...ref, parts } })
 * ```
 */
export function isMiss(value: unknown): value is Miss {
  return typeof value === "object" && value !== null && (value as { miss?: unknown }).miss === true;
}

/** A `join` task. @example `const task: JoinTask = { op: "join", ref, identity, secret, owner, commit }` */
export type JoinTask = Extract<TaskRequest, { op: "join" }>;

/**
 * Several groups' joins in one worker task (src/engine/joinBatch.ts): one message each way for
 * all of them; answered with one task result (`{ ok, value }` or `{ ok, error }`) per join, in order:
 * a join's failure is its own.
 *
 * @example
 * ```ts
 * const task: JoinBatchTask = { op: "joins", joins: [a, b, c] }
 * ```
 */
export interface JoinBatchTask {
  readonly op: "joins";
  readonly joins: readonly JoinTask[];
}

/** True for a {@link JoinBatchTask}. @example `isJoinBatch(task) ? runJoinBatch(task) : runWorkerTask(task)` */
export function isJoinBatch(task: unknown): task is JoinBatchTask {
  return typeof task === "object" && task !== null && (task as { op?: unknown }).op === "joins";
}
