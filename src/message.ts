/**
 * `SecretGroupMessage`: u8 type, then the payload as the rest of the bytes (DESIGN.md section 2).
 * Type 1 carries an MLSMessage holding a PrivateMessage (the sender-ratchet scheme, and the
 * long-term-secret list of a commit); type 2 a `LongTermSecretCiphertext`.
 *
 * The MLS payload stays raw bytes, but its framing (RFC 9420 sections 6 and 6.3.1) is checked
 * field by field, so a truncated, extended or otherwise malformed message is a decoding error
 * here rather than a confusing failure deep inside MLS.
 *
 * @module
 */
import { MlsWireFormat, SecretGroupMessageType } from "./constants.js";
import { readMlsFraming } from "./codec/mlsFraming.js";
import { Writer, decodeAll } from "./codec/tls.js";
import type { Reader } from "./codec/tls.js";
import { DecodeError, ErrorCode, UsageError, isSecretGroupError } from "./errors.js";
import { readLongTermSecretCiphertext, writeLongTermSecretCiphertext } from "./lts/ciphertext.js";
import type { LongTermSecretCiphertext } from "./lts/ciphertext.js";

/**
 * A field value encrypted with one of the two schemes.
 *
 * @example
 * ```ts
 * const msg: SecretGroupMessage = { type: "long-term", ciphertext: sealLongTerm(secret, nonce, plaintext) }
 * ```
 */
export type SecretGroupMessage =
  | { readonly type: "mls"; readonly mlsMessage: Uint8Array }
  | { readonly type: "long-term"; readonly ciphertext: LongTermSecretCiphertext };

/**
 * Header of an MLSMessage that holds a PrivateMessage (what type-1 messages carry).
 *
 * @example
 * ```ts
 * const { groupId, epoch } = peekMlsPrivateMessage(msg.mlsMessage)
 * ```
 */
export interface MlsPrivateMessageHeader {
  readonly groupId: Uint8Array;
  /** MLS epoch the message was sent in. */
  readonly epoch: bigint;
  /** RFC 9420 ContentType: 1 application, 2 proposal, 3 commit. */
  readonly contentType: number;
  /** The clear `authenticated_data` (the caller's aad of an application message). */
  readonly authenticatedData: Uint8Array;
}

function readPrivateMessage(r: Reader): MlsPrivateMessageHeader {
  const { groupId, epoch } = readMlsFraming(r, MlsWireFormat.PrivateMessage, "MLSMessage");
  const contentType = r.u8();
  if (contentType < 1 || contentType > 3) throw new DecodeError(`MLSMessage: invalid content type ${contentType}`);
  const authenticatedData = r.opaque();
  r.opaque(); // encrypted_sender_data
  r.opaque(); // ciphertext
  return { groupId, epoch, contentType, authenticatedData };
}

/**
 * Reads the header of an MLSMessage holding a PrivateMessage, checking that the framing spans
 * exactly `mlsMessage`. Throws only {@link DecodeError}. No keys needed.
 *
 * @example
 * ```ts
 * const { groupId, epoch } = peekMlsPrivateMessage(mlsMessageBytes)
 * ```
 */
export function peekMlsPrivateMessage(mlsMessage: Uint8Array): MlsPrivateMessageHeader {
  return decodeAll(mlsMessage, "MLSMessage", readPrivateMessage);
}

/**
 * Encodes a `SecretGroupMessage`. Usage error on a malformed value (an MLS payload that is not
 * an MLSMessage with a PrivateMessage, say), so what is encoded always decodes.
 *
 * @example
 * ```ts
 * const bytes = encodeSecretGroupMessage({ type: "mls", mlsMessage })
 * ```
 */
export function encodeSecretGroupMessage(message: SecretGroupMessage): Uint8Array {
  if (typeof message !== "object" || message === null) {
    throw new UsageError(ErrorCode.InvalidArgument, "not a SecretGroupMessage");
  }
  switch (message.type) {
    case "mls": {
      try {
        peekMlsPrivateMessage(message.mlsMessage);
      } catch (e) {
        if (!isSecretGroupError(e)) throw e;
        throw new UsageError(ErrorCode.InvalidArgument, `not an MLS PrivateMessage: ${e.message}`, { cause: e });
      }
      return new Writer(message.mlsMessage.length + 1).u8(SecretGroupMessageType.MlsCiphertext).raw(message.mlsMessage).finish();
    }
    case "long-term": {
      const w = new Writer(64 + (message.ciphertext?.ciphertext?.length ?? 0)).u8(SecretGroupMessageType.LongTermSecretCiphertext);
      writeLongTermSecretCiphertext(w, message.ciphertext);
      return w.finish();
    }
    default:
      throw new UsageError(ErrorCode.InvalidArgument, `unknown SecretGroupMessage type: ${String((message as { type: unknown }).type)}`);
  }
}

/**
 * Decodes a `SecretGroupMessage`; throws only {@link DecodeError} (unknown type, malformed
 * payload, truncated or trailing bytes). Byte arrays are copies, or views into `bytes` with
 * `copy: false` (bulk readers that open the message at once).
 *
 * @example
 * ```ts
 * const msg = decodeSecretGroupMessage(bytes)
 * if (msg.type === "long-term") openLongTerm(state.secrets, state.groupId, msg.ciphertext)
 * ```
 */
export function decodeSecretGroupMessage(bytes: Uint8Array, options: { readonly copy?: boolean } = {}): SecretGroupMessage {
  const copy = options.copy !== false;
  return decodeAll(bytes, "SecretGroupMessage", (r): SecretGroupMessage => {
    const type = r.u8();
    switch (type) {
      case SecretGroupMessageType.MlsCiphertext: {
        const view = r.raw(r.remaining);
        const mlsMessage = copy ? view.slice() : view;
        peekMlsPrivateMessage(mlsMessage);
        return { type: "mls", mlsMessage };
      }
      case SecretGroupMessageType.LongTermSecretCiphertext:
        return { type: "long-term", ciphertext: readLongTermSecretCiphertext(r, { copy }) };
      default:
        throw new DecodeError(`SecretGroupMessage: unknown type ${type}`);
    }
  });
}
