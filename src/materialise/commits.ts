/**
 * The commit-chain follower, the only one (spec "Materialisation": look at every commit, classify
 * it, read the Welcome's KeyPackageRefs, store and make it queryable), member or not. The engine
 * applies MLS commits along the chain it keeps ({@link nextCommits}); the index records (history,
 * membership events) are its projection, written in the same batch.
 *
 * Commits arrive in any order. Each is first stored as pending under its `previous_commit`;
 * whenever the group's owner is known (its SecretGroup document, {@link indexGroup}) the chain is
 * drained from the index's own head: the pending commit that follows the head is checked (author
 * is the owner, it applies to the expected epoch, its removes name occupied leaves, its sender leaf
 * holds the owner) and replayed on the leaf map, so removes (which name leaf indices) resolve to
 * members. A commit that fails a check is refused and dropped; of two commits with the same
 * predecessor (a fork only a faulty owner makes) the first indexed wins, the other stays pending.
 *
 * Call these inside the group's actor (they read-modify-write the group's `g/` record) and write
 * the returned ops before the next call for the same group.
 *
 * @module
 */
import { equalBytes, fromHex, toHex } from "../bytes.js";
import { ErrorCode, ValidationError } from "../errors.js";
import { readSecretGroupCommit } from "../documents/system.js";
import { checkCommitAuthor, checkCommitSender } from "../documents/rules.js";
import { SchemaId } from "../documents/schema.js";
import type { SignedDocument } from "../documents/document.js";
import { addedMembers, applyMembershipChange, commitKindOf } from "./membership.js";
import { PUBLIC_KEY_SIZE } from "../constants.js";
import { EventKind, decodeKeyPackageIndexRecord, encodeEventRecord } from "./keyRecords.js";
import { MAX_INDEXED_LEAVES, MAX_REF_SIZE } from "./records.js";
import { decodeGroupIndexRecord, decodeHistoryRecord, decodeSeqRecord, encodeGroupIndexRecord, encodeHistoryRecord, encodeSeqRecord } from "./chainRecords.js";
import { decodePendingRecord, encodePendingRecord } from "./pendingRecord.js";
import type { GroupIndexRecord, HistoryRecord } from "./chainRecords.js";
import type { PendingRecord } from "./pendingRecord.js";
import { Keys, readValue, scanPrefix } from "./store.js";
import type { IndexOp, IndexReader } from "./store.js";

/**
 * What the index needs from a commit: `inspectCommit(bytes)` (src/group) satisfies it. When the
 * inspector also gives `addedPublicKeys` (the Add proposals' credentials, in order) they are used
 * directly; otherwise added members are known by their Welcome KeyPackageRefs until the key
 * package document arrives.
 *
 * @example
 * ```ts
 * await indexCommit(reader, doc, inspectCommit(encodeSecretGroupCommit(readSecretGroupCommit(doc).commit)))
 * ```
 */
export interface CommitFacts {
  readonly groupId: Uint8Array;
  /** The MLS epoch the commit applies to. */
  readonly mlsEpoch: bigint;
  readonly welcome: boolean;
  readonly addedKeyPackageRefs: readonly Uint8Array[];
  readonly removedLeaves: readonly number[];
  readonly senderLeafIndex?: number;
  readonly addedPublicKeys?: readonly Uint8Array[];
}

/** A commit the drain refused (and dropped from pending). @example `{ commitId, reason: "removes blank or unknown leaf 3" }` */
export interface RefusedCommit {
  readonly commitId: Uint8Array;
  readonly reason: string;
  /** The typed error code of the refusal (`FORGED_SENDER` for a commit not from the owner, else `INVALID_COMMIT`). */
  readonly code: ErrorCode;
}

/**
 * Result of an index call: the ops for the group's batch, the outcome of the document passed in,
 * and every commit the call indexed (oldest first) or refused.
 *
 * @example
 * ```ts
 * const { ops, outcome } = await indexCommit(reader, doc, facts); await sub.batch(ops)
 * ```
 */
export interface IndexResult {
  readonly outcome: "indexed" | "pending" | "duplicate" | "refused";
  readonly reason?: string;
  /** With `refused`: the typed error code of the refusal. */
  readonly code?: ErrorCode;
  readonly ops: IndexOp[];
  readonly indexed: HistoryRecord[];
  readonly refused: RefusedCommit[];
}

