/**
 * Strict decoding of MLS wire messages: the whole input must be one MLSMessage, anything else
 * is a {@link DecodeError}. Also the versioned codec of a ts-mls group state.
 *
 * @module
 */
import { decodeMlsMessage, encodeMlsMessage, decodeGroupState as decodeTsGroupState, encodeGroupState as encodeTsGroupState } from "ts-mls";
import type { ClientState, KeyPackage, MLSMessage, PrivateMessage, PublicMessage, Welcome } from "ts-mls";
import { DecodeError, ErrorCode } from "../errors.js";
import { withClientConfig } from "./config.js";
import { guardSync } from "./errors.js";

export type { MLSMessage };

/**
 * Decodes exactly one MLSMessage from `bytes`.
 *
 * @example
 * ```ts
 * const msg = decodeMlsMessageBytes(commitBytes, "MLS commit")
 * ```
 */
export function decodeMlsMessageBytes(bytes: Uint8Array, what: string): MLSMessage {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError(`${what}: expected bytes`);
  const decoded = guardSync(ErrorCode.Decode, what, () => decodeMlsMessage(bytes, 0));
  if (decoded === undefined) throw new DecodeError(`${what}: not a valid MLS message`);
  const [msg, length] = decoded;
  if (length !== bytes.length) throw new DecodeError(`${what}: ${bytes.length - length} trailing bytes`);
  return msg;
}

/**
 * Encodes an MLSMessage.
 *
 * @example
 * ```ts
 * const bytes = encodeMlsMessageBytes({ version: "mls10", wireformat: "mls_welcome", welcome })
 * ```
 */
export function encodeMlsMessageBytes(msg: MLSMessage): Uint8Array {
  return guardSync(ErrorCode.Internal, "encoding MLS message", () => encodeMlsMessage(msg));
}

/**
 * Decodes an MLSMessage that must carry a PublicMessage.
 *
 * @example
 * ```ts
 * const pm = decodePublicMessage(commitBytes, "MLS commit")
 * ```
 */
export function decodePublicMessageBytes(bytes: Uint8Array, what: string): PublicMessage {
  const msg = decodeMlsMessageBytes(bytes, what);
  if (msg.wireformat !== "mls_public_message") throw new DecodeError(`${what}: expected a PublicMessage, got ${msg.wireformat}`);
  return msg.publicMessage;
}

/**
 * Decodes an MLSMessage that must carry a PrivateMessage.
 *
 * @example
 * ```ts
 * const pm = decodePrivateMessageBytes(bytes, "MLS ciphertext")
 * ```
 */
export function decodePrivateMessageBytes(bytes: Uint8Array, what: string): PrivateMessage {
  const msg = decodeMlsMessageBytes(bytes, what);
  if (msg.wireformat !== "mls_private_message") throw new DecodeError(`${what}: expected a PrivateMessage, got ${msg.wireformat}`);
  return msg.privateMessage;
}

/**
 * Decodes an MLSMessage that must carry a Welcome.
 *
 * @example
 * ```ts
 * const welcome = decodeWelcomeBytes(bytes)
 * ```
 */
export function decodeWelcomeBytes(bytes: Uint8Array, what = "MLS welcome"): Welcome {
  const msg = decodeMlsMessageBytes(bytes, what);
  if (msg.wireformat !== "mls_welcome") throw new DecodeError(`${what}: expected a Welcome, got ${msg.wireformat}`);
  return msg.welcome;
}

/**
 * Decodes an MLSMessage that must carry a KeyPackage.
 *
 * @example
 * ```ts
 * const kp = decodeKeyPackageBytes(bytes)
 * ```
 */
export function decodeKeyPackageBytes(bytes: Uint8Array, what = "MLS key package"): KeyPackage {
  const msg = decodeMlsMessageBytes(bytes, what);
  if (msg.wireformat !== "mls_key_package") throw new DecodeError(`${what}: expected a KeyPackage, got ${msg.wireformat}`);
  return msg.keyPackage;
}

/**
 * Encodes a ts-mls group state (without its client configuration, which is code, not data).
 *
 * @example
 * ```ts
 * const bytes = encodeMlsState(state)
 * ```
 */
export function encodeMlsState(state: ClientState): Uint8Array {
  return guardSync(ErrorCode.Internal, "encoding MLS state", () => encodeTsGroupState(state));
}

/**
 * Decodes a ts-mls group state and re-attaches our client configuration.
 *
 * @example
 * ```ts
 * const state = decodeMlsState(bytes)
 * ```
 */
export function decodeMlsState(bytes: Uint8Array): ClientState {
  const decoded = guardSync(ErrorCode.Decode, "MLS state", () => decodeTsGroupState(bytes, 0));
  if (decoded === undefined) throw new DecodeError("MLS state: not a valid group state");
  const [state, length] = decoded;
  if (length !== bytes.length) throw new DecodeError(`MLS state: ${bytes.length - length} trailing bytes`);
  return withClientConfig(state);
}
