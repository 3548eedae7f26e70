/**
 * Decrypting field values (spec "Decryption").
 *
 * @module
 */
import { ErrorCode, UsageError } from "../errors.js";
import { decodeSecretGroupMessage } from "../message.js";
import { openLongTerm } from "../lts/encrypt.js";
import { mlsOpen } from "../mls/application.js";
import { assertGroupState } from "./state.js";
import type { GroupState } from "./state.js";

const EMPTY = new Uint8Array(0);

/** Options of {@link decrypt}. @example `decrypt(state, bytes, { aad: fieldContext })` */
export interface DecryptOptions {
  /** The context the writer bound the ciphertext to (must be identical). */
  readonly aad?: Uint8Array;
}

/** The new state (sender-ratchet decryption consumes a key) and the plaintext. @example `const { state: next, plaintext }: DecryptResult = await decrypt(state, bytes)` */
export interface DecryptResult {
  readonly state: GroupState;
  readonly plaintext: Uint8Array;
}

/**
 * Decrypts an encoded SecretGroupMessage. Long-term messages decrypt with any secret this
 * state holds (also after removal) and leave the state unchanged; sender-ratchet messages
 * decrypt in the current or a retained past epoch and consume their key.
 *
 * Errors: `DECODE_ERROR`, `WRONG_GROUP`, `UNKNOWN_EPOCH`, `REPLAY` (sender-ratchet message
 * already read), `DECRYPTION_FAILED` (tampered, wrong aad), `FORGED_SENDER`.
 *
 * @example
 * ```ts
 * const { state: next, plaintext } = await decrypt(state, message)
 * ```
 */
export async function decrypt(state: GroupState, message: Uint8Array, options: DecryptOptions = {}): Promise<DecryptResult> {
  assertGroupState(state);
  const aad = options.aad ?? EMPTY;
  if (!(aad instanceof Uint8Array)) throw new UsageError(ErrorCode.InvalidArgument, "aad must be a Uint8Array");
  // views, not copies: a long-term ciphertext is opened at once into a fresh plaintext
  const decoded = decodeSecretGroupMessage(message, { copy: false });
  if (decoded.type === "long-term") {
    return { state, plaintext: openLongTerm(state.secrets, state.groupId, decoded.ciphertext, aad) };
  }
  // the MLS path gets its own copy: nothing of the caller's buffer may end up in the new state
  const opened = await mlsOpen(state.mls, state.provider, decoded.mlsMessage.slice(), aad);
  return { state: { ...state, mls: opened.state }, plaintext: opened.plaintext };
}
