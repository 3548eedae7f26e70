/**
 * The commit chain of one group: ingesting SecretGroup and SecretGroupCommit documents,
 * keeping what cannot be applied yet as pending, and draining pending commits once their gap
 * closes. Commits apply in `previous_commit` order; a member applies the stored commit whose
 * `previous_commit` is its head, and a non-member joins through a stored commit whose Welcome
 * names one of its key packages. Each function is one step of a group job: it reads, runs
 * worker tasks, and returns the writes for one atomic batch (it never writes itself).
 *
 * @module
 */
import { encodeSecretGroupCommit } from "../commit.js";
import type { SecretGroupCommit } from "../commit.js";
import { equalBytes, toHex } from "../bytes.js";
import { ErrorCode, ValidationError, isSecretGroupError } from "../errors.js";
import type { SecretGroupError } from "../errors.js";
import { inspectCommit } from "../group/index.js";
import { decodeDocument, keyPackageDeletionDocument, readSecretGroup, readSecretGroupCommit } from "../documents/index.js";
import type { SignedDocument } from "../documents/index.js";
import type { StepOutput } from "./jobs.js";
import { recordAfter, recordOp, runStateTask, stateOps } from "./context.js";
import { indexCommitOps, indexGroupOps } from "./materialise.js";
import type { EngineContext } from "./context.js";
import {
  GroupStatus,
  decodeCommitRecord,
  decodeKeyPackageRecord,
  emptyGroupRecord,
  encodeCommitRecord,
} from "./store/records.js";
import type { GroupRecord } from "./store/records.js";
import { Sublevel } from "./store/store.js";
import type { StoreOp } from "./store/store.js";

/** How one ingested document ended. @example `{ outcome: "pending" }` */
export type IngestOutcome =
  | { readonly outcome: "applied" | "pending" | "duplicate" }
  | { readonly outcome: "refused"; readonly error: SecretGroupError };

/** Input of a drain step: the commit whose fate the job reports, and what happened to it. @example `{ drain: true, watch: commitIdHex }` */
export interface DrainInput {
  readonly drain: true;
  readonly watch?: string;
  readonly watchOutcome?: IngestOutcome;
}

const ROOT = "-";
const nextKey = (gid: string, previous: Uint8Array | undefined, cid: string): string => `${gid}/${previous === undefined ? ROOT : toHex(previous)}/${cid}`;
const refused = (e: unknown): IngestOutcome => ({
  outcome: "refused",
  error: isSecretGroupError(e) ? e : new ValidationError(ErrorCode.InvalidCommit, String((e as Error)?.message ?? e)),
});

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
  const index = await indexGroupOps(ctx, doc);
  if (record?.owner !== undefined) return { ops: index, result: { outcome: "duplicate" } };
  const { ciphersuite } = readSecretGroup(doc);
  const next: GroupRecord = { ...(record ?? emptyGroupRecord()), owner: doc.author, ciphersuite };
  const drain: DrainInput = { drain: true };
  return {
    ops: [{ sub: Sublevel.Docs, key: gid, value: doc.bytes }, recordOp(gid, next), ...index],
    record: next,
    result: { outcome: "applied" },
    again: drain,
  };
}

/**
 * Step for a SecretGroupCommit document: refuses forgeries, stores it (pending), and asks for
 * a drain that applies it if its predecessor is in place.
 *
 * @example
 * ```ts
 * const out = await ingestCommitDocument(ctx, gid, record, doc)
 * ```
 */
