/**
 * `LongTermSecret` and the sorted `LongTermSecret secrets<V>` list (DESIGN.md section 2), with
 * their codecs and the helpers that keep a list sorted by epoch.
 *
 * @module
 */
import { LTS_KEY_SIZE, MAX_GROUP_ID_SIZE, MAX_LONG_TERM_SECRETS, MAX_LONG_TERM_SECRET_SIZE } from "../constants.js";
import type { LongTermCiphersuiteName } from "../constants.js";
import { Writer, decodeAll } from "../codec/tls.js";
import type { Reader } from "../codec/tls.js";
import { DecodeError, ErrorCode, UsageError, ValidationError } from "../errors.js";
import { equalBytes } from "../bytes.js";
import { ciphersuiteFromId, ciphersuiteId, isLongTermCiphersuiteName } from "./ciphersuite.js";

const U64_MAX = (1n << 64n) - 1n;

/**
 * A long-term secret epoch: a u64 counter the owner increments on every rotation.
 *
 * @example
 * ```ts
 * const next: LongTermEpoch = asLongTermEpoch(current + 1n)
 * ```
 */
export type LongTermEpoch = bigint & { readonly __brand: "LongTermEpoch" };

/**
 * Brands a number as a {@link LongTermEpoch}; a usage error unless it is an integer in 0..2^64-1.
 *
 * @example
 * ```ts
 * const epoch = asLongTermEpoch(0)
 * ```
 */
export function asLongTermEpoch(n: bigint | number): LongTermEpoch {
  let v: bigint;
  if (typeof n === "bigint") v = n;
  else if (typeof n === "number" && Number.isSafeInteger(n)) v = BigInt(n);
  else throw new UsageError(ErrorCode.InvalidArgument, `long-term epoch must be an integer: ${String(n)}`);
  if (v < 0n || v > U64_MAX) throw new UsageError(ErrorCode.InvalidArgument, `long-term epoch out of u64 range: ${v}`);
  return v as LongTermEpoch;
}

/**
 * One AEAD key of a group: `LongTermSecret { opaque group_id<V>; LongTermSecretCiphersuite
 * ciphersuite; LongTermSecretEpoch long_term_epoch; opaque value<V>; }`.
 *
 * @example
 * ```ts
 * const secret: LongTermSecret = { groupId, ciphersuite: "PANDA10_AES128GCM", epoch: asLongTermEpoch(0), value: key16 }
 * ```
 */
export interface LongTermSecret {
  readonly groupId: Uint8Array;
  readonly ciphersuite: LongTermCiphersuiteName;
  readonly epoch: LongTermEpoch;
  /** The AEAD key, exactly the ciphersuite's key size. */
  readonly value: Uint8Array;
}

/**
 * Usage error unless `groupId` is bytes of at most MAX_GROUP_ID_SIZE (256). Internal helper of
 * the long-term codecs.
 *
 * @internal
 * @example
 * ```ts
 * checkGroupId(groupId) // throws UsageError(INVALID_ARGUMENT) on 257 bytes
 * ```
 */
export function checkGroupId(groupId: unknown): asserts groupId is Uint8Array {
  if (!(groupId instanceof Uint8Array) || groupId.length > MAX_GROUP_ID_SIZE) {
    throw new UsageError(ErrorCode.InvalidArgument, `group id must be at most ${MAX_GROUP_ID_SIZE} bytes`);
  }
}

function checkSecret(s: LongTermSecret): void {
  if (typeof s !== "object" || s === null) throw new UsageError(ErrorCode.InvalidArgument, "not a long-term secret");
  checkGroupId(s.groupId);
  if (!isLongTermCiphersuiteName(s.ciphersuite)) {
    throw new UsageError(ErrorCode.InvalidArgument, `unknown long-term ciphersuite: ${String(s.ciphersuite)}`);
  }
  asLongTermEpoch(s.epoch);
  if (!(s.value instanceof Uint8Array) || s.value.length !== LTS_KEY_SIZE[s.ciphersuite]) {
    throw new UsageError(ErrorCode.InvalidArgument, `secret value must be ${LTS_KEY_SIZE[s.ciphersuite]} bytes`);
  }
}

