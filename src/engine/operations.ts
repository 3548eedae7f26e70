/**
 * Materialised operations (issue 10): application documents whose fields may hold
 * SecretGroupMessages. An operation goes to the actor of the group its encrypted fields belong
 * to ({@link operationStep}); every field whose group and epoch are reached is decrypted at
 * once, and the value is stored in the same batch as the state change that consumed its key
 * (sender ratchet) or with the operation's record (long-term). Fields that wait for a commit or
 * a Welcome make the operation pending (`oppending`, and the in-memory book of src/engine/pendingOperations.ts);
 * after the group advances, the drain re-examines them ({@link examineStep}). Fields that can
 * never be read keep their typed error. Limits drop the oldest pending operations only
 * ({@link dropPendingOperationOps}, {@link dropPendingStep}).
 *
 * @module
 */
import { fromHex, toHex } from "../bytes.js";
import { EXAMINE_BATCH } from "../constants.js";
import { decodeVerifiedDocument } from "../documents/document.js";
import type { SignedDocument } from "../documents/document.js";
import { decodeFieldPlaintext, encryptedFields, fieldAad, fieldContextOf } from "../documents/fields.js";
import type { EncryptedField } from "../documents/fields.js";
import { ErrorCode, ValidationError, isSecretGroupError } from "../errors.js";
import type { SecretGroupError } from "../errors.js";
import type { EngineContext } from "./context.js";
import { countDropped } from "./context.js";
import { decryptItem } from "./decrypt.js";
import { decryptStep } from "./decryptStep.js";
import type { DecryptItem, IngestOutcome, StepInput, StepOutput } from "./jobs.js";
import type { PendingSlot } from "./pendingOperations.js";
import { decodeOperationRecord, decodePendingEntry, encodeOperationRecord, encodePendingEntry, logKey, seqOfKey, valueKey } from "./store/operations.js";
import type { FieldErrorRecord, OperationRecord, PendingEntry } from "./store/operations.js";
import { GroupStatus } from "./store/records.js";
import type { GroupRecord } from "./store/records.js";
import { Sublevel } from "./store/sublevels.js";
import type { StoreOp } from "./store/store.js";
import type { EngineEvent } from "./watch.js";

/** What opening some fields of one operation gave. */
interface Opened {
  /** Decrypted field plaintexts (the stored encoding), by field name. */
  readonly values: Map<string, Uint8Array>;
  readonly pending: EncryptedField[];
  readonly errors: FieldErrorRecord[];
}

const fieldError = (field: string, e: unknown): FieldErrorRecord =>
  isSecretGroupError(e) ? { field, code: e.code, message: e.message } : { field, code: ErrorCode.Internal, message: e instanceof Error ? e.message : String(e) };

/**
 * Decrypts `fields` of each operation in one decrypt step (one worker task for all their
 * sender-ratchet fields); the step's writes (consumed keys) come back with what each gave.
 */
async function openOperations(ctx: EngineContext, step: StepInput, work: ReadonlyArray<{ doc: SignedDocument; fields: readonly EncryptedField[] }>): Promise<{ out: StepOutput; opened: Opened[] }> {
  const items: DecryptItem[] = [];
  const owners: Array<{ op: number; field: EncryptedField }> = [];
  const opened: Opened[] = work.map(() => ({ values: new Map(), pending: [], errors: [] }));
  work.forEach(({ doc, fields }, op) => {
    const context = fieldContextOf(doc);
    for (const field of fields) {
      const message = doc.fields[field.name] as Uint8Array;
      items.push(decryptItem(message, fieldAad({ ...context, field: field.name })));
      owners.push({ op, field });
    }
  });
  if (items.length === 0) return { out: { ops: [] }, opened };
  // not fsynced (`durable` dropped): the batch that consumes a ratchet key also stores its
  // plaintext and the operation's record, so losing it in a machine crash loses all three
  // together and the operation reads again when it is ingested again; a process crash loses
  // nothing (LevelDB has written the batch to its log before it resolves)
  const { durable: _durable, ...out } = await decryptStep(ctx, step, { items });
  // a promise when a large long-term batch opens in the pool
  (await (out.result as Array<Uint8Array | Error> | Promise<Array<Uint8Array | Error>>)).forEach((result, i) => {
    const { op, field } = owners[i] as { op: number; field: EncryptedField };
    const o = opened[op] as Opened;
    if (result instanceof Uint8Array) {
      try {
        decodeFieldPlaintext(result);
        o.values.set(field.name, result);
      } catch (e) {
        o.errors.push(fieldError(field.name, e));
      }
    } else if (isSecretGroupError(result) && result.code === ErrorCode.Pending) {
      o.pending.push(field);
    } else {
      o.errors.push(fieldError(field.name, result));
    }
  });
  return { out, opened };
}

