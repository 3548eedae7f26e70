/**
 * Ingesting a group's own documents inside its actor: the SecretGroup document (the owner and
 * ciphersuite) and SecretGroupCommit documents. A commit is checked by the acceptance rules
 * (src/documents/rules.ts), handed to the commit-chain follower (src/materialise/commits.ts,
 * whose index records are written in the same batch), stored, and applied when it extends a
 * member's head; the drain (src/engine/drain.ts) does the rest.
 *
 * @module
 */
import { equalBytes, fromHex, toHex } from "../bytes.js";
import { readSecretGroup, readSecretGroupCommit, checkCommitChain, checkCommitDocument, SchemaId } from "../documents/index.js";
import type { SecretGroupCommitFields, SignedDocument } from "../documents/index.js";
import { ErrorCode, ValidationError } from "../errors.js";
import { inspectCommit } from "../group/index.js";
import type { CommitInspection } from "../group/index.js";
import { indexCommit, indexGroup } from "../materialise/index.js";
import type { IndexResult } from "../materialise/index.js";
import { dropRun, startApply } from "./earlyApply.js";
import type { StateOut } from "./worker/protocol.js";
import type { EngineContext } from "./context.js";
import { countDropped } from "./context.js";
import { applyCommit, commitOp, isNodeFault, joinStoredWelcome, refused, sameCommit } from "./drain.js";
import type { DrainInput } from "./drain.js";
import { commitRecordOf, startJoin, welcomedRef } from "./earlyJoin.js";
import type { IngestOutcome, StepOutput } from "./jobs.js";
import { indexReader, toStoreOps } from "./materialise.js";
import { CommitStatus, GroupStatus, decodeCommitRecord, emptyGroupRecord } from "./store/records.js";
import { dropPendingCommitOps } from "./pending.js";
import type { GroupRecord } from "./store/records.js";
import { Sublevel } from "./store/sublevels.js";
import { recordOps } from "./store/groups.js";
import { versioned } from "./store/version.js";
import type { PreparedOps, StoreOp } from "./store/store.js";

/**
 * Step for a SecretGroup document: records the owner and ciphersuite, then drains commits
 * that arrived before it.
 *
 * @example
 * ```ts
 * const out = await ingestGroupDocument(ctx, gid, record, doc)
 * ```
 */
export async function ingestGroupDocument(ctx: EngineContext, gid: string, record: GroupRecord | undefined, doc: SignedDocument): Promise<StepOutput> {
  const indexed = await indexGroup(indexReader(ctx), doc);
  const index = toStoreOps(indexed.ops);
  if (record?.owner !== undefined) return { ops: index, result: { outcome: "duplicate" } };
  const { ciphersuite } = readSecretGroup(doc);
  const next: GroupRecord = { ...(record ?? emptyGroupRecord()), owner: doc.author, ciphersuite };
  const docOp: StoreOp = { sub: Sublevel.Docs, key: gid, value: doc.bytes };
  const ops: StoreOp[] = [docOp, ...recordOps(gid, next, record), ...index];
  // the drain of a group just known (no state, not a member) can only join through a stored
  // Welcome (src/engine/drain.ts joinStep; examineStep needs a state): with none (the group
  // document came first, as usual), it would find nothing
  if (!ctx.welcomes.has(gid)) return { ops, record: next, result: { outcome: "applied" } };
  // the commit came first and stored its Welcome: joined here, one synced batch with this
  // document (the group record written once), not in a drain step and a batch after it
  const attempt = await joinStoredWelcome(ctx, gid, next, record);
  const drain = { kind: "drain" } satisfies DrainInput;
  if (attempt === undefined) return { ops, record: next, result: { outcome: "applied" }, again: drain };
  if (attempt.kind !== "joined") return { ops: [...ops, attempt.drop], record: next, result: { outcome: "applied" }, again: drain };
  // the joined record (owner and ciphersuite from `next`) is written by the join's own ops
  const joined: StepOutput = { ...attempt.joined, ops: [docOp, ...index, ...attempt.joined.ops], result: { outcome: "applied" } };
  return settledJoin(ctx, gid, attempt, indexed) ? joined : { ...joined, again: drain };
}

