/**
 * Typed errors. Every error this package throws is a {@link SecretGroupError} with a stable
 * string `code` (see {@link ErrorCode}) and a `source` naming the kind of fault. Error classes
 * do not survive a worker boundary: workers send {@link ErrorData} and the main side rebuilds
 * the error with {@link errorFromData}.
 *
 * @module
 */

/**
 * Stable error codes. The string values are part of the public API: match on `err.code`.
 *
 * @example
 * ```ts
 * try { decrypt(state, bytes) } catch (e) { if (isSecretGroupError(e) && e.code === ErrorCode.DecryptionFailed) {} }
 * ```
 */
export const ErrorCode = {
  // usage: the caller asked for something this state or engine cannot do
  InvalidArgument: "INVALID_ARGUMENT",
  NotOwner: "NOT_OWNER",
  NotMember: "NOT_MEMBER",
  UnknownGroup: "UNKNOWN_GROUP",
  AlreadyMember: "ALREADY_MEMBER",
  Closed: "CLOSED",
  // validation: input bytes or documents are not acceptable
  Decode: "DECODE_ERROR",
  WrongGroup: "WRONG_GROUP",
  UnknownEpoch: "UNKNOWN_EPOCH",
  ForgedSender: "FORGED_SENDER",
  Replay: "REPLAY",
  UnsupportedCiphersuite: "UNSUPPORTED_CIPHERSUITE",
  InvalidCommit: "INVALID_COMMIT",
  InvalidWelcome: "INVALID_WELCOME",
  InvalidKeyPackage: "INVALID_KEY_PACKAGE",
  /** A leaf (or key package) in a commit or Welcome whose MLS credential is not its signature key. */
  InvalidCredential: "INVALID_CREDENTIAL",
  KeyPackageExpired: "KEY_PACKAGE_EXPIRED",
  InvalidDocument: "INVALID_DOCUMENT",
  InvalidSignature: "INVALID_SIGNATURE",
  Pending: "PENDING",
  /** Input beyond one of the limits in src/constants.ts (members per commit, a pending commit over its group's byte limit). */
  LimitExceeded: "LIMIT_EXCEEDED",
  // crypto: authentication of ciphertext failed
  DecryptionFailed: "DECRYPTION_FAILED",
  MlsFailure: "MLS_FAILURE",
  // storage
  Storage: "STORAGE_ERROR",
  StorageVersion: "STORAGE_VERSION",
  /** The storage key given to `SecretGroupEngine.open` does not open this database (nothing was changed). */
  StorageKey: "STORAGE_KEY",
  /** A sealed stored value failed authentication (tampered, moved to another key) or its own key was destroyed. */
  StorageIntegrity: "STORAGE_INTEGRITY",
  // internal
  Internal: "INTERNAL",
  WorkerFailed: "WORKER_FAILED",
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Where a fault comes from. @example `if (isSecretGroupError(e) && e.source === ErrorSource.Storage) await reopen()` */
export const ErrorSource = {
  Usage: "usage",
  Validation: "validation",
  Crypto: "crypto",
  Storage: "storage",
  Internal: "internal",
} as const;

/** One of the values of {@link ErrorSource}. */
export type ErrorSource = (typeof ErrorSource)[keyof typeof ErrorSource];

const SOURCE_OF_CODE: Readonly<Record<ErrorCode, ErrorSource>> = {
  INVALID_ARGUMENT: "usage",
  NOT_OWNER: "usage",
  NOT_MEMBER: "usage",
  UNKNOWN_GROUP: "usage",
  ALREADY_MEMBER: "usage",
  CLOSED: "usage",
  DECODE_ERROR: "validation",
  WRONG_GROUP: "validation",
  UNKNOWN_EPOCH: "validation",
  FORGED_SENDER: "validation",
  REPLAY: "validation",
  UNSUPPORTED_CIPHERSUITE: "validation",
  INVALID_COMMIT: "validation",
  INVALID_WELCOME: "validation",
  INVALID_KEY_PACKAGE: "validation",
  INVALID_CREDENTIAL: "validation",
  KEY_PACKAGE_EXPIRED: "validation",
  INVALID_DOCUMENT: "validation",
  INVALID_SIGNATURE: "validation",
  PENDING: "validation",
  LIMIT_EXCEEDED: "validation",
  DECRYPTION_FAILED: "crypto",
  MLS_FAILURE: "crypto",
  STORAGE_ERROR: "storage",
  STORAGE_VERSION: "storage",
  STORAGE_KEY: "storage",
  STORAGE_INTEGRITY: "storage",
  INTERNAL: "internal",
  WORKER_FAILED: "internal",
};

/**
 * Base class of every error this package throws.
 *
 * @example
 * ```ts
 * if (err instanceof SecretGroupError) console.log(err.code, err.source)
 * ```
 */
export class SecretGroupError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** The kind of fault. */
  readonly source: ErrorSource;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.source = SOURCE_OF_CODE[code];
    this.name = new.target.name;
  }
}