const needsOf = (fields: readonly EncryptedField[]): PendingEntry["needs"] => fields.map((f) => ({ scheme: f.scheme, epoch: f.epoch }));

/** Writes of one operation's record and its new values. */
function recordOps(opId: string, rec: OperationRecord, values: ReadonlyMap<string, Uint8Array>): StoreOp[] {
  return [
    { sub: Sublevel.Operations, key: opId, value: encodeOperationRecord(rec) },
    ...[...values].map(([name, plaintext]) => ({ sub: Sublevel.OperationValues, key: valueKey(opId, name), value: plaintext })),
  ];
}

/**
 * The writes that drop one pending operation: the whole operation when nothing of it was
 * decrypted (it may be ingested again later; its `oplog` key stays as an empty tombstone, so
 * arrival numbers are never reused), else only its pending fields, which become
 * `LIMIT_EXCEEDED` errors.
 *
 * @example
 * ```ts
 * ops.push(...(await dropPendingOperationOps(ctx, slot)))
 * ```
 */
export async function dropPendingOperationOps(ctx: EngineContext, slot: PendingSlot): Promise<StoreOp[]> {
  const opId = toHex(slot.entry.operationId);
  const ops: StoreOp[] = [{ sub: Sublevel.PendingOperations, key: slot.key, value: null }];
  const bytes = await ctx.store.get(Sublevel.Operations, opId, "operation record");
  if (bytes === undefined) return ops;
  const rec = decodeOperationRecord(bytes);
  if (rec.decrypted.length === 0) {
    return [
      ...ops,
      { sub: Sublevel.Operations, key: opId, value: null },
      { sub: Sublevel.Docs, key: opId, value: null },
      { sub: Sublevel.OperationLog, key: slot.key, value: new Uint8Array(0) },
    ];
  }
  const dropped = rec.pending.map((field) => ({ field, code: ErrorCode.LimitExceeded, message: "dropped while pending: a pending-operation limit was reached" }));
  return [...ops, { sub: Sublevel.Operations, key: opId, value: encodeOperationRecord({ ...rec, pending: [], errors: [...rec.errors, ...dropped] }) }];
}

/** Joins two `after` callbacks. */
const both = (a: (() => void) | undefined, b: () => void): (() => void) => () => {
  a?.();
  b();
};

/**
 * Step for an application document routed to this group: stored once, its readable fields
 * decrypted in the same batch, the rest pending or failed. Fields encrypted for another group
 * than the first encrypted field's are `WRONG_GROUP` errors.
 *
 * @example
 * ```ts
 * const out = await operationStep(ctx, step, doc)
 * ```
 */
