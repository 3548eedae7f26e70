/**
 * `ingest`: documents of every kind, in any order. Each is decoded and checked first (schema,
 * field types; its signature checked on libuv's thread pool, a small one's on this thread, and
 * awaited before anything acts on the document), then routed: SecretGroup and SecretGroupCommit
 * documents to their group's actor (which applies, buffers or refuses them), key packages and
 * deletions to the store, application documents (operations) to the actor of the group their
 * encrypted fields belong to (src/engine/operations.ts), or straight to the store when they have
 * none.
 *
 * @module
 */
import { toHex } from "../bytes.js";
import { ErrorCode, ValidationError, isSecretGroupError } from "../errors.js";
import type { ErrorCode as Code, SecretGroupError } from "../errors.js";
import {
  SchemaId,
  checkKeyPackageDocument,
  readKeyPackage,
  readKeyPackageDeletion,
  readSecretGroupCommit,
} from "../documents/index.js";
import type { SignedDocument } from "../documents/index.js";
import { decodeDocumentDeferred } from "../documents/document.js";
import { keyPackageInfo } from "../keyPackage.js";
import { ID_SIZE } from "../constants.js";
import { encryptedFields } from "../documents/fields.js";
import { isSystemSchema } from "../documents/schema.js";
import { encodeOperationRecord } from "./store/operations.js";
import type { GroupActors } from "./actors.js";
import type { IngestOutcome, JobRequest } from "./jobs.js";
import type { EngineContext } from "./context.js";
import { indexKeyPackageOps } from "./materialise.js";
import { Sublevel } from "./store/sublevels.js";
import type { StoreOp } from "./store/store.js";

/** Per-document outcome, in input order (`superseded`: a commit older than this node's group state, kept for the history but never applied). @example `report.outcomes[i] === "pending"` */
export type IngestOutcomeName = "applied" | "pending" | "duplicate" | "superseded" | "refused";

/** What `ingest` resolves with. @example `report.outcomes[0] // "pending"` */
export interface IngestReport {
  readonly outcomes: IngestOutcomeName[];
}

/**
 * Rejection of `ingest` when documents were refused (the others were kept). Its `code` is the
 * first refusal's; `refused` lists every refusal.
 *
 * @example
 * ```ts
 * try { await engine.ingest(docs) } catch (e) { if (e instanceof IngestRefusedError) console.log(e.refused) }
 * ```
 */
export class IngestRefusedError extends ValidationError {
  constructor(
    code: Code,
    message: string,
    readonly refused: ReadonlyArray<{ readonly index: number; readonly error: SecretGroupError }>,
    readonly report: IngestReport,
  ) {
    super(code, message);
  }
}

const toError = (e: unknown): SecretGroupError =>
  isSecretGroupError(e) ? e : new ValidationError(ErrorCode.InvalidDocument, e instanceof Error ? e.message : String(e));

/** The group a document's encrypted fields belong to (undefined: none, or not a 32-byte id). */
function encryptedGroup(doc: SignedDocument): Uint8Array | undefined {
  const [first] = encryptedFields(doc.fields);
  return first !== undefined && first.groupId.length === ID_SIZE ? first.groupId : undefined;
}

/** Where a document goes: "store" (only the store takes it) or its group's actor and job. */
type Destination = "store" | { readonly gid: string; readonly kind: "ingest" | "operation" };

/**
 * Where `doc` goes, decided once per document: "store" for a key package, a deletion, or an
 * operation with nothing encrypted for a group; else its group's actor. Throws what refuses it.
 */
function destinationOf(doc: SignedDocument): Destination {
  switch (doc.schema) {
    case SchemaId.KeyPackage:
    case SchemaId.KeyPackageDeletion:
      return "store";
    case SchemaId.SecretGroup:
      return { gid: toHex(doc.id), kind: "ingest" };
    case SchemaId.SecretGroupCommit: {
      const { secretGroup } = readSecretGroupCommit(doc);
      if (secretGroup.length !== 32) throw new ValidationError(ErrorCode.InvalidDocument, "secret_group is not a 32-byte id");
      return { gid: toHex(secretGroup), kind: "ingest" };
    }
    default: {
      const gid = encryptedGroup(doc);
      return gid === undefined ? "store" : { gid: toHex(gid), kind: "operation" };
    }
  }
}

