/**
 * Draining a group after a change: a member applies the commits that follow its head along
 * the chain the follower keeps (src/materialise/commits.ts, `nextCommits`), and a node that is
 * not a member tries to join through a stored commit whose Welcome names one of its key
 * packages. Each function is one step of a group job: it reads, runs worker tasks, and returns
 * the writes for one atomic batch (it never writes itself).
 *
 * @module
 */
import { equalBytes, fromHex, toHex } from "../bytes.js";
import { ErrorCode, ValidationError, isSecretGroupError } from "../errors.js";
import { checkCommitAuthor, keyPackageDeletionDocument, readSecretGroupCommit } from "../documents/index.js";
import { decodeVerifiedDocument } from "../documents/document.js";
import type { SignedDocument } from "../documents/index.js";
import { Keys, nextCommits } from "../materialise/index.js";
import type { FollowUp, IngestOutcome, ProtocolEvent, StepInput, StepOutput } from "./jobs.js";
import { examineStep } from "./operations.js";
import { recordAfter, runStateTask, stateOps } from "./context.js";
import { indexReader } from "./materialise.js";
import type { EngineContext } from "./context.js";
import type { StateOut } from "./worker/protocol.js";
import { CommitStatus, GroupStatus, decodeCommitRecord, decodeKeyPackageRecord, encodeCommitRecord } from "./store/records.js";
import type { CommitRecord, GroupRecord } from "./store/records.js";
import { Sublevel } from "./store/sublevels.js";
import { recordOps } from "./store/groups.js";
import type { StoreOp } from "./store/store.js";
import { outboxOp } from "./outbox.js";
import { dropPendingCommitOps } from "./pending.js";
import { keepsJoinedState } from "./joinKeep.js";

/** A drain follow-up: the commit whose fate the job reports, and what happened to it. @example `{ kind: "drain", watch: commitIdHex }` */
export type DrainInput = Extract<FollowUp, { kind: "drain" }>;

/** The outcome of a refused document, typed. @example `refused(e).outcome // "refused"` */
export const refused = (e: unknown): IngestOutcome => ({
  outcome: "refused",
  error: isSecretGroupError(e) ? e : new ValidationError(ErrorCode.InvalidCommit, String((e as Error)?.message ?? e)),
});

/** True for a fault of this node (storage, worker) rather than of the document: rethrown, never a refusal. */
export const isNodeFault = (e: unknown): boolean => isSecretGroupError(e) && (e.source === "storage" || e.code === ErrorCode.WorkerFailed);

/** A stored commit document with its record. @example `await loadCommit(ctx, gid, cid)` */
export interface StoredCommit {
  readonly cid: string;
  readonly doc: SignedDocument;
  readonly record: CommitRecord;
}

async function loadCommit(ctx: EngineContext, gid: string, cid: string): Promise<StoredCommit | undefined> {
  const rec = await ctx.store.get(Sublevel.Commits, `${gid}/${cid}`, "commit record");
  const docBytes = await ctx.store.get(Sublevel.Docs, cid, "document");
  if (rec === undefined || docBytes === undefined) return undefined;
  // verified when it was ingested: stored documents are not verified (or hashed) again
  return { cid, doc: decodeVerifiedDocument(docBytes, fromHex(cid)), record: decodeCommitRecord(rec) };
}

/**
 * The delete of commit `cid`'s Welcome entry, when the ledger lists one (welcomeKeys.ts: it
 * never misses an entry the store holds, and only this group's actor writes the group's
 * entries); none otherwise: most commits a node applies or joins through were never stored as
 * a Welcome entry, and each delete is an op of the batch.
 */
function welcomeDrop(ctx: EngineContext, gid: string, cid: string): StoreOp[] {
  return ctx.welcomes.holds(gid, cid) ? [{ sub: Sublevel.Welcomes, key: `${gid}/${cid}`, value: null }] : [];
}

/** The store op writing a commit record with `status`. @example `commitOp(gid, cid, { ...rec, status: "applied" })` */
export function commitOp(gid: string, cid: string, record: CommitRecord): StoreOp {
  return { sub: Sublevel.Commits, key: `${gid}/${cid}`, value: encodeCommitRecord(record) };
}

/**
 * Applies a member's next commit on its worker: the state parts, the records, one batch.
 * `processed`: the worker's run of it, when the caller started it already (src/engine/commits.ts
 * starts it before the document's checks, which it awaits before using the result).
 *
 * @example
 * ```ts
 * const { ops, record: next } = await applyCommit(ctx, gid, record, { cid, doc, record: rec })
 * ```
 */
