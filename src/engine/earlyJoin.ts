/**
 * The join of a node that is not yet a member, started early in its commit document's step
 * (src/engine/commits.ts): from the commit's framing and Welcome alone, before the full read
 * of the commit and, when speculative, before the document's signature check. Nothing it makes
 * is kept unless the commit passes every check; a discarded join's state leaves its worker's cache.
 *
 * @module
 */
import { toHex } from "../bytes.js";
import type { SecretGroupCommitFields, SignedDocument } from "../documents/index.js";
import { peekWelcome } from "../group/index.js";
import type { EngineContext } from "./context.js";
import { stateKey } from "./context.js";
import { joinThrough } from "./drain.js";
import type { WelcomedKeyPackage } from "./drain.js";
import type { StepOutput } from "./jobs.js";
import { runTask } from "./pool.js";
import { CommitStatus, GroupStatus } from "./store/records.js";
import type { CommitRecord, GroupRecord } from "./store/records.js";
import { Sublevel } from "./store/sublevels.js";

/** The stored record of a commit at `epoch` with `status`. @example `commitRecordOf(fields, 3n, CommitStatus.Pending, true)` */
export function commitRecordOf(fields: SecretGroupCommitFields, epoch: bigint, status: CommitRecord["status"], welcome: boolean): CommitRecord {
  return { ...(fields.previousCommit === undefined ? {} : { previous: fields.previousCommit }), epoch, status, welcome };
}

/** The first of this node's key packages the commit's Welcome names (`refs`), with its record. */
async function welcomed(ctx: EngineContext, refs: readonly Uint8Array[]): Promise<WelcomedKeyPackage | undefined> {
  for (const ref of refs) {
    const record = await ctx.store.get(Sublevel.KeyPackages, toHex(ref), "key package record");
    if (record !== undefined) return { ref, record };
  }
  return undefined;
}

/** A join started before the commit was decoded in full: the key package, and the join when one runs. @example `early.joining` */
export interface EarlyJoin {
  readonly kp: WelcomedKeyPackage | undefined;
  readonly joining?: Promise<StepOutput | { error: unknown } | { fault: unknown }>;
}

/**
 * A node that is not a member, in a group whose owner is known, starts joining through a
 * Welcome naming one of its key packages from the commit's framing and Welcome alone: the worker
 * joins while this thread decodes the whole commit (N key packages at N members), checks it and
 * runs the follower. Undefined when that does not apply or the peek fails (the full read then
 * refuses the commit). The commit's step may start it before the document's signature check
 * settles: the join's writes are used only once the commit passed every check, and
 * {@link discardJoin} forgets what it cached otherwise.
 *
 * @example
 * ```ts
 * const early = await startJoin(ctx, gid, record, cid, doc, readSecretGroupCommit(doc))
 * ```
 */
export async function startJoin(ctx: EngineContext, gid: string, record: GroupRecord | undefined, cid: string, doc: SignedDocument, fields: SecretGroupCommitFields): Promise<EarlyJoin | undefined> {
  if (record?.owner === undefined || record.status === GroupStatus.Member) return undefined;
  let peek: ReturnType<typeof peekWelcome>;
  try {
    peek = peekWelcome(fields.commit);
  } catch {
    return undefined;
  }
  if (peek === undefined) return undefined;
  const kp = await welcomed(ctx, peek.addedKeyPackageRefs);
  if (kp === undefined || (record.status === GroupStatus.Removed && peek.mlsEpoch < record.mlsEpoch)) return { kp };
  const rec = commitRecordOf(fields, peek.mlsEpoch, CommitStatus.Pending, true);
  return { kp, joining: joinThrough(ctx, gid, record, { cid, doc, record: rec }, kp).catch((e: unknown) => ({ fault: e })) };
}

/**
 * Waits for a join that will not be used (its commit forged or refused) and forgets the state it
 * cached on its worker: the group's next task loads what the store holds (a token check would
 * refuse it anyway; this leaves no decoded state of a forged Welcome behind).
 *
 * @example
 * ```ts
 * if (early?.joining !== undefined) await discardJoin(ctx, gid, early.joining)
 * ```
 */
export async function discardJoin(ctx: EngineContext, gid: string, joining: NonNullable<EarlyJoin["joining"]>): Promise<void> {
  const joined = await joining;
  if ("fault" in joined || "error" in joined) return;
  await runTask(ctx.pool, { op: "drop", key: stateKey(ctx, gid) }, gid);
}
