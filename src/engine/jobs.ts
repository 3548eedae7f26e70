/**
 * What the group machine (machines/group.ts) and the engine's steps exchange: jobs, step
 * inputs and outputs, held secrets. Both import this module; it imports neither, so there is
 * no cycle between machines/ and src/engine/.
 *
 * @module
 */
import type { GroupRecord } from "./store/records.js";
import type { StoreOp } from "./store/store.js";
import type { LongTermSecret } from "../lts/secret.js";

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

/** A job's promise handles. @example `{ resolve, reject }` */
export interface JobReply {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * One operation on a group, queued in its actor.
 *
 * @example
 * ```ts
 * actor.send({ type: "job", job: { kind: "encrypt", needsMember: true, input, reply } })
 * ```
 */
export interface GroupJob {
  readonly kind: string;
  /** Refused with NOT_MEMBER unless the group is in state `member`. */
  readonly needsMember: boolean;
  readonly input: unknown;
  readonly reply: JobReply;
}

/** What the `execute` actor receives. @example `executeStep(ctx, input)` */
export interface StepInput {
  readonly groupId: string;
  readonly job: GroupJob;
  /** Step number inside the job (0 first). */
  readonly step: number;
  /** Input of this step: the job's input, or the previous step's `again`. */
  readonly input: unknown;
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
  /** When set, another step runs with this input after the batch is written. */
  readonly again?: unknown;
}

