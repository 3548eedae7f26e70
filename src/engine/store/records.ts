/**
 * The engine's stored records and their codecs (TLS presentation language through
 * src/codec/tls.ts; the storage version byte is added by the store, not here).
 *
 * @module
 */
import { Reader, Writer, decodeAll } from "../../codec/tls.js";
import { DecodeError } from "../../errors.js";
import { equalBytes, utf8 } from "../../bytes.js";

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
 * Everything the main thread knows about a group without its MLS state. Stored in two halves
 * (src/engine/store/groups.ts): a cold one written when membership (status, owner, ciphersuite,
 * members) changes and a hot one written by every commit and by messages.
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

/** First byte of a cold group record of formats 2 to 4, with the chain head (format 1 records began with a status byte, 0 to 2). */
const COLD_TAG = 0x80;
/** First byte of a cold group record since format 5: the chain head moved to the hot half. */
const COLD_TAG_V5 = 0x81;
/** First byte of a hot group record since format 5, which holds the chain head (before: an optional's presence byte, 0 or 1). */
const HOT_TAG_V5 = 0x81;

/**
 * Encodes the cold half of a {@link GroupRecord}: what only membership changes touch (status,
 * owner, ciphersuite, members). Stored at `groups/<gid>`; a commit that adds or removes no one
 * does not rewrite it (src/engine/store/groups.ts).
 *
 * ```
 * struct { uint8 tag = 0x81; uint8 status; optional<opaque owner<V>>; optional<opaque ciphersuite<V>>;
 *          opaque members<V><V>; } ColdGroupRecord;   // format 5 (formats 2-4: tag 0x80, optional head after the ciphersuite)
 * ```
 *
 * @example
 * ```ts
 * decodeGroupRecord(encodeColdRecord(rec), encodeHotRecord(rec))
 * ```
 */
export function encodeColdRecord(rec: GroupRecord): Uint8Array {
  const w = new Writer(64 + rec.members.length * 34);
  w.u8(COLD_TAG_V5).u8(STATUS_CODES.indexOf(rec.status));
  w.optional(rec.owner, writeBytes);
  w.optional(rec.ciphersuite === undefined ? undefined : utf8(rec.ciphersuite), writeBytes);
  w.vector(rec.members, writeBytes);
  return w.finish();
}

/**
 * Encodes the hot half of a {@link GroupRecord}: what every commit or message may change (chain
 * head, state token, epochs, nonce reservation), a few dozen bytes whatever the group's size.
 * Stored at `groups/<gid>/hot`.
 *
 * ```
 * struct { uint8 tag = 0x81; optional<opaque head<V>>; optional<opaque state_token<V>>; uint64 mls_epoch;
 *          uint64 lts_epoch; uint64 nonce_reserved; } HotGroupRecord;   // format 5 (formats 2-4: no tag, no head)
 * ```
 *
 * @example
 * ```ts
 * const hot = encodeHotRecord(rec)
 * ```
 */
export function encodeHotRecord(rec: GroupRecord): Uint8Array {
  const w = new Writer(88).u8(HOT_TAG_V5).optional(rec.head, writeBytes);
  return w.optional(rec.stateToken, writeBytes).u64(rec.mlsEpoch).u64(rec.ltsEpoch).u64(rec.nonceReserved).finish();
}

/**
 * True when `next` differs from `prev` in a field of the cold half, so the cold half must be
 * written; members by reference first (an unchanged membership keeps its list), then by content.
 *
 * @example
 * ```ts
 * coldChanged(record, { ...record, mlsEpoch: record.mlsEpoch + 1n }) // false
 * ```
 */
export function coldChanged(prev: GroupRecord, next: GroupRecord): boolean {
  if (prev.status !== next.status || prev.ciphersuite !== next.ciphersuite || !sameOptionalBytes(prev.owner, next.owner)) return true;
  if (prev.members === next.members) return false;
  return prev.members.length !== next.members.length || prev.members.some((m, i) => !equalBytes(m, next.members[i] as Uint8Array));
}

const sameOptionalBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => (a === undefined ? b === undefined : b !== undefined && equalBytes(a, b));

type HotFields = Pick<GroupRecord, "stateToken" | "mlsEpoch" | "ltsEpoch" | "nonceReserved" | "head">;

function decodeHot(bytes: Uint8Array): HotFields {
  return decodeAll(bytes, "hot group record", (r) => {
    // format 5 carries the chain head; an older hot half does not (the cold half's head stands)
    const v5 = bytes[0] === HOT_TAG_V5;
    if (v5) r.u8();
    const head = v5 ? r.optional(readBytes) : undefined;
    const stateToken = r.optional(readBytes);
    const mlsEpoch = r.u64();
    const ltsEpoch = r.u64();
    const nonceReserved = r.u64();
    return { ...(head === undefined ? {} : { head }), ...(stateToken === undefined ? {} : { stateToken }), mlsEpoch, ltsEpoch, nonceReserved };
  });
}

type ColdFields = Omit<GroupRecord, "stateToken" | "mlsEpoch" | "ltsEpoch" | "nonceReserved" | "members">;

/** Status, owner, ciphersuite and (before format 5) head: how every layout begins (after the cold tag). */
function readColdFields(r: Reader, withHead: boolean): ColdFields {
  const status = STATUS_CODES[r.u8()];
  if (status === undefined) throw new DecodeError("group record: unknown status");
  const owner = r.optional(readBytes);
  const suite = r.optional(readBytes);
  const head = withHead ? r.optional(readBytes) : undefined;
  return {
    status,
    ...(owner === undefined ? {} : { owner }),
    ...(suite === undefined ? {} : { ciphersuite: new TextDecoder().decode(suite) }),
    ...(head === undefined ? {} : { head }),
  };
}

/** Format 1 (release 0.1.0): one record with every field; its group's writes add a hot half over it, and it stays until a cold field changes. */
function decodeLegacy(bytes: Uint8Array): GroupRecord {
  return decodeAll(bytes, "group record", (r) => {
    const cold = readColdFields(r, true);
    const mlsEpoch = r.u64();
    const ltsEpoch = r.u64();
    const members = r.vector(readBytes);
    const stateToken = r.optional(readBytes);
    const nonceReserved = r.u64();
    return { ...cold, mlsEpoch, ltsEpoch, members, ...(stateToken === undefined ? {} : { stateToken }), nonceReserved };
  });
}

function decodeCold(bytes: Uint8Array): ColdFields & Pick<GroupRecord, "members"> {
  return decodeAll(bytes, "group record", (r) => {
    const withHead = r.u8() === COLD_TAG;
    const cold = readColdFields(r, withHead);
    return { ...cold, members: r.vector(readBytes) };
  });
}

/**
 * Decodes a group record from its cold half and its hot half (absent: nothing hot was ever
 * written). A format-1 record (one record with every field) reads as it was written; its hot
 * fields yield to a hot record written since. A hot half of format 5 holds the chain head, which
 * stands over the head of an older cold half (that group's commits since wrote the hot half only).
 * Throws DecodeError on malformed input.
 *
 * @example
 * ```ts
 * const rec = decodeGroupRecord(coldBytes, hotBytes)
 * ```
 */
export function decodeGroupRecord(cold: Uint8Array, hot?: Uint8Array): GroupRecord {
  const legacy = cold[0] !== COLD_TAG && cold[0] !== COLD_TAG_V5;
  const base: GroupRecord = legacy ? decodeLegacy(cold) : { ...decodeCold(cold), mlsEpoch: 0n, ltsEpoch: 0n, nonceReserved: 0n };
  if (hot === undefined) return base;
  const fields = decodeHot(hot);
  const { stateToken: _, head, ...rest } = base;
  // an older hot half has no head: the cold half's stands
  return { ...rest, ...(head === undefined || hot[0] === HOT_TAG_V5 ? {} : { head }), ...fields };
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
