/**
 * Stored records of the materialisation index, one encoder/decoder pair per record. Every value
 * starts with {@link STORAGE_VERSION}; decoders are bounded and throw only {@link DecodeError}, or
 * `StorageError(STORAGE_VERSION)` for a record of another format version.
 * Layouts (RFC 9420 presentation language, QUIC varint vectors):
 *
 * ```
 * struct { optional<opaque public_key<V>>; optional<opaque ref<V>>; } Member;   // at least one present
 * struct { u32 leaf; Member member; } LeafMember;
 * GroupIndexRecord   { u8 version; optional<opaque owner<V>>; optional<opaque head<V>>;
 *                      u64 next_epoch; u64 count; optional<Member> leaves<V>; }
 * HistoryRecord      { u8 version; opaque commit_id<V>; optional<opaque previous<V>>; u64 epoch;
 *                      u8 kind; u8 welcome; LeafMember added<V>; LeafMember removed<V>; }
 * SeqRecord          { u8 version; u64 seq; }
 * PendingRecord      { u8 version; opaque author<V>; optional<opaque previous<V>>; u64 mls_epoch;
 *                      u8 welcome; i32 sender_leaf; opaque refs<V><V>; opaque added_keys<V><V>;
 *                      u32 removed_leaves<V>; }
 * EventRecord        { u8 version; u8 kind; optional<opaque commit_id<V>>; u8 welcome; }
 * KeyPackageIndexRecord { u8 version; opaque public_key<V>; opaque document_id<V>; }
 * ```
 *
 * @module
 */
import { ID_SIZE, MAX_INDEXED_LEAVES, MAX_REF_SIZE, PUBLIC_KEY_SIZE, STORAGE_VERSION } from "../constants.js";
import { Writer, decodeAll } from "../codec/tls.js";
import type { Reader } from "../codec/tls.js";
import { DecodeError, ErrorCode, StorageError } from "../errors.js";
import { CommitKind } from "../group/inspect.js";

// the limits live with every other one in src/constants.ts; re-exported for this module's users
export { MAX_REF_SIZE, MAX_INDEXED_LEAVES };

export { CommitKind };
const KIND_CODES: readonly CommitKind[] = ["add", "remove", "update"];

/**
 * Kind of a membership event of one key in one group.
 *
 * @example
 * ```ts
 * EventKind.Added // "added"
 * ```
 */
export const EventKind = { Owner: "owner", Added: "added", Removed: "removed" } as const;
/** One of {@link EventKind}. @example `const k: EventKind = "owner"` */
export type EventKind = (typeof EventKind)[keyof typeof EventKind];
const EVENT_CODES: readonly EventKind[] = ["owner", "added", "removed"];

/** A group member as far as the index knows it: its key, or the KeyPackageRef it joined with, or both. @example `{ ref }` */
export interface Member {
  readonly publicKey?: Uint8Array;
  readonly ref?: Uint8Array;
}

/** A member and its leaf index. @example `{ leaf: 2, member: { publicKey } }` */
export interface LeafMember {
  readonly leaf: number;
  readonly member: Member;
}

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

/** A commit waiting for its predecessor (or for the group's owner to be known). @example `decodePendingRecord(bytes).mlsEpoch` */
export interface PendingRecord {
  readonly author: Uint8Array;
  readonly previousCommit?: Uint8Array;
  readonly mlsEpoch: bigint;
  readonly welcome: boolean;
  /** Committer's leaf, -1 when unknown. */
  readonly senderLeaf: number;
  readonly refs: readonly Uint8Array[];
  readonly addedPublicKeys: readonly Uint8Array[];
  readonly removedLeaves: readonly number[];
}

/** A membership event of one key (or ref) in one group. @example `{ kind: "added", commitId, welcome: true }` */
export interface EventRecord {
  readonly kind: EventKind;
  /** Absent for {@link EventKind.Owner} (ownership comes with the group, not with a commit). */
  readonly commitId?: Uint8Array;
  readonly welcome: boolean;
}

/** Which key a KeyPackageRef stands for, and the document that published it. @example `{ publicKey, documentId }` */
export interface KeyPackageIndexRecord {
  readonly publicKey: Uint8Array;
  readonly documentId: Uint8Array;
}

function start(): Writer {
  return new Writer().u8(STORAGE_VERSION);
}
function version(r: Reader, what: string): void {
  const v = r.u8();
  if (v !== STORAGE_VERSION) throw new StorageError(ErrorCode.StorageVersion, `${what}: unknown storage format version ${v}`);
}
function exact(r: Reader, size: number, what: string): Uint8Array {
  const bytes = r.opaque(size);
  if (bytes.length !== size) throw new DecodeError(`${what} must be ${size} bytes`);
  return bytes;
}
function writeMember(w: Writer, m: Member): void {
  if (m.publicKey === undefined && m.ref === undefined) throw new RangeError("member needs a public key or a ref");
  w.optional(m.publicKey, (x, k) => x.opaque(k)).optional(m.ref, (x, ref) => x.opaque(ref));
}
function readMember(r: Reader): Member {
  const publicKey = r.optional((x) => exact(x, PUBLIC_KEY_SIZE, "member public key"));
  const ref = r.optional((x) => {
    const bytes = x.opaque(MAX_REF_SIZE);
    if (bytes.length === 0) throw new DecodeError("member ref is empty");
    return bytes;
  });
  if (publicKey === undefined && ref === undefined) throw new DecodeError("member has neither public key nor ref");
  return { ...(publicKey === undefined ? {} : { publicKey }), ...(ref === undefined ? {} : { ref }) };
}
function writeLeafMember(w: Writer, m: LeafMember): void {
  writeMember(w.u32(m.leaf), m.member);
}
function readLeafMember(r: Reader): LeafMember {
  const leaf = r.u32();
  if (leaf >= MAX_INDEXED_LEAVES) throw new DecodeError(`leaf index ${leaf} out of range`);
  return { leaf, member: readMember(r) };
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
  return start()
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
    version(r, "group index record");
    const owner = r.optional((x) => exact(x, PUBLIC_KEY_SIZE, "owner"));
    const head = r.optional((x) => exact(x, ID_SIZE, "head"));
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
  return start()
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
    version(r, "history record");
    const commitId = exact(r, ID_SIZE, "commit id");
    const previousCommit = r.optional((x) => exact(x, ID_SIZE, "previous commit"));
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
  return start().u64(seq).finish();
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
    version(r, "sequence record");
    return r.u64();
  });
}

