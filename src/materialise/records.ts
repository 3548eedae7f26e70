/**
 * Stored records of the materialisation index: what they share. Every value starts with
 * {@link STORAGE_VERSION}; decoders are bounded and throw only {@link DecodeError}, or
 * `StorageError(STORAGE_VERSION)` for a record of another format version. One encoder/decoder
 * pair per record, by what the record is about: chainRecords.ts (a group's replay state: its
 * head and leaf chunks, read and written by leafMap.ts; its history, history positions), pendingRecord.ts (commits waiting for their predecessor),
 * keyRecords.ts (membership events of a key, key package refs). Layouts (RFC 9420 presentation
 * language, QUIC varint vectors):
 *
 * ```
 * struct { optional<opaque public_key<V>>; optional<opaque ref<V>>; } Member;   // at least one present
 * struct { u32 leaf; Member member; } LeafMember;
 * GroupIndexHead     { u8 version; u8 tag = 0x80; optional<opaque owner<V>>; optional<opaque head<V>>;
 *                      u64 next_epoch; u64 count; u32 leaf_count; }        // g/ since storage format 4
 * LeafChunk          { u8 version; optional<Member> leaves<V>; }           // l/, INDEX_LEAF_CHUNK leaves
 * GroupIndexRecord   { u8 version; optional<opaque owner<V>>; optional<opaque head<V>>;
 *                      u64 next_epoch; u64 count; optional<Member> leaves<V>; }  // g/ before format 4: read, split on the next write
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
import { MAX_INDEXED_LEAVES, MAX_REF_SIZE, PUBLIC_KEY_SIZE, STORAGE_VERSION } from "../constants.js";
import { Writer } from "../codec/tls.js";
import type { Reader } from "../codec/tls.js";
import { DecodeError, ErrorCode, StorageError } from "../errors.js";

// the limits live with every other one in src/constants.ts; re-exported for this module's users
export { MAX_REF_SIZE, MAX_INDEXED_LEAVES };

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

/**
 * A writer that starts a record with {@link STORAGE_VERSION}.
 *
 * @example
 * ```ts
 * const bytes = startRecord().u64(seq).finish()
 * ```
 */
export function startRecord(): Writer {
  return new Writer().u8(STORAGE_VERSION);
}

/**
 * Reads and checks a record's version byte: `StorageError(STORAGE_VERSION)` for another version.
 *
 * @example
 * ```ts
 * decodeAll(bytes, "sequence record", (r) => { checkVersion(r, "sequence record"); return r.u64() })
 * ```
 */
export function checkVersion(r: Reader, what: string): void {
  const v = r.u8();
  if (v !== STORAGE_VERSION) throw new StorageError(ErrorCode.StorageVersion, `${what}: unknown storage format version ${v}`);
}

/**
 * Reads an opaque vector of exactly `size` bytes (a key or an id); otherwise DecodeError.
 *
 * @example
 * ```ts
 * const commitId = exactBytes(r, ID_SIZE, "commit id")
 * ```
 */
export function exactBytes(r: Reader, size: number, what: string): Uint8Array {
  const bytes = r.opaque(size);
  if (bytes.length !== size) throw new DecodeError(`${what} must be ${size} bytes`);
  return bytes;
}

/** Writes a {@link Member} (it needs a key or a ref). @example `writer.optional(member, writeMember)` */
export function writeMember(w: Writer, m: Member): void {
  if (m.publicKey === undefined && m.ref === undefined) throw new RangeError("member needs a public key or a ref");
  w.optional(m.publicKey, (x, k) => x.opaque(k)).optional(m.ref, (x, ref) => x.opaque(ref));
}

/** Reads a {@link Member}; throws only DecodeError. @example `reader.optional(readMember)` */
export function readMember(r: Reader): Member {
  const publicKey = r.optional((x) => exactBytes(x, PUBLIC_KEY_SIZE, "member public key"));
  const ref = r.optional((x) => {
    const bytes = x.opaque(MAX_REF_SIZE);
    if (bytes.length === 0) throw new DecodeError("member ref is empty");
    return bytes;
  });
  if (publicKey === undefined && ref === undefined) throw new DecodeError("member has neither public key nor ref");
  return { ...(publicKey === undefined ? {} : { publicKey }), ...(ref === undefined ? {} : { ref }) };
}

/** Writes a {@link LeafMember}. @example `writer.vector(added, writeLeafMember)` */
export function writeLeafMember(w: Writer, m: LeafMember): void {
  writeMember(w.u32(m.leaf), m.member);
}

/** Reads a {@link LeafMember} (leaf index bounded); throws only DecodeError. @example `reader.vector(readLeafMember, MAX_INDEXED_LEAVES)` */
export function readLeafMember(r: Reader): LeafMember {
  const leaf = r.u32();
  if (leaf >= MAX_INDEXED_LEAVES) throw new DecodeError(`leaf index ${leaf} out of range`);
  return { leaf, member: readMember(r) };
}
