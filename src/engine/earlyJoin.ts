/**
 * The join a commit document may start early: a node that is not a member, in a group whose owner
 * is known, joins through a Welcome naming one of its key packages from the commit's framing and
 * Welcome alone, while src/engine/commits.ts decodes and checks the whole commit; and the lookups
 * of the node's key packages a Welcome names.
 *
 * @module
 */
import { toHex } from "../bytes.js";
import type { SecretGroupCommitFields, SignedDocument } from "../documents/index.js";
import { peekWelcome } from "../group/index.js";
import type { EngineContext } from "./context.js";
import { joinThrough } from "./drain.js";
import type { WelcomedKeyPackage } from "./drain.js";
import type { StepOutput } from "./jobs.js";
import { CommitStatus, GroupStatus } from "./store/records.js";
import type { CommitRecord, GroupRecord } from "./store/records.js";
import { Sublevel } from "./store/sublevels.js";

/** The stored record of a commit at `epoch` with `status`. @example `commitRecordOf(fields, 3n, CommitStatus.Pending, true)` */
export function commitRecordOf(fields: SecretGroupCommitFields, epoch: bigint, status: CommitRecord["status"], welcome: boolean): CommitRecord {
  return { ...(fields.previousCommit === undefined ? {} : { previous: fields.previousCommit }), epoch, status, welcome };
}

/**
 * The first of this node's key packages the commit's Welcome names (`refs`), without its record
 * (no open of its own-key seal): for a Welcome stored until the group document comes, whose
 * join reads the record then.
 *
 * @example
 * ```ts
 * const ref = await welcomedRef(ctx, info.addedKeyPackageRefs)
 * ```
 */
export async function welcomedRef(ctx: EngineContext, refs: readonly Uint8Array[]): Promise<Uint8Array | undefined> {
  for (const ref of refs) if (await ctx.store.has(Sublevel.KeyPackages, toHex(ref))) return ref;
  return undefined;
}

/** The first of this node's key packages the commit's Welcome names (`refs`), with its record. */
async function welcomed(ctx: EngineContext, refs: readonly Uint8Array[]): Promise<WelcomedKeyPackage | undefined> {
  for (const ref of refs) {
    const record = await ctx.store.get(Sublevel.KeyPackages, toHex(ref), "key package record");
    if (record !== undefined) return { ref, record };
  }
  return undefined;
}

/** A join started before the commit was decoded in full: the key package, and the join when one runs. @example `const early: EarlyJoin | undefined = await startJoin(ctx, gid, record, cid, doc, fields)` */
export interface EarlyJoin {
  readonly kp: WelcomedKeyPackage | undefined;
  readonly joining?: Promise<StepOutput | { error: unknown } | { fault: unknown }>;
}

/**
 * A node that is not a member, in a group whose owner is known, starts joining through a
 * Welcome naming one of its key packages from the commit's framing and Welcome alone: the worker
 * joins while this thread decodes the whole commit (N key packages at N members), checks it and
 * runs the follower. Undefined when that does not apply or the peek fails (the full read then
 * refuses the commit); the join's writes are used only once the commit passed every check.
 *
 * @example
 * ```ts
 * const early = await startJoin(ctx, gid, record, cid, doc, fields)
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
