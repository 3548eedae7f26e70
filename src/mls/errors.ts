/**
 * Maps every fault raised inside ts-mls to one of our typed errors, so nothing ts-mls throws
 * leaves `src/mls/`.
 *
 * @module
 */
import { CodecError, CryptoVerificationError, MlsError } from "ts-mls/mlsError.js";
import { DecodeError, ErrorCode, SecretGroupError, errorFromData } from "../errors.js";

/**
 * Builds the typed error class that belongs to `code`, keeping `cause`.
 *
 * @example
 * ```ts
 * throw typedError(ErrorCode.Replay, "message already read")
 * ```
 */
export function typedError(code: ErrorCode, message: string, cause?: unknown): SecretGroupError {
  const probe = errorFromData({ code, message });
  if (probe instanceof DecodeError) return new DecodeError(message, { cause });
  const Ctor = probe.constructor as new (c: ErrorCode, m: string, o?: { cause?: unknown }) => SecretGroupError;
  return new Ctor(code, message, { cause });
}

/**
 * Translates a fault thrown by ts-mls (or by WebCrypto underneath it) into a typed error.
 * Errors that already are ours pass through unchanged. `fallback` is the code used when the
 * message alone does not say more (the operation decides: DECRYPTION_FAILED for messages,
 * MLS_FAILURE for commits, INVALID_WELCOME for joins).
 *
 * @example
 * ```ts
 * try { await f() } catch (e) { throw mapMlsError(e, ErrorCode.MlsFailure, "processing commit") }
 * ```
 */
export function mapMlsError(error: unknown, fallback: ErrorCode, what: string): SecretGroupError {
  if (error instanceof SecretGroupError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const text = `${what}: ${message}`;
  if (error instanceof MlsError) {
    // ts-mls removes a generation's key once it has been used: asking for it again is a replay.
    if (message === "Desired gen in the past") return typedError(ErrorCode.Replay, `${what}: message already decrypted (replay) or older than the retained generations`, error);
    if (message === "Current time not within Lifetime") return typedError(ErrorCode.KeyPackageExpired, text, error);
    // our authentication service refused a leaf: its credential is not its signature key
    if (message === "Could not validate credential" || message === "Could not validate external credential") {
      return typedError(ErrorCode.InvalidCredential, text, error);
    }
    if (message === "Signature invalid") return typedError(ErrorCode.ForgedSender, text, error);
    if (error instanceof CryptoVerificationError) return typedError(fallback, text, error);
    if (error instanceof CodecError && fallback !== ErrorCode.DecryptionFailed && fallback !== ErrorCode.InvalidWelcome) {
      return typedError(ErrorCode.Decode, text, error);
    }
    return typedError(fallback, text, error);
  }
  // WebCrypto / noble AEAD failures ("OperationError", "invalid tag") and malformed inputs.
  return typedError(fallback, text, error);
}

/**
 * Runs `fn` and maps whatever it throws with {@link mapMlsError}.
 *
 * @example
 * ```ts
 * const state = await guard(ErrorCode.MlsFailure, "commit", () => createCommit(ctx, opts))
 * ```
 */
export async function guard<T>(fallback: ErrorCode, what: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw mapMlsError(e, fallback, what);
  }
}

/**
 * Synchronous form of {@link guard}.
 *
 * @example
 * ```ts
 * const msg = guardSync(ErrorCode.Decode, "decode", () => decodeMlsMessage(bytes, 0))
 * ```
 */
export function guardSync<T>(fallback: ErrorCode, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw mapMlsError(e, fallback, what);
  }
}
