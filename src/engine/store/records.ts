/**
 * The engine's stored records and their codecs (TLS presentation language through
 * src/codec/tls.ts; the storage version byte is added by the store, not here).
 *
 * @module
 */
import { Reader, Writer, decodeAll } from "../../codec/tls.js";
import { DecodeError } from "../../errors.js";
import { utf8 } from "../../bytes.js";

/**
 * Status of a group as the engine sees it.
 *
 * @example
 * ```ts
 * GroupStatus.Member // "member"
 * ```
 *
 * @example `const s: GroupStatus = "member"`
 */
export const GroupStatus = {
  AwaitingWelcome: "awaiting-welcome",
  Member: "member",
  Removed: "removed",
} as const;
/** `"awaiting-welcome"`, `"member"` or `"removed"`. @example `const s: GroupStatus = "member"` */
export type GroupStatus = (typeof GroupStatus)[keyof typeof GroupStatus];

const STATUS_CODES: readonly GroupStatus[] = ["awaiting-welcome", "member", "removed"];

/**
 * Everything the main thread knows about a group without its MLS state.
 *
 * @example
 * ```ts
 * const rec: GroupRecord = emptyGroupRecord()
 * ```
 */
export interface GroupRecord {
  readonly status: GroupStatus;
  /** Author of the SecretGroup document; undefined until that document arrives. */
  readonly owner?: Uint8Array;
  /** Long-term ciphersuite name from the SecretGroup document. */
  readonly ciphersuite?: string;
  /** Id of the last applied commit (the chain head); undefined before the first. */
  readonly head?: Uint8Array;
  /** Current MLS epoch (0 without a state). */
  readonly mlsEpoch: bigint;
  /** Highest long-term secret epoch held. */
  readonly ltsEpoch: bigint;
  /** Public keys of every member, owner and self included (empty without a state). */
  readonly members: readonly Uint8Array[];
  /** Random token naming the persisted MLS state (undefined: no state). Workers cache by it. */
  readonly stateToken?: Uint8Array;
  /** Long-term nonce counters up to this value are reserved (persisted before use). */
  readonly nonceReserved: bigint;
}

/** A record for a group of which nothing is known yet. @example `emptyGroupRecord().status // "awaiting-welcome"` */
export function emptyGroupRecord(): GroupRecord {
  return { status: GroupStatus.AwaitingWelcome, mlsEpoch: 0n, ltsEpoch: 0n, members: [], nonceReserved: 0n };
}

const writeBytes = (w: Writer, b: Uint8Array): void => void w.opaque(b);
const readBytes = (r: Reader): Uint8Array => r.opaque();

/**
 * Encodes a {@link GroupRecord}.
 *
 * @example
 * ```ts
 * decodeGroupRecord(encodeGroupRecord(rec))
 * ```
 */
export function encodeGroupRecord(rec: GroupRecord): Uint8Array {
  const w = new Writer(128 + rec.members.length * 34);
  w.u8(STATUS_CODES.indexOf(rec.status));
  w.optional(rec.owner, writeBytes);
  w.optional(rec.ciphersuite === undefined ? undefined : utf8(rec.ciphersuite), writeBytes);
  w.optional(rec.head, writeBytes);
  w.u64(rec.mlsEpoch).u64(rec.ltsEpoch);
  w.vector(rec.members, writeBytes);
  w.optional(rec.stateToken, writeBytes);
  w.u64(rec.nonceReserved);
  return w.finish();
}

/**
 * Decodes a {@link GroupRecord}; throws DecodeError on malformed input.
 *
 * @example
 * ```ts
 * const rec = decodeGroupRecord(bytes)
 * ```
 */
export function decodeGroupRecord(bytes: Uint8Array): GroupRecord {
  return decodeAll(bytes, "group record", (r) => {
    const status = STATUS_CODES[r.u8()];
    if (status === undefined) throw new DecodeError("group record: unknown status");
    const owner = r.optional(readBytes);
    const suite = r.optional(readBytes);
    const head = r.optional(readBytes);
    const mlsEpoch = r.u64();
    const ltsEpoch = r.u64();
    const members = r.vector(readBytes);
    const stateToken = r.optional(readBytes);
    const nonceReserved = r.u64();
    return {
      status,
      ...(owner === undefined ? {} : { owner }),
      ...(suite === undefined ? {} : { ciphersuite: new TextDecoder().decode(suite) }),
      ...(head === undefined ? {} : { head }),
      mlsEpoch,
      ltsEpoch,
      members,
      ...(stateToken === undefined ? {} : { stateToken }),
      nonceReserved,
    };
  });
}

/**
 * What became of a stored commit on this node (the chain order itself is the follower's,
 * src/materialise/commits.ts). Stored as one byte; format 1 wrote a boolean "applied", whose
 * 0 and 1 read as `pending` and `applied`.
 *
 * @example `CommitStatus.Superseded // "superseded"`
 */