export async function ingestCommitDocument(ctx: EngineContext, gid: string, record: GroupRecord | undefined, doc: SignedDocument): Promise<StepOutput> {
  const cid = toHex(doc.id);
  if (await ctx.store.has(Sublevel.Commits, `${gid}/${cid}`)) return { ops: [], result: { outcome: "duplicate" } };
  let fields: { secretGroup: Uint8Array; previousCommit?: Uint8Array; commit: SecretGroupCommit };
  let info: ReturnType<typeof inspectCommit>;
  try {
    fields = readSecretGroupCommit(doc);
    info = inspectCommit(encodeSecretGroupCommit(fields.commit));
    if (!equalBytes(info.groupId, fields.secretGroup)) throw new ValidationError(ErrorCode.WrongGroup, "the MLS commit belongs to another group than its document names");
    if (record?.owner !== undefined && !equalBytes(doc.author, record.owner)) {
      throw new ValidationError(ErrorCode.ForgedSender, "commit document is not authored by the group owner");
    }
  } catch (e) {
    return { ops: [], result: refused(e) };
  }
  const member = record?.status === GroupStatus.Member;
  // A member already past this commit's epoch keeps it for the history but has nothing to do.
  const stale = member && info.mlsEpoch < (record?.mlsEpoch ?? 0n);
  if (member && record?.owner !== undefined && info.mlsEpoch === record.mlsEpoch) {
    const head = record.head;
    const follows = head === undefined ? fields.previousCommit === undefined : fields.previousCommit !== undefined && equalBytes(fields.previousCommit, head);
    if (!follows) return { ops: [], result: refused(new ValidationError(ErrorCode.InvalidCommit, "commit does not extend the chain head")) };
    // the usual case, the next commit of the chain: apply it in this step, one batch for all
    const c: StoredCommit = {
      cid,
      doc,
      bytes: encodeSecretGroupCommit(fields.commit),
      epoch: info.mlsEpoch,
      welcome: info.welcome,
      ...(fields.previousCommit === undefined ? {} : { previous: fields.previousCommit }),
    };
    try {
      // the index needs no keys: compute it on this thread while the worker applies the commit
      const [applied, index] = await Promise.all([applyCommit(ctx, gid, record, c), indexCommitOps(ctx, doc, info)]);
      return {
        ...applied,
        ops: [{ sub: Sublevel.Docs, key: cid, value: doc.bytes }, ...applied.ops, ...index],
        again: { drain: true, watch: cid, watchOutcome: { outcome: "applied" } } satisfies DrainInput,
      };
    } catch (e) {
      if (isSecretGroupError(e) && (e.source === "storage" || e.code === ErrorCode.WorkerFailed)) throw e;
      return { ops: [], result: refused(e) };
    }
  }
  // every node indexes every commit it keeps, member or not (spec "Materialisation")
  const ops: StoreOp[] = [
    ...(await indexCommitOps(ctx, doc, info)),
    { sub: Sublevel.Docs, key: cid, value: doc.bytes },
    {
      sub: Sublevel.Commits,
      key: `${gid}/${cid}`,
      value: encodeCommitRecord({ ...(fields.previousCommit === undefined ? {} : { previous: fields.previousCommit }), epoch: info.mlsEpoch, applied: stale, welcome: info.welcome }),
    },
  ];
  if (stale) return { ops, result: { outcome: "applied" } };
  ops.push({ sub: Sublevel.Next, key: nextKey(gid, fields.previousCommit, cid), value: new Uint8Array(0) });
  for (const ref of info.addedKeyPackageRefs) {
    if (await ctx.store.has(Sublevel.KeyPackages, toHex(ref))) {
      ops.push({ sub: Sublevel.Welcomes, key: `${gid}/${cid}`, value: ref });
      break;
    }
  }
  const drain: DrainInput = { drain: true, watch: cid, watchOutcome: { outcome: "pending" } };
  return { ops, again: drain };
}

interface StoredCommit {
  readonly cid: string;
  readonly doc: SignedDocument;
  readonly bytes: Uint8Array;
  readonly epoch: bigint;
  readonly previous?: Uint8Array;
  readonly welcome: boolean;
}

async function loadCommit(ctx: EngineContext, gid: string, cid: string): Promise<StoredCommit | undefined> {
  const rec = await ctx.store.get(Sublevel.Commits, `${gid}/${cid}`, "commit record");
  const docBytes = await ctx.store.get(Sublevel.Docs, cid, "document");
  if (rec === undefined || docBytes === undefined) return undefined;
  const record = decodeCommitRecord(rec);
  const doc = decodeDocument(docBytes);
  const { commit } = readSecretGroupCommit(doc);
  return { cid, doc, bytes: encodeSecretGroupCommit(commit), epoch: record.epoch, welcome: record.welcome, ...(record.previous === undefined ? {} : { previous: record.previous }) };
}

/** Ops dropping a pending commit that can never apply (its document stays refused: deleted). */
function dropOps(gid: string, c: { cid: string; previous?: Uint8Array }): StoreOp[] {
  return [
    { sub: Sublevel.Commits, key: `${gid}/${c.cid}`, value: null },
    { sub: Sublevel.Next, key: nextKey(gid, c.previous, c.cid), value: null },
    { sub: Sublevel.Welcomes, key: `${gid}/${c.cid}`, value: null },
    { sub: Sublevel.Docs, key: c.cid, value: null },
  ];
}

function appliedOps(gid: string, c: StoredCommit): StoreOp[] {
  return [
    { sub: Sublevel.Commits, key: `${gid}/${c.cid}`, value: encodeCommitRecord({ ...(c.previous === undefined ? {} : { previous: c.previous }), epoch: c.epoch, applied: true, welcome: c.welcome }) },
    { sub: Sublevel.Next, key: nextKey(gid, c.previous, c.cid), value: null },
    { sub: Sublevel.Welcomes, key: `${gid}/${c.cid}`, value: null },
  ];
}

