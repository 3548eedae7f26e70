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
 * the returned ops before the next call for the same group. The replay itself is in replay.ts.
 *
 * @module
 */
import { equalBytes, fromHex } from "../bytes.js";
import { ErrorCode, ValidationError } from "../errors.js";
import { readSecretGroupCommit } from "../documents/system.js";
import { SchemaId } from "../documents/schema.js";
import type { SignedDocument } from "../documents/document.js";
import { PUBLIC_KEY_SIZE } from "../constants.js";
import { EventKind, encodeEventRecord } from "./keyRecords.js";
import { MAX_INDEXED_LEAVES, MAX_REF_SIZE } from "./records.js";
import { decodeHistoryRecord, decodeSeqRecord } from "./chainRecords.js";
import { decodePendingRecord } from "./pendingRecord.js";
import type { GroupIndexRecord, HistoryRecord } from "./chainRecords.js";
import type { PendingRecord } from "./pendingRecord.js";
import { drain, loadGroup, Work } from "./replay.js";
import type { RefusedCommit } from "./replay.js";
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
  const before = await loadGroup(reader, gid, work);
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
  const work = new Work();
  const before = await loadGroup(reader, gid, work);
  if (before.owner !== undefined) return { outcome: "duplicate", ops: [], indexed: [], refused: [] };
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