export async function applyCommit(
  ctx: EngineContext,
  gid: string,
  record: GroupRecord,
  c: StoredCommit,
  commit = readSecretGroupCommit(c.doc).commit,
  processed?: Promise<StateOut>,
): Promise<{ ops: StoreOp[]; record: GroupRecord; event: ProtocolEvent }> {
  const out = await (processed ?? runStateTask(ctx, gid, record, { op: "process", commit }));
  if (out.change === undefined) throw new Error("process returned no state");
  const next = recordAfter(record, out.change, { head: c.doc.id });
  return {
    ops: [...stateOps(gid, out.change), commitOp(gid, c.cid, { ...c.record, status: CommitStatus.Applied }), ...welcomeDrop(ctx, gid, c.cid), ...recordOps(gid, next, record)],
    record: next,
    event: next.status === GroupStatus.Removed ? "REMOVED" : "COMMIT_APPLIED",
  };
}

function settle(input: DrainInput, cid: string, outcome: IngestOutcome): DrainInput {
  return input.watch === cid ? { ...input, watchOutcome: outcome } : input;
}

const finished = (input: DrainInput): StepOutput => ({ ops: [], ...(input.watchOutcome === undefined ? {} : { result: input.watchOutcome }) });

/**
 * One step of a member's drain: applies the commit that follows its head, if the node holds
 * it, and asks for another step; else ends the job with the watched commit's outcome.
 *
 * @example
 * ```ts
 * const out = await memberDrainStep(ctx, gid, record, { kind: "drain" })
 * ```
 */
async function memberDrainStep(ctx: EngineContext, gid: string, record: GroupRecord, input: DrainInput): Promise<StepOutput> {
  if (record.head === undefined || record.owner === undefined) return finished(input);
  const gidBytes = fromHex(gid);
  for (const next of await nextCommits(indexReader(ctx), gidBytes, record.head)) {
    const cid = toHex(next.commitId);
    const c = await loadCommit(ctx, gid, cid);
    if (c === undefined || c.record.status !== CommitStatus.Pending) continue;
    try {
      // a commit the follower has not chained yet has not met its rules: the author one is needed here
      if (next.pending !== undefined) checkCommitAuthor(record.owner, c.doc.author);
      const applied = await applyCommit(ctx, gid, record, c);
      return { ...applied, again: settle(input, cid, { outcome: "applied" }) };
    } catch (e) {
      if (isNodeFault(e)) throw e;
      // chained already: the history keeps it, this node never tries it again; else forgotten
      const ops =
        next.pending === undefined
          ? [commitOp(gid, cid, { ...c.record, status: CommitStatus.Refused })]
          : dropPendingCommitOps({ gid, cid, indexKey: Keys.pending(gidBytes, c.record.previous, c.doc.id) });
      return { ops, again: settle(input, cid, refused(e)) };
    }
  }
  return finished(input);
}

/**
 * The first of the group's stored Welcome entries tried: `gone` (its commit or key package is
 * no longer here, or it is older than a removed member's epoch), `refused` (the Welcome is not
 * for us, or broken) or `joined` (the join's writes, as {@link joinThrough} returns them);
 * `drop` deletes the entry; `more`: the group holds other entries. Undefined when it holds none.
 * `stored` is the record as it lies in the store (see {@link joinThrough}).
 *
 * @example
 * ```ts
 * const attempt = await joinStoredWelcome(ctx, gid, record)
 * ```
 */
export async function joinStoredWelcome(
  ctx: EngineContext,
  gid: string,
  record: GroupRecord,
  stored: GroupRecord | undefined = record,
): Promise<({ kind: "gone"; cid: string; drop: StoreOp } | { kind: "refused"; cid: string; drop: StoreOp; error: unknown } | { kind: "joined"; cid: string; joined: StepOutput }) & { more: boolean } | undefined> {
  // most groups have none: the ledger of stored entries (welcomeKeys.ts) lists them, no scan
  const found = await ctx.welcomes.first(ctx.store, gid);
  if (found === undefined) return undefined;
  const { entry: [key, ref], more } = found;
  const cid = key.split("/")[1] as string;
  const drop: StoreOp = { sub: Sublevel.Welcomes, key, value: null };
  const c = await loadCommit(ctx, gid, cid);
  const kpBytes = await ctx.store.get(Sublevel.KeyPackages, toHex(ref), "key package record");
  if (c === undefined || kpBytes === undefined || (record.status === GroupStatus.Removed && c.record.epoch < record.mlsEpoch)) return { kind: "gone", cid, drop, more };
  const joined = await joinThrough(ctx, gid, record, c, { ref, record: kpBytes }, stored);
  return "error" in joined ? { kind: "refused", cid, drop, error: joined.error, more } : { kind: "joined", cid, joined, more };
}

/**
 * One join attempt of a node that is not a member: through a stored commit whose Welcome names
 * one of its key packages. Asks for another step after each try; ends the job when none is left.
 *
 * @example
 * ```ts
 * const out = await joinStep(ctx, gid, record, { kind: "drain" })
 * ```
 */