/**
 * True when the drain after a group document's join through a stored Welcome would find
 * nothing: no other Welcome entry, the follower chained the joined commit last (no commit
 * after it to apply), every pending commit of the group was chained by this document's index
 * drain (none left pending after the joined one) and no operation waits.
 */
function settledJoin(ctx: EngineContext, gid: string, attempt: { readonly cid: string; readonly more: boolean }, indexed: IndexResult): boolean {
  if (attempt.more || ctx.pendingOps.entries(gid).length > 0) return false;
  const tip = indexed.indexed.at(-1);
  if (tip === undefined || toHex(tip.commitId) !== attempt.cid) return false;
  const chained = new Set(indexed.ops.filter((op) => op.type === "del").map((op) => op.key));
  return ctx.pendingCommits.ofGroup(gid).every((e) => chained.has(e.indexKey));
}

/**
 * True when the drain after this step would find nothing: the follower chained no commit after
 * `doc`, no commit of the group is pending and no operation waits (a member's drain applies
 * pending successors of its head, then examines waiting operations).
 */
function settledAfter(ctx: EngineContext, gid: string, doc: SignedDocument, indexed: ReadonlyArray<{ readonly commitId: Uint8Array }>): boolean {
  const tip = indexed.at(-1);
  return tip !== undefined && equalBytes(tip.commitId, doc.id) && ctx.pendingCommits.ofGroup(gid).length === 0 && ctx.pendingOps.entries(gid).length === 0;
}

/**
 * The end of a commit document's step that applied the commit (or joined through it) here:
 * the commit's own writes (`stored`) first, then the apply's; the job ends `applied` when the
 * drain after it would find nothing (`settled`), else that drain runs, watching the commit.
 */
function appliedHere(out: StepOutput, stored: readonly StoreOp[], cid: string, settled: boolean, prepared?: PreparedOps): StepOutput {
  const ops = [...stored, ...out.ops];
  const withPrepared = prepared === undefined ? out : { ...out, prepared };
  return settled ? { ...withPrepared, ops, result: { outcome: "applied" } } : { ...withPrepared, ops, again: { kind: "drain", watch: cid, watchOutcome: { outcome: "applied" } } satisfies DrainInput };
}

/** Checks a commit before anything is stored: its facts, and the rules that need only the group record. */
function readCommit(gid: string, record: GroupRecord | undefined, doc: SignedDocument, fields: SecretGroupCommitFields): CommitInspection {
  const info = inspectCommit(fields.commit);
  if (!equalBytes(info.groupId, fields.secretGroup)) throw new ValidationError(ErrorCode.WrongGroup, "the MLS commit belongs to another group than its document names");
  if (record?.owner !== undefined) {
    checkCommitDocument({ id: fromHex(gid), author: record.owner, schema: SchemaId.SecretGroup }, doc, fields);
    if (record.status === GroupStatus.Member && info.mlsEpoch === record.mlsEpoch) checkCommitChain(fields, record.head);
  }
  return info;
}

/**
 * Step for a SecretGroupCommit document: refuses what the rules refuse, hands it to the
 * follower, stores it, applies it at once when it is the member's next commit (one batch with
 * the index), else asks for a drain.
 *
 * @example
 * ```ts
 * const out = await ingestCommitDocument(ctx, gid, record, doc)
 * ```
 */
