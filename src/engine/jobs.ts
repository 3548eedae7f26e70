/**
 * What the group machine (machines/group.ts) and the engine's steps exchange: the jobs (a
 * discriminated union by `kind`), step inputs and outputs, the protocol events a step reports,
 * held secrets. Both import this module and it imports neither, so there is no cycle between
 * machines/ and src/engine/.
 *
 * @module
 */
import type { EngineLimits, SchemeName } from "../constants.js";
import type { SignedDocument } from "../documents/index.js";
import type { SecretGroupError } from "../errors.js";
import type { LongTermSecret } from "../lts/secret.js";
import type { GroupRecord } from "./store/records.js";
import type { PreparedOps, StoreOp } from "./store/store.js";
import type { CommitAction } from "./worker/protocol.js";

/**
 * A group's long-term secrets (sorted by epoch) as read for the persisted state `token`.
 *
 * @example
 * ```ts
 * const held: HeldSecrets = { token: "9f..", secrets }
 * ```
 */
export interface HeldSecrets {
  /** Hex state token of the group record these secrets belong to. */
  readonly token: string;
  readonly secrets: readonly LongTermSecret[];
}

/** Input of a `commit` job. @example `{ action: "add", keyPackages }` */
export interface CommitJob {
  readonly action: CommitAction;
  readonly keyPackages?: readonly Uint8Array[];
  /**
   * An add from key package documents still being checked: each package's document author (the
   * worker checks the package's credential against it, where it decodes the package anyway) and
   * the documents' signature checks, which the step starts once the worker has its task and
   * awaits before it uses the worker's commit.
   */
  readonly authors?: readonly Uint8Array[];
  readonly verify?: () => Promise<void>;
  readonly publicKeys?: readonly Uint8Array[];
}

/** Input of an `encrypt` job. @example `{ plaintexts: [bytes], scheme: "long-term" }` */
export interface EncryptJob {
  readonly plaintexts: readonly Uint8Array[];
  readonly scheme: SchemeName;
  readonly aad?: Uint8Array;
}

/**
 * One message of a `decrypt` job, already peeked. A long-term message's fields are positions in
 * `message` (bulk calls make thousands of items: numbers, not views; `longTermCiphertextOf` in
 * src/engine/decrypt.ts makes the views when needed); -1 for a sender-ratchet message.
 *
 * @example
 * ```ts
 * const item: DecryptItem = { message, scheme: "long-term", epoch: 0n, aad: undefined, groupAt: 2, groupLength: 32, nonceAt: 43, ctAt: 56 }
 * ```
 */
export interface DecryptItem {
  readonly message: Uint8Array;
  readonly scheme: SchemeName;
  readonly epoch: bigint;
  readonly aad: Uint8Array | undefined;
  /** Long-term: where the ciphertext's group id starts, and its length. */
  readonly groupAt: number;
  readonly groupLength: number;
  /** Long-term: where the 12-byte nonce starts. */
  readonly nonceAt: number;
  /** Long-term: where the AEAD output (ciphertext || tag) starts; it runs to the end of `message`. */
  readonly ctAt: number;
}

/** Input of a `decrypt` job. @example `{ items: [item] }` */
export interface DecryptJob {
  readonly items: readonly DecryptItem[];
}

/** How one ingested document ended. @example `{ outcome: "pending" }` */
export type IngestOutcome =
  | { readonly outcome: "applied" | "pending" | "duplicate" | "superseded" }
  | { readonly outcome: "refused"; readonly error: SecretGroupError };

/**
 * What a job asks of the group's actor. `commit` and `encrypt` need the group in state `member`.
 *
 * @example
 * ```ts
 * const job: JobRequest = { kind: "encrypt", encrypt: { plaintexts: [bytes], scheme: "long-term" } }
 * ```
 */