async function joinStep(ctx: EngineContext, gid: string, record: GroupRecord, input: DrainInput): Promise<StepOutput> {
  if (record.owner === undefined) return finished(input);
  const attempt = await joinStoredWelcome(ctx, gid, record);
  if (attempt === undefined) return finished(input);
  switch (attempt.kind) {
    case "gone":
      return { ops: [attempt.drop], again: input };
    case "refused":
      return { ops: [attempt.drop], again: settle(input, attempt.cid, refused(attempt.error)) };
    case "joined":
      return { ...attempt.joined, again: settle(input, attempt.cid, { outcome: "applied" }) };
  }
}

/** One of this node's key packages a commit's Welcome names: its ref and stored record. @example `{ ref, record: kpBytes }` */
export interface WelcomedKeyPackage {
  readonly ref: Uint8Array;
  readonly record: Uint8Array;
}

/**
 * Joins a group (not a member, owner known) through commit `c`'s Welcome to `kp`: the writes of
 * the join (state, the commit applied, the key package consumed, its deletion document in the
 * outbox, the group record), durable; or the document's fault (the Welcome is not for us, or is
 * broken: the caller forgets it as a way in); a fault of this node is thrown. `stored`: the group
 * record as it lies in the store, which the record's writes are compared with (the group
 * document's step joins with the owner it is about to write; undefined: nothing stored).
 *
 * @example
 * ```ts
 * const joined = await joinThrough(ctx, gid, record, commit, { ref, record: kpBytes })
 * ```
 */
export async function joinThrough(
  ctx: EngineContext,
  gid: string,
  record: GroupRecord,
  c: StoredCommit,
  kp: WelcomedKeyPackage,
  stored: GroupRecord | undefined = record,
): Promise<StepOutput | { error: unknown }> {
  const owner = record.owner as Uint8Array;
  const key = decodeKeyPackageRecord(kp.record);
  try {
    checkCommitAuthor(owner, c.doc.author);
    const commit = readSecretGroupCommit(c.doc).commit;
    const keepState = keepsJoinedState(ctx, gid, c.cid, commit);
    const out = await runStateTask(ctx, gid, undefined, { op: "join", identity: ctx.identity, secret: key.secret, owner, commit, keepState });
    if (out.change === undefined) throw new Error("join returned no state");
    const written = new Set(out.change.parts.map(([k]) => `${gid}/${k}`));
    // parts of an earlier membership: state parts are only ever written in a batch with a group
    // record holding their token, so a record without one (a first join) has none to look for
    const stale = record.stateToken === undefined ? [] : (await ctx.store.keys(Sublevel.State, `${gid}/`)).filter((k) => !written.has(k));
    const next = recordAfter(record, out.change, { head: c.doc.id });
    const deletion = keyPackageDeletionDocument(ctx.identity, { keyPackage: key.docId });
    return {
      ops: [
        ...stale.map((k) => ({ sub: Sublevel.State, key: k, value: null })),
        ...stateOps(gid, out.change),
        commitOp(gid, c.cid, { ...c.record, status: CommitStatus.Applied }),
        ...welcomeDrop(ctx, gid, c.cid),
        { sub: Sublevel.KeyPackages, key: toHex(kp.ref), value: null },
        outboxOp(ctx.outbox, deletion.id, deletion.bytes),
        ...recordOps(gid, next, stored),
      ],
      record: next,
      event: "JOINED",
      // the key package's private key is gone and its deletion is in the outbox: both durable
      durable: true,
    };
  } catch (e) {
    if (isNodeFault(e)) throw e;
    return { error: e };
  }
}

/**
 * One drain step: a member's ({@link memberDrainStep}) or a join attempt ({@link joinStep});
 * when neither has anything left, the pending operations the group's new state makes readable
 * (or never readable) are examined (src/engine/operations.ts), a batch a step, until none is left.
 *
 * @example
 * ```ts
 * const out = await drainStep(ctx, step, { kind: "drain" })
 * ```
 */
export async function drainStep(ctx: EngineContext, step: StepInput, input: DrainInput): Promise<StepOutput> {
  const { groupId: gid, record } = step;
  if (record?.owner === undefined) return finished(input);
  const out = record.status === GroupStatus.Member ? await memberDrainStep(ctx, gid, record, input) : await joinStep(ctx, gid, record, input);
  if (out.again !== undefined) return out;
  const examined = await examineStep(ctx, step);
  return examined === undefined ? out : { ...examined, again: input };
}

/** True when `a` and `b` name the same commit (both absent: the chain's root). @example `sameCommit(prev, head)` */
export const sameCommit = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => (a === undefined ? b === undefined : b !== undefined && equalBytes(a, b));
