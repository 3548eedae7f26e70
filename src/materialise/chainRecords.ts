/**
 * Records of a group's commit chain in the materialisation index (layouts in records.ts): the
 * group's replay state, one record per indexed commit, and a commit's position in the history.
 *
 * @module
 */
import { ID_SIZE, MAX_INDEXED_LEAVES, PUBLIC_KEY_SIZE } from "../constants.js";
import { decodeAll } from "../codec/tls.js";
import { DecodeError } from "../errors.js";
import { CommitKind } from "../group/inspect.js";
import { checkVersion, exactBytes, readLeafMember, readMember, startRecord, writeLeafMember, writeMember } from "./records.js";
import type { LeafMember, Member } from "./records.js";

export { CommitKind };
const KIND_CODES: readonly CommitKind[] = ["add", "remove", "update"];

/** Per-group replay state: owner, last indexed commit, expected epoch and the leaf map. @example `emptyGroupIndex()` */
export interface GroupIndexRecord {
  readonly owner?: Uint8Array;
  readonly head?: Uint8Array;
  /** MLS epoch the next commit must apply to. */
  readonly nextEpoch: bigint;
  /** Commits indexed so far (the next history sequence number). */
  readonly count: bigint;
  /** Leaf index -> member, `undefined` for a blank leaf. */
  readonly leaves: ReadonlyArray<Member | undefined>;
}

/** One indexed commit. @example `decodeHistoryRecord(bytes).kind` */
export interface HistoryRecord {
  readonly commitId: Uint8Array;
  readonly previousCommit?: Uint8Array;
  /** The MLS epoch this commit starts (the epoch it applied to plus one). */
  readonly epoch: bigint;
  readonly kind: CommitKind;
  readonly welcome: boolean;
  readonly added: readonly LeafMember[];
  readonly removed: readonly LeafMember[];
}

/**
 * Encodes a {@link GroupIndexRecord}.
 *
 * @example
 * ```ts
 * decodeGroupIndexRecord(encodeGroupIndexRecord(rec)) // deep-equals rec
 * ```
 */
export function encodeGroupIndexRecord(rec: GroupIndexRecord): Uint8Array {
  return startRecord()
    .optional(rec.owner, (w, k) => w.opaque(k))
    .optional(rec.head, (w, id) => w.opaque(id))
    .u64(rec.nextEpoch)
    .u64(rec.count)
    .vector(rec.leaves, (w, m) => w.optional(m, writeMember))
    .finish();
}

/**
 * Decodes a {@link GroupIndexRecord}; throws only `DecodeError` (`STORAGE_VERSION` for another format version).
 *
 * @example
 * ```ts
 * const { leaves, head } = decodeGroupIndexRecord(bytes)
 * ```
 */
export function decodeGroupIndexRecord(bytes: Uint8Array): GroupIndexRecord {
  return decodeAll(bytes, "group index record", (r) => {
    checkVersion(r, "group index record");
    const owner = r.optional((x) => exactBytes(x, PUBLIC_KEY_SIZE, "owner"));
    const head = r.optional((x) => exactBytes(x, ID_SIZE, "head"));
    const nextEpoch = r.u64();
    const count = r.u64();
    const leaves = r.vector((x) => x.optional(readMember), MAX_INDEXED_LEAVES);
    return { ...(owner === undefined ? {} : { owner }), ...(head === undefined ? {} : { head }), nextEpoch, count, leaves };
  });
}

/**
 * Encodes a {@link HistoryRecord}.
 *
 * @example
 * ```ts
 * const bytes = encodeHistoryRecord({ commitId, epoch: 1n, kind: "add", welcome: true, added, removed: [] })
 * ```
 */
export function encodeHistoryRecord(rec: HistoryRecord): Uint8Array {
  return startRecord()
    .opaque(rec.commitId)
    .optional(rec.previousCommit, (w, id) => w.opaque(id))
    .u64(rec.epoch)
    .u8(KIND_CODES.indexOf(rec.kind) + 1)
    .bool(rec.welcome)
    .vector(rec.added, writeLeafMember)
    .vector(rec.removed, writeLeafMember)
    .finish();
}

/**
 * Decodes a {@link HistoryRecord}; throws only `DecodeError` (`STORAGE_VERSION` for another format version).
 *
 * @example
 * ```ts
 * const { commitId, kind, added } = decodeHistoryRecord(bytes)
 * ```
 */
export function decodeHistoryRecord(bytes: Uint8Array): HistoryRecord {
  return decodeAll(bytes, "history record", (r) => {
    checkVersion(r, "history record");
    const commitId = exactBytes(r, ID_SIZE, "commit id");
    const previousCommit = r.optional((x) => exactBytes(x, ID_SIZE, "previous commit"));
    const epoch = r.u64();
    const kind = KIND_CODES[r.u8() - 1];
    if (kind === undefined) throw new DecodeError("history record: unknown commit kind");
    const welcome = r.bool();
    const added = r.vector(readLeafMember, MAX_INDEXED_LEAVES);
    const removed = r.vector(readLeafMember, MAX_INDEXED_LEAVES);
    return { commitId, ...(previousCommit === undefined ? {} : { previousCommit }), epoch, kind, welcome, added, removed };
  });
}

/**
 * Encodes a history sequence number (the value of a commit id -> position record).
 *
 * @example
 * ```ts
 * decodeSeqRecord(encodeSeqRecord(3n)) // 3n
 * ```
 */
export function encodeSeqRecord(seq: bigint): Uint8Array {
  return startRecord().u64(seq).finish();
}

/**
 * Decodes a sequence number record; throws only `DecodeError` (`STORAGE_VERSION` for another format version).
 *
 * @example
 * ```ts
 * const seq = decodeSeqRecord(bytes)
 * ```
 */
export function decodeSeqRecord(bytes: Uint8Array): bigint {
  return decodeAll(bytes, "sequence record", (r) => {
    checkVersion(r, "sequence record");
    return r.u64();
  });
}