/**
 * Writes one secret into `w` (for codecs that embed it). Validates first, so whatever is
 * written decodes again.
 *
 * @example
 * ```ts
 * const w = new Writer()
 * writeLongTermSecret(w, secret)
 * const bytes = w.finish()
 * ```
 */
function writeLongTermSecret(w: Writer, s: LongTermSecret): void {
  checkSecret(s);
  w.opaque(s.groupId).u8(ciphersuiteId(s.ciphersuite)).u64(s.epoch).opaque(s.value);
}

/**
 * Reads one secret from `r`; throws only {@link DecodeError}. Every byte array is a copy.
 *
 * @example
 * ```ts
 * const secret = decodeAll(bytes, "LongTermSecret", readLongTermSecret)
 * ```
 */
function readLongTermSecret(r: Reader): LongTermSecret {
  const groupId = r.opaque(MAX_GROUP_ID_SIZE);
  const ciphersuite = ciphersuiteFromId(r.u8());
  const epoch = r.u64() as LongTermEpoch;
  const value = r.opaque(MAX_LONG_TERM_SECRET_SIZE);
  if (value.length !== LTS_KEY_SIZE[ciphersuite]) {
    throw new DecodeError(`LongTermSecret: value is ${value.length} bytes, ${ciphersuite} needs ${LTS_KEY_SIZE[ciphersuite]}`);
  }
  return { groupId, ciphersuite, epoch, value };
}

/**
 * Encodes one `LongTermSecret`. Usage error on an invalid secret (wrong key size, say).
 *
 * @example
 * ```ts
 * const bytes = encodeLongTermSecret({ groupId, ciphersuite: "PANDA10_AES128GCM", epoch: asLongTermEpoch(0), value })
 * ```
 */
export function encodeLongTermSecret(secret: LongTermSecret): Uint8Array {
  const w = new Writer();
  writeLongTermSecret(w, secret);
  return w.finish();
}

/**
 * Decodes one `LongTermSecret`; throws only {@link DecodeError} (unknown ciphersuite, value not
 * of the suite's key size, truncated or trailing bytes).
 *
 * @example
 * ```ts
 * const secret = decodeLongTermSecret(bytes)
 * ```
 */
export function decodeLongTermSecret(bytes: Uint8Array): LongTermSecret {
  return decodeAll(bytes, "LongTermSecret", readLongTermSecret);
}

/**
 * Encodes `LongTermSecret secrets<V>`. The list is sent sorted by epoch, so this sorts a copy;
 * two secrets of one epoch are a usage error (the receiver would reject them).
 *
 * @example
 * ```ts
 * const bytes = encodeLongTermSecrets(state.secrets)
 * ```
 */
export function encodeLongTermSecrets(list: readonly LongTermSecret[]): Uint8Array {
  if (!Array.isArray(list)) throw new UsageError(ErrorCode.InvalidArgument, "expected an array of long-term secrets");
  if (list.length > MAX_LONG_TERM_SECRETS) {
    throw new UsageError(ErrorCode.InvalidArgument, `more than ${MAX_LONG_TERM_SECRETS} long-term secrets`);
  }
  for (const s of list) checkSecret(s);
  const sorted = [...list].sort(compareEpoch);
  for (let i = 1; i < sorted.length; i++) {
    if ((sorted[i] as LongTermSecret).epoch === (sorted[i - 1] as LongTermSecret).epoch) {
      throw new UsageError(ErrorCode.InvalidArgument, `two long-term secrets of epoch ${(sorted[i] as LongTermSecret).epoch}`);
    }
  }
  return new Writer().vector(sorted, writeLongTermSecret).finish();
}

/**
 * Decodes `LongTermSecret secrets<V>`. Throws only {@link DecodeError}, also when the epochs are
 * not strictly increasing (unsorted or duplicated): one encoding per list, so a receiver never
 * has to choose between two secrets of one epoch.
 *
 * @example
 * ```ts
 * const secrets = decodeLongTermSecrets(plaintextOfCommitMessage)
 * ```
 */