export const CommitStatus = {
  /** Not applied to this node's MLS state (yet). */
  Pending: "pending",
  /** Applied to this node's MLS state (or made by it, or joined through). */
  Applied: "applied",
  /** This node's state moved past the commit's epoch without applying it (a fork's other branch, or history before a join). */
  Superseded: "superseded",
  /** The follower chained it, but MLS refused it here: never tried again. */
  Refused: "refused",
} as const;
/** One of {@link CommitStatus}. @example `const s: CommitStatus = "pending"` */
export type CommitStatus = (typeof CommitStatus)[keyof typeof CommitStatus];
const COMMIT_STATUS_CODES: readonly CommitStatus[] = ["pending", "applied", "superseded", "refused"];

/**
 * A stored SecretGroupCommit: where it sits in the chain and what became of it here.
 *
 * @example
 * ```ts
 * const rec: CommitRecord = { epoch: 3n, status: "pending", welcome: true }
 * ```
 */
export interface CommitRecord {
  readonly previous?: Uint8Array;
  /** MLS epoch the commit applies to. */
  readonly epoch: bigint;
  readonly status: CommitStatus;
  /** True when it carries a Welcome. */
  readonly welcome: boolean;
}

/** Encodes a {@link CommitRecord}. @example `encodeCommitRecord({ epoch: 1n, status: "applied", welcome: false })` */
export function encodeCommitRecord(rec: CommitRecord): Uint8Array {
  const w = new Writer(64);
  w.optional(rec.previous, writeBytes);
  w.u64(rec.epoch).u8(COMMIT_STATUS_CODES.indexOf(rec.status)).bool(rec.welcome);
  return w.finish();
}

/** Decodes a {@link CommitRecord}. @example `decodeCommitRecord(bytes).status` */
export function decodeCommitRecord(bytes: Uint8Array): CommitRecord {
  return decodeAll(bytes, "commit record", (r) => {
    const previous = r.optional(readBytes);
    const epoch = r.u64();
    const status = COMMIT_STATUS_CODES[r.u8()];
    if (status === undefined) throw new DecodeError("commit record: unknown status");
    const welcome = r.bool();
    return { ...(previous === undefined ? {} : { previous }), epoch, status, welcome };
  });
}

/**
 * One of this engine's own key packages, with its private part, until a join consumes it.
 *
 * @example
 * ```ts
 * const rec: KeyPackageRecord = { docId, keyPackage, secret }
 * ```
 */
export interface KeyPackageRecord {
  readonly docId: Uint8Array;
  readonly keyPackage: Uint8Array;
  readonly secret: Uint8Array;
}

/** Encodes a {@link KeyPackageRecord}. @example `encodeKeyPackageRecord(rec)` */
export function encodeKeyPackageRecord(rec: KeyPackageRecord): Uint8Array {
  return new Writer(256).opaque(rec.docId).opaque(rec.keyPackage).opaque(rec.secret).finish();
}

/** Decodes a {@link KeyPackageRecord}. @example `decodeKeyPackageRecord(bytes).secret` */
export function decodeKeyPackageRecord(bytes: Uint8Array): KeyPackageRecord {
  return decodeAll(bytes, "key package record", (r) => ({ docId: r.opaque(), keyPackage: r.opaque(), secret: r.opaque() }));
}

/**
 * What the engine tells about one group (its record, without keys or internals).
 *
 * @example
 * ```ts
 * const { status, mlsEpoch, members } = await engine.describe(groupId)
 * ```
 */
export interface GroupInfo {
  readonly groupId: Uint8Array;
  readonly status: GroupStatus;
  /** Undefined while the SecretGroup document has not arrived. */
  readonly owner?: Uint8Array;
  readonly ciphersuite?: string;
  readonly mlsEpoch: bigint;
  readonly ltsEpoch: bigint;
  /** Public keys, owner and self included (empty while not a member yet). */
  readonly members: Uint8Array[];
  /** Id of the last applied commit. */
  readonly head?: Uint8Array;
}

/**
 * The {@link GroupInfo} of a record (copies, so callers cannot change cached records).
 *
 * @example
 * ```ts
 * groupInfo(gidHex, record).status
 * ```
 */
export function groupInfo(gidHex: string, record: GroupRecord): GroupInfo {
  return {
    groupId: Uint8Array.from(Buffer.from(gidHex, "hex")),
    status: record.status,
    ...(record.owner === undefined ? {} : { owner: Uint8Array.from(record.owner) }),
    ...(record.ciphersuite === undefined ? {} : { ciphersuite: record.ciphersuite }),
    mlsEpoch: record.mlsEpoch,
    ltsEpoch: record.ltsEpoch,
    members: record.members.map((k) => Uint8Array.from(k)),
    ...(record.head === undefined ? {} : { head: Uint8Array.from(record.head) }),
  };
}
