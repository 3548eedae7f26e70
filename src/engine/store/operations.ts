/**
 * Stored records of operations (application documents the engine ingests) and their codecs
 * (TLS presentation language, src/codec/tls.ts; the store adds the version byte). Where they
 * live is in src/engine/store/sublevels.ts: `ops/<opId>`, `opvalues/<opId>/<field>` (plaintext),
 * `oplog/<gid>/<seq>`, `oppending/<gid>/<seq>`.
 *
 * @module
 */
import { utf8 } from "../../bytes.js";
import { Reader, Writer, decodeAll } from "../../codec/tls.js";
import type { SchemeName } from "../../constants.js";
import { ID_SIZE } from "../../constants.js";
import { DecodeError } from "../../errors.js";

/** A field that can never be read, with the typed error's code and message. @example `{ field: "body", code: "NOT_MEMBER", message: "..." }` */
export interface FieldErrorRecord {
  readonly field: string;
  /** An `ErrorCode` (an unknown one reads as `INTERNAL`). */
  readonly code: string;
  readonly message: string;
}

/**
 * What the engine knows of one operation besides its document and decrypted values.
 *
 * ```
 * struct { optional<opaque group_id<V>>; uint64 seq; opaque decrypted<V><V>; opaque pending<V><V>;
 *          struct { opaque field<V>; opaque code<V>; opaque message<V>; } errors<V>; } OperationRecord;
 * ```
 *
 * @example
 * ```ts
 * const rec: OperationRecord = { groupId, seq: 7n, decrypted: ["body"], pending: [], errors: [] }
 * ```
 */
export interface OperationRecord {
  /** The group its encrypted fields belong to; absent when it has none. */
  readonly groupId?: Uint8Array;
  /** Arrival number inside its group (the `oplog` key). */
  readonly seq: bigint;
  /** Encrypted fields whose value is stored in `opvalues`. */
  readonly decrypted: readonly string[];
  /** Encrypted fields waiting for a commit or a Welcome. */
  readonly pending: readonly string[];
  /** Encrypted fields that can never be read. */
  readonly errors: readonly FieldErrorRecord[];
}

/** Most field names an operation record may list (the document schema bounds fields much lower). */
const MAX_FIELDS = 4096;
const MAX_TEXT = 4096;
const text = (r: Reader): string => new TextDecoder("utf-8", { fatal: true }).decode(r.opaqueView(MAX_TEXT));
const writeText = (w: Writer, s: string): void => void w.opaque(utf8(s));

/** Encodes an {@link OperationRecord}. @example `decodeOperationRecord(encodeOperationRecord(rec))` */
export function encodeOperationRecord(rec: OperationRecord): Uint8Array {
  return new Writer(64)
    .optional(rec.groupId, (w, id) => w.opaque(id))
    .u64(rec.seq)
    .vector(rec.decrypted, writeText)
    .vector(rec.pending, writeText)
    .vector(rec.errors, (w, e) => {
      writeText(w, e.field);
      writeText(w, e.code);
      writeText(w, e.message.slice(0, 1024));
    })
    .finish();
}

/** Decodes an {@link OperationRecord}; only `DecodeError`. @example `const rec = decodeOperationRecord(bytes)` */
export function decodeOperationRecord(bytes: Uint8Array): OperationRecord {
  return decodeAll(bytes, "operation record", (r) => {
    const groupId = r.optional((x) => x.opaque(ID_SIZE));
    const seq = r.u64();
    const decrypted = r.vector(text, MAX_FIELDS);
    const pending = r.vector(text, MAX_FIELDS);
    const errors = r.vector((x) => ({ field: text(x), code: text(x), message: text(x) }), MAX_FIELDS);
    return { ...(groupId === undefined ? {} : { groupId }), seq, decrypted, pending, errors };
  });
}

/** What a pending field waits for: the scheme and the epoch it needs. @example `{ scheme: "sender-ratchet", epoch: 3n }` */
export interface PendingNeed {
  readonly scheme: SchemeName;
  readonly epoch: bigint;
}

/**
 * An operation with pending fields, kept in `oppending/<gid>/<seq>` and in memory
 * (src/engine/pending.ts) for the limits and for re-examination when the group advances.
 *
 * ```
 * struct { opaque operation_id<V>; uint32 bytes; uint64 arrived_ms;
 *          struct { uint8 scheme; uint64 epoch; } needs<V>; } PendingEntry;
 * ```
 *
 * @example
 * ```ts
 * const entry: PendingEntry = { operationId, bytes: 812, arrived: Date.now(), needs: [{ scheme: "long-term", epoch: 2n }] }
 * ```
 */
export interface PendingEntry {
  readonly operationId: Uint8Array;
  /** Size of the operation's document (what the byte limits count). */
  readonly bytes: number;
  /** Arrival time (ms since the epoch): the oldest goes first when a total limit is reached. */
  readonly arrived: number;
  readonly needs: readonly PendingNeed[];
}

const SCHEMES: readonly SchemeName[] = ["long-term", "sender-ratchet"];

/** Encodes a {@link PendingEntry}. @example `decodePendingEntry(encodePendingEntry(entry))` */
export function encodePendingEntry(entry: PendingEntry): Uint8Array {
  return new Writer(64)
    .opaque(entry.operationId)
    .u32(entry.bytes)
    .u64(BigInt(entry.arrived))
    .vector(entry.needs, (w, n) => w.u8(SCHEMES.indexOf(n.scheme)).u64(n.epoch))
    .finish();
}

/** Decodes a {@link PendingEntry}; only `DecodeError`. @example `const entry = decodePendingEntry(bytes)` */
export function decodePendingEntry(bytes: Uint8Array): PendingEntry {
  return decodeAll(bytes, "pending operation", (r) => {
    const operationId = r.opaque(ID_SIZE);
    const size = r.u32();
    const arrived = Number(r.u64());
    const needs = r.vector((x) => {
      const scheme = SCHEMES[x.u8()];
      if (scheme === undefined) throw new DecodeError("pending operation: unknown scheme");
      return { scheme, epoch: x.u64() };
    }, MAX_FIELDS);
    return { operationId, bytes: size, arrived, needs };
  });
}

/** Width of the zero-padded arrival number in keys. */
const SEQ_DIGITS = 16;

/** Key of a group's `seq`-th operation in `oplog` and `oppending`. @example `logKey(gid, 7n) // "ab../0000000000000007"` */
export const logKey = (groupId: string, seq: bigint): string => `${groupId}/${seq.toString().padStart(SEQ_DIGITS, "0")}`;

/** The arrival number of an `oplog` / `oppending` key. @example `seqOfKey("ab../0000000000000007") // 7n` */
export function seqOfKey(key: string): bigint {
  const digits = key.slice(key.lastIndexOf("/") + 1);
  if (!/^[0-9]{16}$/.test(digits)) throw new DecodeError(`operation log key ${key}`);
  return BigInt(digits);
}

/** Key of one decrypted value in `opvalues`. @example `valueKey(opId, "body")` */
export const valueKey = (operationId: string, field: string): string => `${operationId}/${field}`;