export type JobRequest =
  | { readonly kind: "create"; readonly doc: SignedDocument }
  /** `verified`: the document's signature check (src/documents `decodeDocumentDeferred`), awaited before anything acts on it. */
  | { readonly kind: "ingest"; readonly doc: SignedDocument; readonly verified: Promise<void> }
  | { readonly kind: "commit"; readonly commit: CommitJob }
  | { readonly kind: "encrypt"; readonly encrypt: EncryptJob }
  | { readonly kind: "decrypt"; readonly decrypt: DecryptJob }
  | { readonly kind: "read" }
  /** Drop one pending commit of the group (a total limit of {@link EngineLimits} was reached). */
  | { readonly kind: "trim"; readonly commitId: string; readonly limit: keyof EngineLimits }
  /** An application document whose encrypted fields belong to this group (src/engine/operations.ts). */
  | { readonly kind: "operation"; readonly doc: SignedDocument; readonly verified: Promise<void> }
  /** Drop one pending operation (`oppending` key) to keep a total limit, counted under `reason`. */
  | { readonly kind: "dropPending"; readonly key: string; readonly reason: string }
  /**
   * Drain, then re-examine pending operations: queued first on every hydrated actor (finishes a
   * drain a crash cut short, src/engine/actors.ts) and, at open, for each group with pending operations.
   */
  | { readonly kind: "resume" };

/** True for the jobs only a member runs. @example `needsMember({ kind: "read" }) // false` */
export const needsMember = (job: JobRequest): boolean => job.kind === "commit" || job.kind === "encrypt";

/** A job's promise handles. @example `{ resolve, reject }` */
export interface JobReply {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * One queued job: the request and where its result goes.
 *
 * @example
 * ```ts
 * actor.send({ type: "job", job: { kind: "read", reply } })
 * ```
 */
export type GroupJob = JobRequest & { readonly reply: JobReply };

/**
 * A job's next step, asked for by the step before: drain the group's pending commits
 * (reporting the fate of `watch`), or run the same job again (an encryption after its nonce
 * reservation was written).
 *
 * @example
 * ```ts
 * const again: FollowUp = { kind: "drain", watch: commitIdHex, watchOutcome: { outcome: "pending" } }
 * ```
 */
export type FollowUp =
  | { readonly kind: "drain"; readonly watch?: string; readonly watchOutcome?: IngestOutcome }
  | { readonly kind: "retry" };

/**
 * The protocol events a step reports, which move the machine between its status states:
 * `JOINED` (awaiting-welcome or removed -> member), `COMMIT_APPLIED` (member stays member),
 * `REMOVED` (member -> removed).
 *
 * @example `const e: ProtocolEvent = "JOINED"`
 */
export type ProtocolEvent = "JOINED" | "COMMIT_APPLIED" | "REMOVED";

/** What the `execute` actor receives. @example `executeStep(ctx, input)` */
export interface StepInput {
  readonly groupId: string;
  readonly job: GroupJob;
  /** Step number inside the job (0 first). */
  readonly step: number;
  /** Set on every step after the first: what the previous step asked for. */
  readonly followUp?: FollowUp;
  readonly record: GroupRecord | undefined;
  /** Last long-term nonce counter used (in memory; the record holds the reservation). */
  readonly counter: bigint;
  /** Long-term secrets held in memory (valid only while their token is the record's). */
  readonly secrets: HeldSecrets | undefined;
}

/** What the `execute` actor returns: writes for one batch, the new record, the result. @example `{ ops, record, result: "applied" }` */
export interface StepOutput {
  readonly ops: readonly StoreOp[];
  readonly record?: GroupRecord;
  readonly counter?: bigint;
  /** Long-term secrets to hold from now on (kept in memory only, once the batch is written). */
  readonly secrets?: HeldSecrets;
  /** The job's result (the first step that sets it wins). */
  readonly result?: unknown;
  /** When set, another step runs after the batch is written. */
  readonly again?: FollowUp;
  /** What the step did to the group; once its batch is written it picks the machine's status state. */
  readonly event?: ProtocolEvent;
  /** Write the batch with `sync` (fsync before the job goes on): nonce reservations, used ratchet keys. */
  readonly durable?: true;
  /** Runs once the batch is written: in-memory bookkeeping of what it stored, events for watchers. */
  readonly after?: () => void;
  /** The first of `ops`, already put into the LevelDB batch (src/engine/store/store.ts `prepare`). */
  readonly prepared?: PreparedOps;
}
