/**
 * The record of a commit the materialisation index holds back until its predecessor (or the
 * group's owner) is known (layout in records.ts).
 *
 * @module
 */
import { ID_SIZE, MAX_INDEXED_LEAVES, MAX_REF_SIZE, PUBLIC_KEY_SIZE } from "../constants.js";
import { decodeAll } from "../codec/tls.js";
import { DecodeError } from "../errors.js";
import { checkVersion, exactBytes, startRecord } from "./records.js";

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

/**
 * Encodes a {@link PendingRecord}.
 *
 * @example
 * ```ts
 * const bytes = encodePendingRecord({ author, mlsEpoch: 0n, welcome: false, senderLeaf: 0, refs: [], addedPublicKeys: [], removedLeaves: [1] })
 * ```
 */
export function encodePendingRecord(rec: PendingRecord): Uint8Array {
  return startRecord()
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
    checkVersion(r, "pending commit record");
    const author = exactBytes(r, PUBLIC_KEY_SIZE, "author");
    const previousCommit = r.optional((x) => exactBytes(x, ID_SIZE, "previous commit"));
    const mlsEpoch = r.u64();
    const welcome = r.bool();
    const senderLeaf = r.u32() - 1;
    if (senderLeaf >= MAX_INDEXED_LEAVES) throw new DecodeError("pending commit: sender leaf out of range");
    const refs = r.vector((x) => {
      const ref = x.opaque(MAX_REF_SIZE);
      if (ref.length === 0) throw new DecodeError("pending commit: empty ref");
      return ref;
    }, MAX_INDEXED_LEAVES);
    const addedPublicKeys = r.vector((x) => exactBytes(x, PUBLIC_KEY_SIZE, "added public key"), MAX_INDEXED_LEAVES);
    const removedLeaves = r.vector((x) => x.u32(), MAX_INDEXED_LEAVES);
    return { author, ...(previousCommit === undefined ? {} : { previousCommit }), mlsEpoch, welcome, senderLeaf, refs, addedPublicKeys, removedLeaves };
  });
}
