/**
 * `SecretGroupCommit` payload: what the owner's add/remove/update/rotate return as `commit`
 * and what a `secret_group_commit_v1` document carries.
 *
 * ```
 * struct {
 *   uint8 version = 1;
 *   opaque mls_commit<V>;                       // MLSMessage (PublicMessage) with the commit
 *   optional<opaque mls_welcome<V>>;            // MLSMessage with a Welcome, when members were added
 *   opaque encrypted_long_term_secrets<V>;      // SecretGroupMessage of type 1, sent in the new epoch
 * } SecretGroupCommit;
 * ```
 *
 * @module
 */
import { Writer, decodeAll } from "./codec/tls.js";
import { DecodeError, ErrorCode, UsageError, isSecretGroupError } from "./errors.js";
import { decodeSecretGroupMessage } from "./message.js";

/** Format version of the SecretGroupCommit encoding. */
const COMMIT_FORMAT_VERSION = 1;

/**
 * The parts of one owner commit.
 *
 * @example
 * ```ts
 * const commit: SecretGroupCommit = { mlsCommit, mlsWelcome, encryptedSecrets }
 * ```
 */
export interface SecretGroupCommit {
  /** MLSMessage bytes holding the MLS commit. */
  readonly mlsCommit: Uint8Array;
  /** MLSMessage bytes holding the Welcome; present only when the commit adds members. */
  readonly mlsWelcome?: Uint8Array;
  /** An encoded SecretGroupMessage of type 1 whose plaintext is `LongTermSecret secrets<V>`. */
  readonly encryptedSecrets: Uint8Array;
}

function isType1Message(bytes: Uint8Array): boolean {
  try {
    return decodeSecretGroupMessage(bytes).type === "mls";
  } catch (e) {
    if (isSecretGroupError(e)) return false;
    throw e;
  }
}

function nonEmptyBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length > 0;
}

/**
 * Encodes a `SecretGroupCommit`. Usage error when a part is missing or empty, or when
 * `encryptedSecrets` is not an encoded type-1 SecretGroupMessage.
 *
 * @example
 * ```ts
 * const bytes = encodeSecretGroupCommit({ mlsCommit, encryptedSecrets })
 * ```
 */
export function encodeSecretGroupCommit(commit: SecretGroupCommit): Uint8Array {
  if (typeof commit !== "object" || commit === null) throw new UsageError(ErrorCode.InvalidArgument, "not a SecretGroupCommit");
  if (!nonEmptyBytes(commit.mlsCommit)) throw new UsageError(ErrorCode.InvalidArgument, "mlsCommit must be non-empty bytes");
  if (commit.mlsWelcome !== undefined && !nonEmptyBytes(commit.mlsWelcome)) {
    throw new UsageError(ErrorCode.InvalidArgument, "mlsWelcome must be non-empty bytes when present");
  }
  if (!(commit.encryptedSecrets instanceof Uint8Array) || !isType1Message(commit.encryptedSecrets)) {
    throw new UsageError(ErrorCode.InvalidArgument, "encryptedSecrets must be an encoded SecretGroupMessage of type 1");
  }
  const size = 16 + commit.mlsCommit.length + (commit.mlsWelcome?.length ?? 0) + commit.encryptedSecrets.length;
  return new Writer(size)
    .u8(COMMIT_FORMAT_VERSION)
    .opaque(commit.mlsCommit)
    .optional(commit.mlsWelcome, (w, welcome) => w.opaque(welcome))
    .opaque(commit.encryptedSecrets)
    .finish();
}

/**
 * Decodes a `SecretGroupCommit`; throws only {@link DecodeError} (unknown version, empty parts,
 * `encryptedSecrets` not a type-1 SecretGroupMessage, truncated or trailing bytes).
 * The MLS parts stay opaque here; `src/mls/` validates them.
 *
 * @example
 * ```ts
 * const { mlsCommit, mlsWelcome, encryptedSecrets } = decodeSecretGroupCommit(bytes)
 * ```
 */
export function decodeSecretGroupCommit(bytes: Uint8Array): SecretGroupCommit {
  return decodeAll(bytes, "SecretGroupCommit", (r): SecretGroupCommit => {
    const version = r.u8();
    if (version !== COMMIT_FORMAT_VERSION) throw new DecodeError(`SecretGroupCommit: unknown format version ${version}`);
    const mlsCommit = r.opaque();
    if (mlsCommit.length === 0) throw new DecodeError("SecretGroupCommit: empty mls_commit");
    const mlsWelcome = r.optional((inner) => inner.opaque());
    if (mlsWelcome !== undefined && mlsWelcome.length === 0) throw new DecodeError("SecretGroupCommit: empty mls_welcome");
    const encryptedSecrets = r.opaque();
    if (decodeSecretGroupMessage(encryptedSecrets).type !== "mls") {
      throw new DecodeError("SecretGroupCommit: encrypted_long_term_secrets is not an MLS message");
    }
    return mlsWelcome === undefined ? { mlsCommit, encryptedSecrets } : { mlsCommit, mlsWelcome, encryptedSecrets };
  });
}

/**
 * The parts of a SecretGroupCommit given either encoded or already decoded (as a document's
 * fields hold them): library commit functions take both, so a caller that has the parts never
 * encodes them only to have them decoded again. Decoded parts are checked like the encoder
 * checks them (`INVALID_ARGUMENT`); bytes decode or throw `DECODE_ERROR`.
 *
 * @example
 * ```ts
 * const { mlsCommit } = commitParts(bytesOrParts)
 * ```
 */
export function commitParts(commit: Uint8Array | SecretGroupCommit): SecretGroupCommit {
  if (commit instanceof Uint8Array) return decodeSecretGroupCommit(commit);
  if (typeof commit !== "object" || commit === null || !nonEmptyBytes(commit.mlsCommit) || !(commit.encryptedSecrets instanceof Uint8Array)) {
    throw new UsageError(ErrorCode.InvalidArgument, "not a SecretGroupCommit");
  }
  if (commit.mlsWelcome !== undefined && !nonEmptyBytes(commit.mlsWelcome)) throw new UsageError(ErrorCode.InvalidArgument, "mlsWelcome must be non-empty bytes when present");
  return commit;
}
