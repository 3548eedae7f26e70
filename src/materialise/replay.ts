/**
 * The replay of a group's pending commits on the index's chain (commits.ts documents the rules):
 * each commit that follows the head is checked and replayed on the leaf map, then indexed (its
 * history, position and membership event records) or refused.
 *
 * @module
 */
import { fromHex, toHex } from "../bytes.js";
import { ErrorCode, ValidationError } from "../errors.js";
import { checkCommitAuthor, checkCommitSender } from "../documents/rules.js";
import { addedMembers, applyMembershipChange, commitKindOf } from "./membership.js";
import { EventKind, decodeKeyPackageIndexRecord, encodeEventRecord } from "./keyRecords.js";
import { encodeHistoryRecord, encodeSeqRecord } from "./chainRecords.js";
import { LeafMap } from "./leafMap.js";
import { decodePendingRecord, encodePendingRecord } from "./pendingRecord.js";
import type { GroupIndexRecord, HistoryRecord } from "./chainRecords.js";
import type { PendingRecord } from "./pendingRecord.js";
import { Keys, readValue, scanPrefix } from "./store.js";
import type { IndexOp, IndexReader } from "./store.js";

/** A commit the drain refused (and dropped from pending). @example `{ commitId, reason: "removes blank or unknown leaf 3" }` */
export interface RefusedCommit {
  readonly commitId: Uint8Array;
  readonly reason: string;
  /** The typed error code of the refusal (`FORGED_SENDER` for a commit not from the owner, else `INVALID_COMMIT`). */
  readonly code: ErrorCode;
}

/**
 * What one index call has done so far: ops for the batch, pending records added and dropped
 * (reads see them before they are written), commits indexed and refused.
 *
 * @example
 * ```ts
 * const work = new Work(); const after = await drain(reader, gid, await loadGroup(reader, gid, work), work); work.finish(after, gid)
 * ```
 */
export class Work {
  readonly ops: IndexOp[] = [];
  readonly pendingPuts = new Map<string, PendingRecord>();
  readonly pendingDels = new Set<string>();
  readonly indexed: HistoryRecord[] = [];
  readonly refused: RefusedCommit[] = [];
  /** The group's stored leaf map as far as this call read it ({@link loadGroup}). */
  leaves?: LeafMap;

  finish(state: GroupIndexRecord | undefined, gid: Uint8Array): IndexOp[] {
    const out = [...this.ops];
    for (const [key, rec] of this.pendingPuts) out.push({ type: "put", key, value: encodePendingRecord(rec) });
    if (state !== undefined) {
      if (this.leaves === undefined) throw new Error(`the index state of group ${toHex(gid)} was not loaded`);
      out.push(...this.leaves.ops(state));
    }
    return out;
  }

  dropPending(key: string): void {
    if (this.pendingPuts.delete(key)) return;
    this.pendingDels.add(key);
    this.ops.push({ type: "del", key });
  }
}

/**
 * The group's replay state (empty when unknown), its leaves read on demand (leafMap.ts) through
 * `work`, which later writes back what changed.
 *
 * @example
 * ```ts
 * const state = await loadGroup(reader, gid, work)
 * ```
 */
export async function loadGroup(reader: IndexReader, gid: Uint8Array, work: Work): Promise<GroupIndexRecord> {
  const { record, leaves } = await LeafMap.load(reader, gid);
  work.leaves = leaves;
  return record;
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
      // by ref only when the key is not known: a keyed member's events are stored under its key
      // alone. Its ref is the Welcome's ref at the same position as its Add proposal
      // (addedMembers pairs them by position; nothing checks that the ref's key package holds
      // that key), so indexing it would credit this add to whichever key the ref resolves to.
      if (member.ref !== undefined && member.publicKey === undefined) ops.push({ type: "put", key: Keys.byRef(member.ref, gid, seq, tag), value });
    }
  }
  return ops;
}

type Refusal = { readonly reason: string; readonly code: ErrorCode };
const refusal = (e: unknown): Refusal => ({ reason: (e as Error).message, code: e instanceof ValidationError ? e.code : ErrorCode.InvalidCommit });

/** Tries one pending commit on `state`; a {@link Refusal} says why it is refused. */
async function replay(reader: IndexReader, leaves: LeafMap, state: GroupIndexRecord, owner: Uint8Array, commitId: Uint8Array, rec: PendingRecord): Promise<{ state: GroupIndexRecord; record: HistoryRecord } | Refusal> {
  // a fault reading the store is thrown, never a refusal
  await leaves.prepare(state.leaves, { senderLeaf: rec.senderLeaf, removedLeaves: rec.removedLeaves, adds: rec.refs.length + rec.addedPublicKeys.length });
  try {
    checkCommitAuthor(owner, rec.author);
    // the committer must hold the owner's leaf (applyMembershipChange checks it too; here for the typed code)
    if (rec.senderLeaf >= 0) checkCommitSender({ author: owner }, state.leaves[rec.senderLeaf]?.publicKey);
  } catch (e) {
    return refusal(e);
  }
  if (rec.mlsEpoch !== state.nextEpoch) return { reason: `commit applies to epoch ${rec.mlsEpoch}, the chain is at epoch ${state.nextEpoch}`, code: ErrorCode.InvalidCommit };
  const change = { refs: rec.refs, addedPublicKeys: rec.addedPublicKeys, removedLeaves: rec.removedLeaves, senderLeaf: rec.senderLeaf };
  // keys from the Add proposals name every added member: no ref is looked up (999 reads at 1000 members)
  const known = rec.addedPublicKeys.length > 0 ? new Map<string, Uint8Array>() : await knownRefs(reader, rec.refs);
  const adds = addedMembers(change, known);
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

/**
 * Indexes every pending commit that follows the head, in chain order; returns the new state.
 *
 * @example
 * ```ts
 * const after = await drain(reader, gid, before, work)
 * ```
 */
export async function drain(reader: IndexReader, gid: Uint8Array, start: GroupIndexRecord, work: Work): Promise<GroupIndexRecord> {
  let state = start;
  const owner = state.owner;
  if (owner === undefined) return state;
  const leaves = work.leaves;
  if (leaves === undefined) throw new Error("drain: the group's index state was not loaded through this work");
  for (;;) {
    let advanced = false;
    for (const [key, rec] of await candidates(reader, work, Keys.pendingPrefix(gid, state.head))) {
      const commitId = fromHex(key.slice(key.lastIndexOf("/") + 1));
      const result = await replay(reader, leaves, state, owner, commitId, rec);
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