export function decodeLongTermSecrets(bytes: Uint8Array): LongTermSecret[] {
  return decodeAll(bytes, "LongTermSecrets", (r) => {
    const list = r.vector(readLongTermSecret, MAX_LONG_TERM_SECRETS);
    for (let i = 1; i < list.length; i++) {
      if ((list[i] as LongTermSecret).epoch <= (list[i - 1] as LongTermSecret).epoch) {
        throw new DecodeError("LongTermSecrets: epochs not strictly increasing");
      }
    }
    return list;
  });
}

function compareEpoch(a: LongTermSecret, b: LongTermSecret): number {
  return a.epoch < b.epoch ? -1 : a.epoch > b.epoch ? 1 : 0;
}

/**
 * Union of two secret lists, sorted by epoch. On a shared epoch the secret of `a` (the one
 * already held) wins, so a later list cannot replace a key we already use.
 *
 * @example
 * ```ts
 * const secrets = mergeLongTermSecrets(state.secrets, decodeLongTermSecrets(bytes))
 * ```
 */
export function mergeLongTermSecrets(a: readonly LongTermSecret[], b: readonly LongTermSecret[]): LongTermSecret[] {
  const byEpoch = new Map<bigint, LongTermSecret>();
  for (const s of a) if (!byEpoch.has(s.epoch)) byEpoch.set(s.epoch, s);
  for (const s of b) if (!byEpoch.has(s.epoch)) byEpoch.set(s.epoch, s);
  return [...byEpoch.values()].sort(compareEpoch);
}

/**
 * The secret of `epoch` in a list sorted by epoch (binary search, O(log n)), or undefined.
 *
 * @example
 * ```ts
 * const secret = findLongTermSecret(state.secrets, ciphertext.epoch)
 * ```
 */
export function findLongTermSecret(sorted: readonly LongTermSecret[], epoch: bigint): LongTermSecret | undefined {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const s = sorted[mid] as LongTermSecret;
    if (s.epoch === epoch) return s;
    if (s.epoch < epoch) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/**
 * The secret with the highest epoch of a sorted list (the one new data is encrypted with).
 *
 * @example
 * ```ts
 * const current = latestLongTermSecret(state.secrets)
 * ```
 */
export function latestLongTermSecret(sorted: readonly LongTermSecret[]): LongTermSecret | undefined {
  return sorted[sorted.length - 1];
}

/**
 * The error for a long-term ciphertext whose header names another group (`WRONG_GROUP`): one
 * message wherever it is checked (the library's open, the engine's bulk paths).
 *
 * @example
 * ```ts
 * if (!equalBytes(ct.groupId, groupId)) throw otherGroupCiphertext()
 * ```
 */
export function otherGroupCiphertext(): ValidationError {
  return new ValidationError(ErrorCode.WrongGroup, "long-term ciphertext belongs to another group");
}

/**
 * The secret that opens `groupId`'s ciphertexts of `epoch`, or the error why none does:
 * `UNKNOWN_EPOCH` when the list has no secret of that epoch, `WRONG_GROUP` when the list's secret
 * of that epoch is another group's (a list mixing groups is a caller bug; another group's key is
 * never used). Returned, not thrown, so bulk paths can record it per value.
 *
 * @example
 * ```ts
 * const secret = secretForEpoch(state.secrets, state.groupId, ct.epoch)
 * if (secret instanceof Error) throw secret
 * ```
 */
export function secretForEpoch(sorted: readonly LongTermSecret[], groupId: Uint8Array, epoch: bigint): LongTermSecret | ValidationError {
  const secret = findLongTermSecret(sorted, epoch);
  if (secret === undefined) return new ValidationError(ErrorCode.UnknownEpoch, `no long-term secret of epoch ${String(epoch)}`);
  if (!equalBytes(secret.groupId, groupId)) return new ValidationError(ErrorCode.WrongGroup, "the long-term secret of this epoch belongs to another group");
  return secret;
}
