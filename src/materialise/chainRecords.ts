/**
 * Records of a group's commit chain in the materialisation index (layouts in records.ts): the
 * group's replay state, one record per indexed commit, and a commit's position in the history.
 *
 * @module
 */
import { ID_SIZE, INDEX_LEAF_CHUNK, MAX_INDEXED_LEAVES, PUBLIC_KEY_SIZE } from "../constants.js";
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

/**
 * The head of a group's replay state as stored since storage format 4: a {@link GroupIndexRecord}
 * without its leaves, which live in chunks of {@link INDEX_LEAF_CHUNK} (`l/<gid>/<chunk>`), so a
 * commit rewrites this small record and the chunks of the leaves it changed, not every member.
 *
 * @example `{ owner, head, nextEpoch: 3n, count: 3n, leafCount: 1000 }`
 */
export interface GroupIndexHead {
  readonly owner?: Uint8Array;
  readonly head?: Uint8Array;
  readonly nextEpoch: bigint;
  readonly count: bigint;
  /** Length of the leaf map (its last leaf is occupied). */
  readonly leafCount: number;
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
 * Byte after the version of a {@link GroupIndexHead} (`g/<gid>` since format 4): a whole
 * {@link GroupIndexRecord} of before has the presence byte of its optional owner there, 0 or 1.
 */
const SPLIT_HEAD_TAG = 0x80;

/**
 * Encodes a {@link GroupIndexHead} (stored at `g/<gid>` since storage format 4).
 *
 * @example
 * ```ts
 * decodeGroupIndexValue(encodeGroupIndexHead(head)) // { split: head }
 * ```
 */
export function encodeGroupIndexHead(rec: GroupIndexHead): Uint8Array {
  return startRecord()
    .u8(SPLIT_HEAD_TAG)
    .optional(rec.owner, (w, k) => w.opaque(k))
    .optional(rec.head, (w, id) => w.opaque(id))
    .u64(rec.nextEpoch)
    .u64(rec.count)
    .u32(rec.leafCount)
    .finish();
}

/**
 * Decodes a `g/<gid>` value: a {@link GroupIndexHead} (format 4) or a whole
 * {@link GroupIndexRecord} of before (read as it is until the group's next index write splits
 * it). Throws only `DecodeError` (`STORAGE_VERSION` for another format version).
 *
 * @example
 * ```ts
 * const value = decodeGroupIndexValue(bytes); if ("split" in value) value.split.leafCount
 * ```
 */
export function decodeGroupIndexValue(bytes: Uint8Array): { split: GroupIndexHead } | { whole: GroupIndexRecord } {
  if (bytes[1] !== SPLIT_HEAD_TAG) return { whole: decodeGroupIndexRecord(bytes) };
  return decodeAll(bytes, "group index head", (r) => {
    checkVersion(r, "group index head");
    r.u8(); // the tag
    const owner = r.optional((x) => exactBytes(x, PUBLIC_KEY_SIZE, "owner"));
    const head = r.optional((x) => exactBytes(x, ID_SIZE, "head"));
    const nextEpoch = r.u64();
    const count = r.u64();
    const leafCount = r.u32();
    if (leafCount > MAX_INDEXED_LEAVES) throw new DecodeError(`group index head: ${leafCount} leaves`);
    return { split: { ...(owner === undefined ? {} : { owner }), ...(head === undefined ? {} : { head }), nextEpoch, count, leafCount } };
  });
}

/**
 * Encodes one chunk of a leaf map (`l/<gid>/<chunk>`): the leaves from `chunk * INDEX_LEAF_CHUNK`,
 * at most {@link INDEX_LEAF_CHUNK}, `undefined` for a blank leaf.
 *
 * @example
 * ```ts
 * decodeLeafChunk(encodeLeafChunk([{ publicKey }, undefined])) // deep-equals the input
 * ```
 */
export function encodeLeafChunk(leaves: ReadonlyArray<Member | undefined>): Uint8Array {
  if (leaves.length > INDEX_LEAF_CHUNK) throw new RangeError(`a leaf chunk holds at most ${INDEX_LEAF_CHUNK} leaves`);
  return startRecord()
    .vector(leaves, (w, m) => w.optional(m, writeMember))
    .finish();
}

/**
 * Decodes a leaf chunk; throws only `DecodeError` (`STORAGE_VERSION` for another format version).
 *
 * @example
 * ```ts
 * const leaves = decodeLeafChunk(bytes)
 * ```
 */
export function decodeLeafChunk(bytes: Uint8Array): Array<Member | undefined> {
  return decodeAll(bytes, "leaf chunk", (r) => {
    checkVersion(r, "leaf chunk");
    return r.vector((x) => x.optional(readMember), INDEX_LEAF_CHUNK);
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