/**
 * The writes of a document that only the store takes (a key package, a deletion, an operation
 * with nothing encrypted for a group), after its checks; "duplicate" when stored already;
 * for documents whose {@link destinationOf} is "store". Throws on a document its checks refuse.
 */
async function storeOnlyOps(ctx: EngineContext, doc: SignedDocument): Promise<StoreOp[] | "duplicate"> {
  const key = toHex(doc.id);
  let index: StoreOp[] = [];
  switch (doc.schema) {
    case SchemaId.KeyPackage: {
      const info = keyPackageInfo(readKeyPackage(doc).keyPackage);
      checkKeyPackageDocument(doc, info);
      index = indexKeyPackageOps(doc, info);
      break;
    }
    case SchemaId.KeyPackageDeletion:
      readKeyPackageDeletion(doc);
      break;
    default: {
      // nothing encrypted for a group: kept as it is, read back with engine.read
      if (await ctx.store.has(Sublevel.Operations, key)) return "duplicate";
      index = [{ sub: Sublevel.Operations, key, value: encodeOperationRecord({ seq: 0n, decrypted: [], pending: [], errors: [] }) }];
    }
  }
  if (await ctx.store.has(Sublevel.Docs, key)) return "duplicate";
  return [{ sub: Sublevel.Docs, key, value: doc.bytes }, ...index];
}

/**
 * Drops the oldest pending commits over all groups while a total limit is exceeded, each
 * through its own group's actor (the only writer of the group).
 */
async function enforceTotals(ctx: EngineContext, actors: GroupActors): Promise<void> {
  for (let guard = ctx.pendingCommits.count; guard >= 0; guard--) {
    const limit = ctx.pendingCommits.overTotal(ctx.limits);
    const oldest = ctx.pendingCommits.oldest();
    if (limit === undefined || oldest === undefined) return;
    await actors.run(oldest.gid, { kind: "trim", commitId: oldest.cid, limit });
    if (ctx.pendingCommits.get(oldest.gid, oldest.cid) !== undefined) ctx.pendingCommits.remove(oldest.gid, oldest.cid);
  }
}

/**
 * Verifies and applies `documents`; see {@link IngestReport} and {@link IngestRefusedError}.
 *
 * @example
 * ```ts
 * const report = await ingestDocuments(ctx, actors, docs)
 * ```
 */