/**
 * Encodes a {@link PendingRecord}.
 *
 * @example
 * ```ts
 * const bytes = encodePendingRecord({ author, mlsEpoch: 0n, welcome: false, senderLeaf: 0, refs: [], addedPublicKeys: [], removedLeaves: [1] })
 * ```
 */
export function encodePendingRecord(rec: PendingRecord): Uint8Array {
  return start()
    .opaque(rec.author)
    .optional(rec.previousCommit, (w, id) => w.opaque(id))
    .u64(rec.mlsEpoch)
    .bool(rec.welcome)
    .u32(rec.senderLeaf + 1)
    .vector(rec.refs, (w, ref) => w.opaque(ref))
    .vector(rec.addedPublicKeys, (w, k) => w.opaque(k))
    .vector(rec.removedLeaves, (w, leaf) => w.u32(leaf))
    .finish();
}

/**
 * Decodes a {@link PendingRecord}; throws only `DecodeError` (`STORAGE_VERSION` for another format version).
 *
 * @example
 * ```ts
 * const { previousCommit, mlsEpoch } = decodePendingRecord(bytes)
 * ```
 */
export function decodePendingRecord(bytes: Uint8Array): PendingRecord {
  return decodeAll(bytes, "pending commit record", (r) => {
    version(r, "pending commit record");
    const author = exact(r, PUBLIC_KEY_SIZE, "author");
    const previousCommit = r.optional((x) => exact(x, ID_SIZE, "previous commit"));
    const mlsEpoch = r.u64();
    const welcome = r.bool();
    const senderLeaf = r.u32() - 1;
    if (senderLeaf >= MAX_INDEXED_LEAVES) throw new DecodeError("pending commit: sender leaf out of range");
    const refs = r.vector((x) => {
      const ref = x.opaque(MAX_REF_SIZE);
      if (ref.length === 0) throw new DecodeError("pending commit: empty ref");
      return ref;
    }, MAX_INDEXED_LEAVES);
    const addedPublicKeys = r.vector((x) => exact(x, PUBLIC_KEY_SIZE, "added public key"), MAX_INDEXED_LEAVES);
    const removedLeaves = r.vector((x) => x.u32(), MAX_INDEXED_LEAVES);
    return { author, ...(previousCommit === undefined ? {} : { previousCommit }), mlsEpoch, welcome, senderLeaf, refs, addedPublicKeys, removedLeaves };
  });
}

/**
 * Encodes an {@link EventRecord}.
 *
 * @example
 * ```ts
 * encodeEventRecord({ kind: "removed", commitId, welcome: false })
 * ```
 */
export function encodeEventRecord(rec: EventRecord): Uint8Array {
  if ((rec.kind === EventKind.Owner) !== (rec.commitId === undefined)) throw new RangeError("only owner events have no commit id");
  return start()
    .u8(EVENT_CODES.indexOf(rec.kind))
    .optional(rec.commitId, (w, id) => w.opaque(id))
    .bool(rec.welcome)
    .finish();
}

/**
 * Decodes an {@link EventRecord}; throws only `DecodeError` (`STORAGE_VERSION` for another format version).
 *
 * @example
 * ```ts
 * const { kind, commitId } = decodeEventRecord(bytes)
 * ```
 */
export function decodeEventRecord(bytes: Uint8Array): EventRecord {
  return decodeAll(bytes, "membership event record", (r) => {
    version(r, "membership event record");
    const kind = EVENT_CODES[r.u8()];
    if (kind === undefined) throw new DecodeError("membership event record: unknown kind");
    const commitId = r.optional((x) => exact(x, ID_SIZE, "commit id"));
    if ((kind === EventKind.Owner) !== (commitId === undefined)) throw new DecodeError("membership event record: commit id does not match kind");
    const welcome = r.bool();
    return { kind, ...(commitId === undefined ? {} : { commitId }), welcome };
  });
}

/**
 * Encodes a {@link KeyPackageIndexRecord}.
 *
 * @example
 * ```ts
 * encodeKeyPackageIndexRecord({ publicKey: doc.author, documentId: doc.id })
 * ```
 */
export function encodeKeyPackageIndexRecord(rec: KeyPackageIndexRecord): Uint8Array {
  return start().opaque(rec.publicKey).opaque(rec.documentId).finish();
}

/**
 * Decodes a {@link KeyPackageIndexRecord}; throws only `DecodeError` (`STORAGE_VERSION` for another format version).
 *
 * @example
 * ```ts
 * const { publicKey } = decodeKeyPackageIndexRecord(bytes)
 * ```
 */
export function decodeKeyPackageIndexRecord(bytes: Uint8Array): KeyPackageIndexRecord {
  return decodeAll(bytes, "key package index record", (r) => {
    version(r, "key package index record");
    return { publicKey: exact(r, PUBLIC_KEY_SIZE, "public key"), documentId: exact(r, ID_SIZE, "document id") };
  });
}