export async function operationStep(ctx: EngineContext, step: StepInput, doc: SignedDocument): Promise<StepOutput> {
  const gid = step.groupId;
  const opId = toHex(doc.id);
  if (await ctx.store.has(Sublevel.Operations, opId)) return { ops: [], result: { outcome: "duplicate" } satisfies IngestOutcome };
  const found = encryptedFields(doc.fields);
  const mine = found.filter((f) => toHex(f.groupId) === gid);
  const foreign = found
    .filter((f) => toHex(f.groupId) !== gid)
    .map((f) => ({ field: f.name, code: ErrorCode.WrongGroup, message: "encrypted for another group than the operation's first encrypted field" }));
  const last = await ctx.store.lastKey(Sublevel.OperationLog, `${gid}/`);
  const seq = last === undefined ? 1n : seqOfKey(last) + 1n;
  const key = logKey(gid, seq);
  const { out, opened } = await openOperations(ctx, step, [{ doc, fields: mine }]);
  const o = opened[0] as Opened;
  const rec: OperationRecord = { groupId: fromHex(gid), seq, decrypted: [...o.values.keys()], pending: o.pending.map((f) => f.name), errors: [...foreign, ...o.errors] };
  const ops: StoreOp[] = [...out.ops, { sub: Sublevel.Docs, key: opId, value: doc.bytes }, { sub: Sublevel.OperationLog, key, value: doc.id }];
  const events: EngineEvent[] = o.values.size > 0 ? [{ type: "decrypted", operationId: doc.id, groupId: fromHex(gid) }] : [];
  let after = both(out.after, () => ctx.events.emit(events));
  if (o.pending.length > 0) {
    const entry: PendingEntry = { operationId: doc.id, bytes: doc.bytes.length, arrived: Date.now(), needs: needsOf(o.pending) };
    const plan = ctx.pendingOps.plan(gid, entry, ctx.limits);
    if (plan.refuse !== undefined) {
      const reason = plan.refuse;
      after = both(after, () => countDropped(ctx, reason));
      if (o.values.size === 0) {
        // nothing of it was read: not kept at all (the consumed-key writes of a failed read stay)
        return { ...out, ops: out.ops, after, result: { outcome: "refused", error: limitError(reason) } satisfies IngestOutcome };
      }
      const dropped = rec.pending.map((field) => ({ field, code: ErrorCode.LimitExceeded, message: `pending field over ${reason}` }));
      ops.push(...recordOps(opId, { ...rec, pending: [], errors: [...rec.errors, ...dropped] }, o.values));
      return { ...out, ops, after, result: { outcome: "applied" } satisfies IngestOutcome };
    }
    for (const { slot, reason } of plan.drops) {
      if (slot.groupId === gid) {
        ops.push(...(await dropPendingOperationOps(ctx, slot)));
        after = both(after, () => {
          if (ctx.pendingOps.remove(slot.groupId, slot.key)) countDropped(ctx, reason);
        });
      } else {
        // another group's: its own actor drops it (it is the only writer of its group); out of the book now
        ctx.pendingOps.remove(slot.groupId, slot.key);
        ctx.requestDrop?.(slot.groupId, slot.key, reason);
      }
    }
    ops.push({ sub: Sublevel.PendingOperations, key, value: encodePendingEntry(entry) });
    after = both(after, () => ctx.pendingOps.add(gid, key, entry));
  }
  ops.push(...recordOps(opId, rec, o.values));
  return { ...out, ops, after, result: { outcome: o.pending.length > 0 ? "pending" : "applied" } satisfies IngestOutcome };
}

const limitError = (reason: string): SecretGroupError => new ValidationError(ErrorCode.LimitExceeded, `operation larger than ${reason}`);

/** True when the group's state can now answer at least one of the entry's pending fields. */
function examinable(entry: PendingEntry, record: GroupRecord): boolean {
  if (record.stateToken === undefined) return false;
  if (record.status === GroupStatus.Removed) return true;
  if (record.status !== GroupStatus.Member) return false;
  return entry.needs.some((n) => n.epoch <= (n.scheme === "long-term" ? record.ltsEpoch : record.mlsEpoch));
}