/** The caller misused the API. @example `throw new UsageError(ErrorCode.NotOwner, "only the owner commits")` */
export class UsageError extends SecretGroupError {}
/** Input was malformed or not acceptable. @example `throw new ValidationError(ErrorCode.WrongGroup, "...")` */
export class ValidationError extends SecretGroupError {}
/** Bytes could not be decoded. Decoders throw nothing else. @example `throw new DecodeError("truncated")` */
export class DecodeError extends ValidationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Decode, message, options);
  }
}
/** Authentication of a ciphertext failed. @example `throw new CryptoError(ErrorCode.DecryptionFailed, "bad tag")` */
export class CryptoError extends SecretGroupError {}
/** The store failed or holds data of an unknown format. @example `throw new StorageError(ErrorCode.Storage, "...")` */
export class StorageError extends SecretGroupError {}
/** A bug or an unexpected fault. @example `throw new InternalError(ErrorCode.Internal, "...")` */
export class InternalError extends SecretGroupError {}

/** Plain data form of an error, for crossing a worker boundary. @example `const data: ErrorData = { code: e.code, message: e.message }; throw errorFromData(data)` */
export interface ErrorData {
  readonly code: ErrorCode;
  readonly message: string;
}

/**
 * True when `value` is a {@link SecretGroupError}.
 *
 * @example
 * ```ts
 * if (isSecretGroupError(e)) console.log(e.code)
 * ```
 */
export function isSecretGroupError(value: unknown): value is SecretGroupError {
  return value instanceof SecretGroupError;
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(SOURCE_OF_CODE, value);
}

/**
 * Turns any thrown value into {@link ErrorData}; unknown faults become `INTERNAL`.
 *
 * @example
 * ```ts
 * const data = toErrorData(err) // { code: "DECODE_ERROR", message: "..." }
 * ```
 */
export function toErrorData(error: unknown): ErrorData {
  if (error instanceof SecretGroupError) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: ErrorCode.Internal, message };
}

/**
 * Rebuilds the typed error class for {@link ErrorData} received from a worker.
 *
 * @example
 * ```ts
 * throw errorFromData({ code: "REPLAY", message: "message already read" })
 * ```
 */
export function errorFromData(data: { code: unknown; message: unknown }): SecretGroupError {
  const code = isErrorCode(data.code) ? data.code : ErrorCode.Internal;
  const message = typeof data.message === "string" ? data.message : "unknown error";
  if (code === ErrorCode.Decode) return new DecodeError(message);
  switch (SOURCE_OF_CODE[code]) {
    case "usage":
      return new UsageError(code, message);
    case "validation":
      return new ValidationError(code, message);
    case "crypto":
      return new CryptoError(code, message);
    case "storage":
      return new StorageError(code, message);
    default:
      return new InternalError(code, message);
  }
}