/** Applies a member's next commit on its worker: the state parts, the records, one batch. */
async function applyCommit(ctx: EngineContext, gid: string, record: GroupRecord, c: StoredCommit): Promise<{ ops: StoreOp[]; record: GroupRecord }> {
  if (!equalBytes(c.doc.author, record.owner as Uint8Array)) throw new ValidationError(ErrorCode.ForgedSender, "commit document is not authored by the group owner");
  const out = await runStateTask(ctx, gid, record, { op: "process", commit: c.bytes });
  if (out.change === undefined) throw new Error("process returned no state");
  const next = recordAfter(record, out.change, { head: c.doc.id });
  return { ops: [...stateOps(gid, out.change), ...appliedOps(gid, c), recordOp(gid, next)], record: next };
}

function settle(input: DrainInput, cid: string, outcome: IngestOutcome): DrainInput {
  return input.watch === cid ? { ...input, watchOutcome: outcome } : input;
}

/**
 * One drain step: applies (or joins through) the next pending commit that can apply now and
 * asks for another step, or ends the job with the watched commit's outcome.
 *
 * @example
 * ```ts
 * const out = await drainStep(ctx, gid, record, { drain: true })
 * ```
 */
export async function drainStep(ctx: EngineContext, gid: string, record: GroupRecord | undefined, input: DrainInput): Promise<StepOutput> {
  const done: StepOutput = { ops: [], ...(input.watchOutcome === undefined ? {} : { result: input.watchOutcome }) };
  if (record?.owner === undefined) return done;
  const owner = record.owner;
  if (record.status === GroupStatus.Member) {
    const keys = await ctx.store.keys(Sublevel.Next, `${gid}/${record.head === undefined ? ROOT : toHex(record.head)}/`, 1);
    const cid = keys[0]?.split("/")[2];
    if (cid === undefined) return done;
    const c = await loadCommit(ctx, gid, cid);
    if (c === undefined) return { ops: [{ sub: Sublevel.Next, key: keys[0] as string, value: null }], again: input };
    try {
      const applied = await applyCommit(ctx, gid, record, c);
      return { ...applied, again: settle(input, cid, { outcome: "applied" }) };
    } catch (e) {
      if (isSecretGroupError(e) && (e.source === "storage" || e.code === ErrorCode.WorkerFailed)) throw e;
      return { ops: dropOps(gid, c), again: settle(input, cid, refused(e)) };
    }
  }
  // not a member: join through a pending commit that welcomes one of our key packages
  const welcomes = await ctx.store.scan(Sublevel.Welcomes, `${gid}/`, "welcome index");
  for (const [key, ref] of welcomes) {
    const cid = key.split("/")[1] as string;
    const c = await loadCommit(ctx, gid, cid);
    const kpBytes = await ctx.store.get(Sublevel.KeyPackages, toHex(ref), "key package record");
    if (c === undefined || kpBytes === undefined || (record.status === GroupStatus.Removed && c.epoch < record.mlsEpoch)) {
      return { ops: [{ sub: Sublevel.Welcomes, key, value: null }], again: input };
    }
    const kp = decodeKeyPackageRecord(kpBytes);
    try {
      if (!equalBytes(c.doc.author, owner)) throw new ValidationError(ErrorCode.ForgedSender, "commit document is not authored by the group owner");
      const out = await runStateTask(ctx, gid, undefined, { op: "join", identity: ctx.identity, secret: kp.secret, owner, commit: c.bytes });
      if (out.change === undefined) throw new Error("join returned no state");
      const written = new Set(out.change.parts.map(([k]) => `${gid}/${k}`));
      const stale = (await ctx.store.keys(Sublevel.State, `${gid}/`)).filter((k) => !written.has(k));
      const next = recordAfter(record, out.change, { head: c.doc.id });
      const deletion = keyPackageDeletionDocument(ctx.identity, { keyPackage: kp.docId });
      return {
        ops: [
          ...stale.map((k) => ({ sub: Sublevel.State, key: k, value: null })),
          ...stateOps(gid, out.change),
          ...appliedOps(gid, c),
          { sub: Sublevel.KeyPackages, key: toHex(ref), value: null },
          { sub: Sublevel.Outbox, key: `${Date.now().toString().padStart(15, "0")}-${toHex(deletion.id)}`, value: deletion.bytes },
          recordOp(gid, next),
        ],
        record: next,
        again: settle(input, cid, { outcome: "applied" }),
      };
    } catch (e) {
      if (isSecretGroupError(e) && (e.source === "storage" || e.code === ErrorCode.WorkerFailed)) throw e;
      // the welcome is not for us after all (or broken): forget it as a way in, keep the commit
      return { ops: [{ sub: Sublevel.Welcomes, key, value: null }], again: settle(input, cid, refused(e)) };
    }
  }
  return done;
}
