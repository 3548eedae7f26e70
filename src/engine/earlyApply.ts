/**
 * The early worker run of a member's next commit (started beside its document's signature
 * check, src/engine/commits.ts), and the per-group memory of dropped runs that keeps forged
 * copies from buying one worker apply each.
 *
 * @module
 */
import { equalBytes, fromHex } from "../bytes.js";
import { EARLY_RUN_DROPPED_GROUPS } from "../constants.js";
import type { SecretGroupCommitFields, SignedDocument } from "../documents/index.js";
import { peekCommitHeader } from "../group/index.js";
import type { CommitHeader } from "../group/index.js";
import { runStateTask } from "./context.js";
import type { EngineContext } from "./context.js";
import { sameCommit } from "./drain.js";
import { GroupStatus } from "./store/records.js";
import type { GroupRecord } from "./store/records.js";
import type { StateOut } from "./worker/protocol.js";

/**
 * The worker's run of what its framing says is the member's next commit (its epoch, group,
 * author and previous commit match the record), started before the document's signature check
 * and full read: the worker applies it while this thread waits for the check, then reads and
 * checks the rest. Nothing is written from it unless every check passes; a run that is dropped
 * leaves the worker a cached state under a token no record names (the group's next task
 * reloads from the store). Undefined when the framing says otherwise or does not read, or when
 * a run of this group was already dropped at this epoch (see dropRun).
 *
 * @example
 * ```ts
 * const processing = startApply(ctx, gid, record, doc, readSecretGroupCommit(doc))
 * ```
 */
export function startApply(ctx: EngineContext, gid: string, record: GroupRecord | undefined, doc: SignedDocument, fields: SecretGroupCommitFields): Promise<StateOut> | undefined {
  if (record?.status !== GroupStatus.Member || record.owner === undefined || !equalBytes(doc.author, record.owner)) return undefined;
  const dropped = ctx.droppedRuns.get(gid);
  if (dropped === record.mlsEpoch) return undefined;
  if (dropped !== undefined) ctx.droppedRuns.delete(gid); // the epoch moved on
  if (!equalBytes(fields.secretGroup, fromHex(gid)) || !sameCommit(fields.previousCommit, record.head)) return undefined;
  let header: CommitHeader;
  try {
    header = peekCommitHeader(fields.commit);
  } catch {
    return undefined;
  }
  if (header.mlsEpoch !== record.mlsEpoch || !equalBytes(header.groupId, fields.secretGroup)) return undefined;
  const processing = runStateTask(ctx, gid, record, { op: "process", commit: fields.commit });
  processing.catch(() => undefined); // awaited (or dropped) by the step; never an unhandled rejection
  return processing;
}

/**
 * Remembers that `gid`'s early run at `record`'s epoch was dropped (its document failed the
 * signature check or the full read): forged copies (each of its own id) wrapping the genuine
 * next commit would otherwise each cost a worker apply and, for the next genuine task, a reload
 * of the whole state. The genuine commit still applies, only without the head start.
 */
export function dropRun(ctx: EngineContext, gid: string, record: GroupRecord | undefined): void {
  if (record === undefined) return;
  ctx.droppedRuns.delete(gid);
  if (ctx.droppedRuns.size >= EARLY_RUN_DROPPED_GROUPS) ctx.droppedRuns.delete(ctx.droppedRuns.keys().next().value as string);
  ctx.droppedRuns.set(gid, record.mlsEpoch);
}