function checkFacts(facts: CommitFacts): void {
  const bad = (what: string): never => {
    throw new ValidationError(ErrorCode.InvalidCommit, `commit facts: ${what}`);
  };
  if (typeof facts.mlsEpoch !== "bigint" || facts.mlsEpoch < 0n || facts.mlsEpoch >= (1n << 64n) - 1n) bad("epoch out of range");
  for (const ref of facts.addedKeyPackageRefs) if (!(ref instanceof Uint8Array) || ref.length === 0 || ref.length > MAX_REF_SIZE) bad("bad KeyPackageRef");
  for (const k of facts.addedPublicKeys ?? []) if (!(k instanceof Uint8Array) || k.length !== PUBLIC_KEY_SIZE) bad("bad added public key");
  for (const leaf of facts.removedLeaves) if (!Number.isInteger(leaf) || leaf < 0 || leaf > 0xffffffff) bad("bad removed leaf");
  const sender = facts.senderLeafIndex ?? -1;
  if (!Number.isInteger(sender) || sender < -1 || sender >= MAX_INDEXED_LEAVES) bad("bad sender leaf");
  const adds = Math.max(facts.addedKeyPackageRefs.length, facts.addedPublicKeys?.length ?? 0);
  if (adds > MAX_INDEXED_LEAVES || facts.removedLeaves.length > MAX_INDEXED_LEAVES) bad("too many changes");
}

const EMPTY_GROUP: GroupIndexRecord = { nextEpoch: 0n, count: 0n, leaves: [] };

class Work {
  readonly ops: IndexOp[] = [];
  readonly pendingPuts = new Map<string, PendingRecord>();
  readonly pendingDels = new Set<string>();
  readonly indexed: HistoryRecord[] = [];
  readonly refused: RefusedCommit[] = [];

  finish(state: GroupIndexRecord | undefined, gid: Uint8Array): IndexOp[] {
    const out = [...this.ops];
    for (const [key, rec] of this.pendingPuts) out.push({ type: "put", key, value: encodePendingRecord(rec) });
    if (state !== undefined) out.push({ type: "put", key: Keys.group(gid), value: encodeGroupIndexRecord(state) });
    return out;
  }

  dropPending(key: string): void {
    if (this.pendingPuts.delete(key)) return;
    this.pendingDels.add(key);
    this.ops.push({ type: "del", key });
  }
}

async function loadGroup(reader: IndexReader, gid: Uint8Array): Promise<GroupIndexRecord> {
  const bytes = await readValue(reader, Keys.group(gid));
  return bytes === undefined ? EMPTY_GROUP : decodeGroupIndexRecord(bytes);
}

async function knownRefs(reader: IndexReader, refs: readonly Uint8Array[]): Promise<Map<string, Uint8Array>> {
  const known = new Map<string, Uint8Array>();
  for (const ref of refs) {
    const bytes = await readValue(reader, Keys.keyPackage(ref));
    if (bytes !== undefined) known.set(toHex(ref), decodeKeyPackageIndexRecord(bytes).publicKey);
  }
  return known;
}