/**
 * One step re-examining up to {@link EXAMINE_BATCH} pending operations of the group that its
 * state can now answer (decrypted, or failed for good: removed, epoch before the join);
 * undefined when there are none.
 *
 * @example
 * ```ts
 * const out = await examineStep(ctx, step) // undefined: nothing to do
 * ```
 */
export async function examineStep(ctx: EngineContext, step: StepInput): Promise<StepOutput | undefined> {
  const { groupId: gid, record } = step;
  if (record === undefined) return undefined;
  const due = ctx.pendingOps
    .entries(gid)
    .filter(([, entry]) => examinable(entry, record))
    .slice(0, EXAMINE_BATCH);
  if (due.length === 0) return undefined;
  const ops: StoreOp[] = [];
  const book: Array<() => void> = [];
  const live: Array<{ key: string; opId: string; rec: OperationRecord; doc: SignedDocument; fields: EncryptedField[]; entry: PendingEntry }> = [];
  for (const [key, entry] of due) {
    const opId = toHex(entry.operationId);
    const recBytes = await ctx.store.get(Sublevel.Operations, opId, "operation record");
    const docBytes = await ctx.store.get(Sublevel.Docs, opId, "document");
    if (recBytes === undefined || docBytes === undefined) {
      // a stale entry (its operation is gone): forget it
      ops.push({ sub: Sublevel.PendingOperations, key, value: null });
      book.push(() => ctx.pendingOps.remove(gid, key));
      continue;
    }
    const rec = decodeOperationRecord(recBytes);
    // verified when it was ingested: stored documents are not verified again
    const doc = decodeVerifiedDocument(docBytes);
    const fields = encryptedFields(doc.fields).filter((f) => rec.pending.includes(f.name));
    live.push({ key, opId, rec, doc, fields, entry });
  }
  const { out, opened } = await openOperations(ctx, step, live);
  const events: EngineEvent[] = [];
  live.forEach((w, i) => {
    const o = opened[i] as Opened;
    const rec: OperationRecord = {
      ...w.rec,
      decrypted: [...w.rec.decrypted, ...o.values.keys()],
      pending: o.pending.map((f) => f.name),
      errors: [...w.rec.errors, ...o.errors],
    };
    ops.push(...recordOps(w.opId, rec, o.values));
    if (o.values.size > 0) events.push({ type: "decrypted", operationId: w.doc.id, groupId: fromHex(gid) });
    if (o.pending.length === 0) {
      ops.push({ sub: Sublevel.PendingOperations, key: w.key, value: null });
      book.push(() => ctx.pendingOps.remove(gid, w.key));
    } else {
      const entry: PendingEntry = { ...w.entry, needs: needsOf(o.pending) };
      ops.push({ sub: Sublevel.PendingOperations, key: w.key, value: encodePendingEntry(entry) });
      book.push(() => ctx.pendingOps.add(gid, w.key, entry));
    }
  });
  const after = both(out.after, () => {
    for (const f of book) f();
    ctx.events.emit(events);
  });
  return { ...out, ops: [...out.ops, ...ops], after };
}

/**
 * Step dropping one of this group's pending operations for a total limit (asked for by another
 * group's step); nothing when it was answered meanwhile.
 *
 * @example
 * ```ts
 * const out = await dropPendingStep(ctx, step, key, "pendingOperationsTotal")
 * ```
 */
export async function dropPendingStep(ctx: EngineContext, step: StepInput, key: string, reason: string): Promise<StepOutput> {
  const bytes = await ctx.store.get(Sublevel.PendingOperations, key, "pending operation");
  if (bytes === undefined) return { ops: [], result: false };
  const slot: PendingSlot = { groupId: step.groupId, key, entry: decodePendingEntry(bytes) };
  return {
    ops: await dropPendingOperationOps(ctx, slot),
    result: true,
    after: () => {
      ctx.pendingOps.remove(step.groupId, key);
      countDropped(ctx, reason);
    },
  };
}