export async function ingestDocuments(ctx: EngineContext, actors: GroupActors, documents: readonly Uint8Array[]): Promise<IngestReport> {
  const outcomes: IngestOutcomeName[] = new Array(documents.length);
  const refused: Array<{ index: number; error: SecretGroupError }> = [];
  // signatures are checked on libuv's thread pool, all at once, while this thread routes (small
  // documents' here, after the routing: SYNC_VERIFY_MAX_BYTES): each document's check travels
  // with it and is awaited before anything acts on the document
  const decoded: Array<{ index: number; doc: SignedDocument; verified: Promise<void> }> = [];
  // a repeat within the call (the id hashes the whole envelope, signature included) shares its
  // first copy's check: a forged repeat is refused as forged, not passed as a duplicate
  const seen = new Map<string, Promise<void>>();
  const repeats: Array<Promise<void>> = [];
  // the checks are dispatched once this call's jobs are queued: a member's next commit is posted
  // to its worker first (src/engine/earlyApply.ts; dispatching an 83 KB document's check costs
  // this thread ~0.15-0.35 ms, which then runs while the worker applies the commit)
  let release = (): void => {};
  const routed = new Promise<void>((resolve) => (release = resolve));
  documents.forEach((bytes, index) => {
    try {
      const { doc, verified } = decodeDocumentDeferred(bytes, routed);
      const id = toHex(doc.id);
      const first = seen.get(id);
      if (first !== undefined) {
        outcomes[index] = "duplicate";
        repeats.push(first.catch((forged: unknown) => record(index, { outcome: "refused", error: toError(forged) })));
        return;
      }
      seen.set(id, verified);
      decoded.push({ index, doc, verified });
    } catch (e) {
      outcomes[index] = "refused";
      refused.push({ index, error: toError(e) });
    }
  });
  // groups first, so commits rarely wait for their group, and operations last, so a batch's
  // commits are queued before the operations they make readable; the actors serialize per group
  const rank = (d: SignedDocument): number => (d.schema === SchemaId.SecretGroup ? 0 : d.schema === SchemaId.SecretGroupCommit ? 2 : isSystemSchema(d.schema) ? 1 : 3);
  decoded.sort((a, b) => rank(a.doc) - rank(b.doc));
  // group jobs are queued in this tick, before any await (a decrypt issued with this ingest
  // queues behind its commits); documents only the store takes go in one batch for the whole
  // call (a batch each cost a LevelDB round trip each: with many groups, one key package each)
  const record = (index: number, result: IngestOutcome): void => {
    outcomes[index] = result.outcome;
    if (result.outcome === "refused") refused.push({ index, error: result.error });
  };
  const toActor = async (index: number, gid: string, request: JobRequest): Promise<void> => {
    let result: IngestOutcome;
    try {
      result = await actors.run<IngestOutcome>(gid, request);
    } catch (e) {
      if (isSecretGroupError(e) && (e.source === "storage" || e.source === "internal" || e.code === ErrorCode.Closed)) throw e;
      result = { outcome: "refused", error: toError(e) };
    }
    record(index, result);
  };
  const storeOnly: Array<{ index: number; doc: SignedDocument; verified: Promise<void> }> = [];
  const routing: Array<Promise<void>> = [];
  // after the microtasks in which the actors' steps start (and post their early runs)
  setImmediate(release);
  for (const { index, doc, verified } of decoded) {
    let to: Destination;
    try {
      to = destinationOf(doc);
    } catch (e) {
      // a forged document is reported as forged, whatever else is wrong with it
      routing.push(verified.then(() => record(index, { outcome: "refused", error: toError(e) }), (forged: unknown) => record(index, { outcome: "refused", error: toError(forged) })));
      continue;
    }
    if (to === "store") storeOnly.push({ index, doc, verified });
    else routing.push(toActor(index, to.gid, { kind: to.kind, doc, verified }));
  }
  const storing = (async () => {
    const stored: StoreOp[] = [];
    const storedAt: number[] = [];
    for (const { index, doc, verified } of storeOnly) {
      let ops: StoreOp[] | "duplicate";
      try {
        await verified;
        ops = await storeOnlyOps(ctx, doc);
      } catch (e) {
        if (isSecretGroupError(e) && (e.source === "storage" || e.source === "internal")) throw e;
        outcomes[index] = "refused";
        refused.push({ index, error: toError(e) });
        continue;
      }
      if (ops === "duplicate") outcomes[index] = "duplicate";
      else {
        stored.push(...ops);
        storedAt.push(index);
      }
    }
    await ctx.store.batch(stored);
    for (const index of storedAt) outcomes[index] = "applied";
  })();
  await Promise.all([storing, ...repeats, ...routing]);
  await enforceTotals(ctx, actors);
  const report = { outcomes };
  if (refused.length > 0) {
    refused.sort((a, b) => a.index - b.index);
    const first = refused[0] as { index: number; error: SecretGroupError };
    throw new IngestRefusedError(first.error.code, `${refused.length} of ${documents.length} documents refused; first (#${first.index}): ${first.error.message}`, refused, report);
  }
  return report;
}