async function candidates(reader: IndexReader, work: Work, prefix: string): Promise<Array<[string, PendingRecord]>> {
  const found = new Map<string, PendingRecord>();
  for (const [key, value] of await scanPrefix(reader, prefix)) {
    if (!work.pendingDels.has(key)) found.set(key, decodePendingRecord(value));
  }
  for (const [key, rec] of work.pendingPuts) if (key.startsWith(prefix)) found.set(key, rec);
  return [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function eventOps(gid: Uint8Array, rec: HistoryRecord, seq: bigint): IndexOp[] {
  const ops: IndexOp[] = [];
  const lists = [
    [rec.added, EventKind.Added, "a"],
    [rec.removed, EventKind.Removed, "r"],
  ] as const;
  for (const [members, kind, tag] of lists) {
    const value = encodeEventRecord({ kind, commitId: rec.commitId, welcome: kind === EventKind.Added && rec.welcome });
    for (const { member } of members) {
      if (member.publicKey !== undefined) ops.push({ type: "put", key: Keys.byKey(member.publicKey, gid, seq, tag), value });
      if (member.ref !== undefined) ops.push({ type: "put", key: Keys.byRef(member.ref, gid, seq, tag), value });
    }
  }
  return ops;
}

type Refusal = { readonly reason: string; readonly code: ErrorCode };
const refusal = (e: unknown): Refusal => ({ reason: (e as Error).message, code: e instanceof ValidationError ? e.code : ErrorCode.InvalidCommit });

/** Tries one pending commit on `state`; a {@link Refusal} says why it is refused. */
async function replay(reader: IndexReader, state: GroupIndexRecord, owner: Uint8Array, commitId: Uint8Array, rec: PendingRecord): Promise<{ state: GroupIndexRecord; record: HistoryRecord } | Refusal> {
  try {
    checkCommitAuthor(owner, rec.author);
    // the committer must hold the owner's leaf (applyMembershipChange checks it too; here for the typed code)
    if (rec.senderLeaf >= 0) checkCommitSender({ author: owner }, state.leaves[rec.senderLeaf]?.publicKey);
  } catch (e) {
    return refusal(e);
  }
  if (rec.mlsEpoch !== state.nextEpoch) return { reason: `commit applies to epoch ${rec.mlsEpoch}, the chain is at epoch ${state.nextEpoch}`, code: ErrorCode.InvalidCommit };
  const change = { refs: rec.refs, addedPublicKeys: rec.addedPublicKeys, removedLeaves: rec.removedLeaves, senderLeaf: rec.senderLeaf };
  const adds = addedMembers(change, await knownRefs(reader, rec.refs));
  const applied = applyMembershipChange(state.leaves, owner, change, adds);
  if (typeof applied === "string") return { reason: applied, code: ErrorCode.InvalidCommit };
  const record: HistoryRecord = {
    commitId,
    ...(rec.previousCommit === undefined ? {} : { previousCommit: rec.previousCommit }),
    epoch: rec.mlsEpoch + 1n,
    kind: commitKindOf(applied.added.length, applied.removed.length),
    welcome: rec.welcome,
    added: applied.added,
    removed: applied.removed,
  };
  const next: GroupIndexRecord = { ...state, head: commitId, nextEpoch: rec.mlsEpoch + 1n, count: state.count + 1n, leaves: applied.leaves };
  return { state: next, record };
}

/** Indexes every pending commit that follows the head, in chain order. */
async function drain(reader: IndexReader, gid: Uint8Array, start: GroupIndexRecord, work: Work): Promise<GroupIndexRecord> {
  let state = start;
  const owner = state.owner;
  if (owner === undefined) return state;
  for (;;) {
    let advanced = false;
    for (const [key, rec] of await candidates(reader, work, Keys.pendingPrefix(gid, state.head))) {
      const commitId = fromHex(key.slice(key.lastIndexOf("/") + 1));
      const result = await replay(reader, state, owner, commitId, rec);
      work.dropPending(key);
      if ("reason" in result) {
        work.refused.push({ commitId, ...result });
        continue;
      }
      const seq = state.count;
      work.ops.push(
        { type: "put", key: Keys.history(gid, seq), value: encodeHistoryRecord(result.record) },
        { type: "put", key: Keys.commit(gid, commitId), value: encodeSeqRecord(seq) },
        ...eventOps(gid, result.record, seq),
      );
      work.indexed.push(result.record);
      state = result.state;
      advanced = true;
      break;
    }
    if (!advanced) return state;
  }
}

function outcomeOf(work: Work, commitId: Uint8Array): Pick<IndexResult, "outcome" | "reason" | "code"> {
  if (work.indexed.some((r) => equalBytes(r.commitId, commitId))) return { outcome: "indexed" };
  const refused = work.refused.find((r) => equalBytes(r.commitId, commitId));
  return refused === undefined ? { outcome: "pending" } : { outcome: "refused", reason: refused.reason, code: refused.code };
}

/**
 * Indexes a SecretGroupCommit document (verified by `decodeDocument`) with the public facts of
 * its commit. Returns the ops for the group's atomic batch; writes nothing. Throws
 * `ValidationError` (`INVALID_DOCUMENT`, `WRONG_GROUP`) for a document that is not a commit of
 * `facts.groupId`; a commit that fails a chain check comes back as `outcome: "refused"`.
 *
 * @example
 * ```ts
 * const { commit } = readSecretGroupCommit(doc)
 * const { ops, outcome } = await indexCommit(indexSub, doc, inspectCommit(encodeSecretGroupCommit(commit)))
 * await db.batch(ops.map((op) => ({ ...op, sublevel: indexSub })))
 * ```
 */
export async function indexCommit(reader: IndexReader, document: SignedDocument, facts: CommitFacts): Promise<IndexResult> {
  const fields = readSecretGroupCommit(document);
  const gid = fields.secretGroup;
  checkFacts(facts);
  if (!equalBytes(gid, facts.groupId)) throw new ValidationError(ErrorCode.WrongGroup, "the MLS commit belongs to another group than its document names");
  const none = { ops: [], indexed: [], refused: [] };
  if ((await readValue(reader, Keys.commit(gid, document.id))) !== undefined) return { outcome: "duplicate", ...none };
  const key = Keys.pending(gid, fields.previousCommit, document.id);
  if ((await readValue(reader, key)) !== undefined) return { outcome: "duplicate", ...none };
  const work = new Work();
  work.pendingPuts.set(key, {
    author: document.author,
    ...(fields.previousCommit === undefined ? {} : { previousCommit: fields.previousCommit }),
    mlsEpoch: facts.mlsEpoch,
    welcome: facts.welcome,
    senderLeaf: facts.senderLeafIndex ?? -1,
    refs: facts.addedKeyPackageRefs,
    addedPublicKeys: facts.addedPublicKeys ?? [],
    removedLeaves: facts.removedLeaves,
  });
  const before = await loadGroup(reader, gid);
  const after = await drain(reader, gid, before, work);
  return { ...outcomeOf(work, document.id), ops: work.finish(after === before ? undefined : after, gid), indexed: work.indexed, refused: work.refused };
}

/**
 * Indexes a SecretGroup document: records its author as the owner (leaf 0 from creation, an
 * `owner` event for `groupsOf`) and drains commits that arrived before it.
 *
 * @example
 * ```ts
 * const { ops } = await indexGroup(indexSub, groupDoc)
 * ```
 */
export async function indexGroup(reader: IndexReader, document: SignedDocument): Promise<IndexResult> {
  if (document.schema !== SchemaId.SecretGroup) throw new ValidationError(ErrorCode.InvalidDocument, `expected a ${SchemaId.SecretGroup} document`);
  const gid = document.id;
  const before = await loadGroup(reader, gid);
  if (before.owner !== undefined) return { outcome: "duplicate", ops: [], indexed: [], refused: [] };
  const work = new Work();
  work.ops.push({ type: "put", key: Keys.byKey(document.author, gid, undefined, "o"), value: encodeEventRecord({ kind: EventKind.Owner, welcome: false }) });
  const owned: GroupIndexRecord = { ...before, owner: document.author, leaves: [{ publicKey: document.author }] };
  const after = await drain(reader, gid, owned, work);
  return { outcome: "indexed", ops: work.finish(after, gid), indexed: work.indexed, refused: work.refused };
}

/**
 * The commits that follow `after` in the chain: the one the follower chained after it, else the
 * pending ones that name it as `previous_commit` (in commit id order; they carry their facts).
 * This is how a member's MLS state walks the chain, also where it is ahead of the index (a member
 * that joined before this node saw the group's earlier commits).
 *
 * @example
 * ```ts
 * const [next] = await nextCommits(reader, gid, head) // { commitId, pending? }
 * ```
 */
export async function nextCommits(reader: IndexReader, gid: Uint8Array, after: Uint8Array): Promise<Array<{ commitId: Uint8Array; pending?: PendingRecord }>> {
  const seq = await readValue(reader, Keys.commit(gid, after));
  if (seq !== undefined) {
    const next = await readValue(reader, Keys.history(gid, decodeSeqRecord(seq) + 1n));
    if (next !== undefined) return [{ commitId: decodeHistoryRecord(next).commitId }];
  }
  return (await scanPrefix(reader, Keys.pendingPrefix(gid, after))).map(([key, value]) => ({
    commitId: fromHex(key.slice(key.lastIndexOf("/") + 1)),
    pending: decodePendingRecord(value),
  }));
}
