/**
 * Records of the materialisation index kept per key (layouts in records.ts): the membership
 * events of a public key or KeyPackageRef in a group, and which key a KeyPackageRef stands for.
 *
 * @module
 */
import { ID_SIZE, PUBLIC_KEY_SIZE } from "../constants.js";
import { decodeAll } from "../codec/tls.js";
import { DecodeError } from "../errors.js";
import { checkVersion, exactBytes, startRecord } from "./records.js";

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
  return startRecord()
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
    checkVersion(r, "membership event record");
    const kind = EVENT_CODES[r.u8()];
    if (kind === undefined) throw new DecodeError("membership event record: unknown kind");
    const commitId = r.optional((x) => exactBytes(x, ID_SIZE, "commit id"));
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
  return startRecord().opaque(rec.publicKey).opaque(rec.documentId).finish();
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
    checkVersion(r, "key package index record");
    return { publicKey: exactBytes(r, PUBLIC_KEY_SIZE, "public key"), documentId: exactBytes(r, ID_SIZE, "document id") };
  });
}