export async function ingestCommitDocument(ctx: EngineContext, gid: string, record: GroupRecord | undefined, doc: SignedDocument, verified: Promise<void> = Promise.resolve()): Promise<StepOutput> {
  const cid = toHex(doc.id);
  let fields: SecretGroupCommitFields | undefined;
  let unreadable: unknown;
  try {
    fields = readSecretGroupCommit(doc);
  } catch (e) {
    unreadable = e; // refused below, once the signature check has decided between forged and malformed
  }
  // a commit already stored (applied, pending or refused before) gets no worker run; reported
  // as a duplicate only once its signature is checked (a forged copy is refused as forged)
  const known = await ctx.store.has(Sublevel.Commits, `${gid}/${cid}`);
  const processing = fields === undefined || known ? undefined : startApply(ctx, gid, record, doc, fields);
  try {
    return await ingestStarted(ctx, gid, record, doc, verified, { cid, fields, unreadable, known, processing });
  } finally {
    // whatever ends the step, the early run ends first: the group's next task must not run beside it on the worker
    await processing?.catch(() => undefined);
  }
}

/** A commit document's step once its early worker run (if any) started. */
interface Started {
  readonly cid: string;
  readonly fields: SecretGroupCommitFields | undefined;
  /** Why the fields did not read. */
  readonly unreadable: unknown;
  /** Already stored. */
  readonly known: boolean;
  readonly processing: Promise<StateOut> | undefined;
}

/** The rest of ingestCommitDocument's step, after the early run started; the caller awaits that run however this ends. */
async function ingestStarted(ctx: EngineContext, gid: string, record: GroupRecord | undefined, doc: SignedDocument, verified: Promise<void>, begun: Started): Promise<StepOutput> {
  const { cid, fields, unreadable, known, processing } = begun;
  try {
    await verified;
  } catch (forged) {
    if (processing !== undefined) dropRun(ctx, gid, record);
    throw forged;
  }
  if (known) return { ops: [], result: { outcome: "duplicate" } };
  if (fields === undefined) return { ops: [], result: refused(unreadable) };
  const early = await startJoin(ctx, gid, record, cid, doc, fields);
  let info: CommitInspection;
  try {
    info = readCommit(gid, record, doc, fields);
  } catch (e) {
    if (processing !== undefined) dropRun(ctx, gid, record);
    await early?.joining;
    return { ops: [], result: refused(e) };
  }
  const member = record?.status === GroupStatus.Member;
  // a member already past this commit's epoch never applies it: superseded (history before its join, or a fork)
  const superseded = member && info.mlsEpoch < (record?.mlsEpoch ?? 0n);
  const rec = commitRecordOf(fields, info.mlsEpoch, superseded ? CommitStatus.Superseded : CommitStatus.Pending, info.welcome);
  // the usual case, the member's next commit, is applied in this step (one batch with the
  // follower's records); the worker applies it while this thread runs the follower
  const next = member && record?.owner !== undefined && info.mlsEpoch === record.mlsEpoch && sameCommit(fields.previousCommit, record.head);
  if (!next && processing !== undefined) {
    dropRun(ctx, gid, record); // the framing said next, the full read did not
    await processing.catch(() => undefined);
  }
  const applying = next ? applyCommit(ctx, gid, record, { cid, doc, record: rec }, fields.commit, processing).catch((e: unknown) => ({ error: e })) : undefined;
  // a Welcome for this node in a group whose owner is known: joined in this step (started by
  // startJoin), one synced batch with the commit and its index records, not a stored Welcome
  // the drain joins through
  // the ref alone for a Welcome stored for later (the owner unknown); startJoin read the record where it joins
  const kp = member ? undefined : early !== undefined ? early.kp?.ref : await welcomedRef(ctx, info.addedKeyPackageRefs);
  const joining = early?.joining;
  // the document's stored form (version byte and its 83 KB at 1000 members) made while the worker runs, not in the batch after it
  const docOp: StoreOp = { sub: Sublevel.Docs, key: cid, value: versioned(doc.bytes), versioned: true };
  let followed: Awaited<ReturnType<typeof indexCommit>>;
  const started = performance.now();
  try {
    followed = await indexCommit(indexReader(ctx), doc, info);
  } catch (e) {
    await applying;
    await joining;
    return { ops: [], result: refused(e) };
  } finally {
    ctx.stats.indexMs += performance.now() - started;
  }
  const stored: StoreOp[] = [...toStoreOps(followed.ops), docOp];
  // the member's next commit, or a join through its Welcome: its document and index records go
  // into the LevelDB batch while the worker still applies it or joins, so only the state is added
  // after it (still one atomic write); a small step's are not (the store's prepare: a prepared
  // batch is synced on its own, where small joins share an fsync)
  const prepared = (applying !== undefined || joining !== undefined) && followed.outcome !== "refused" ? ctx.store.prepare(stored) : undefined;
  const applied = await applying;
  const joined = await joining;
  if (followed.outcome === "refused") return { ops: toStoreOps(followed.ops), result: refused(new ValidationError(followed.code ?? ErrorCode.InvalidCommit, followed.reason ?? "refused by the commit chain")) };
  if (applied !== undefined) {
    if ("error" in applied) {
      prepared?.discard();
      if (isNodeFault(applied.error)) throw applied.error;
      return { ops: [], result: refused(applied.error) };
    }
    return appliedHere(applied, stored, cid, applied.event === "COMMIT_APPLIED" && settledAfter(ctx, gid, doc, followed.indexed), prepared);
  }
  // joined (startJoin ran: the owner is known, so no Welcome is stored for later)
  if (joined !== undefined && !("fault" in joined) && !("error" in joined)) return appliedHere(joined, stored, cid, settledAfter(ctx, gid, doc, followed.indexed), prepared);
  prepared?.discard();
  let outcome: IngestOutcome = { outcome: superseded ? "superseded" : "pending" };
  let welcome: StoreOp[] = [];
  if (kp !== undefined && record?.owner === undefined) {
    // the group document is not here yet: the drain after it joins through this Welcome
    welcome = [{ sub: Sublevel.Welcomes, key: `${gid}/${cid}`, value: kp }];
  } else if (joined !== undefined) {
    if ("fault" in joined) throw joined.fault;
    // not for us after all (or broken): kept, pending, not as a way in
    outcome = refused(joined.error);
  }
  const ops = [...stored, commitOp(gid, cid, rec), ...welcome];
  // a commit buffered for its predecessor: the group's limits drop its oldest pending commits
  for (const { entry, limit } of ctx.pendingCommits.trimGroup(gid, ops, ctx.limits)) {
    ops.push(...dropPendingCommitOps(entry));
    countDropped(ctx, limit);
    if (entry.cid === cid) outcome = refused(new ValidationError(ErrorCode.LimitExceeded, `commit dropped: ${limit} reached`));
  }
  // owner unknown: the drain could neither join nor apply anything (drainStep ends at once)
  if (record?.owner === undefined) return { ops, result: outcome };
  return { ops, again: { kind: "drain", watch: cid, watchOutcome: outcome } satisfies DrainInput };
}

/**
 * Step of a `trim` job: drops one pending commit of the group because a total limit was
 * reached (the engine picks the oldest over all groups and sends it to its group's actor, the
 * only writer of the group). A commit no longer pending is left alone.
 *
 * @example
 * ```ts
 * const out = await trimStep(ctx, gid, commitIdHex, "pendingCommitsTotal")
 * ```
 */
export async function trimStep(ctx: EngineContext, gid: string, cid: string, limit: string): Promise<StepOutput> {
  const entry = ctx.pendingCommits.get(gid, cid);
  if (entry === undefined) return { ops: [] };
  const rec = await ctx.store.get(Sublevel.Commits, `${gid}/${cid}`, "commit record");
  const status = rec === undefined ? undefined : decodeCommitRecord(rec).status;
  if (status === CommitStatus.Applied || status === CommitStatus.Refused) {
    ctx.pendingCommits.remove(gid, cid); // settled since: never dropped
    return { ops: [] };
  }
  countDropped(ctx, limit);
  return { ops: dropPendingCommitOps(entry) };
}
