/**
 * MLS application messages (the sender-ratchet scheme): PrivateMessages encrypted with the
 * sender's ratchet in the secret tree of an epoch.
 *
 * @module
 */
import { createApplicationMessage } from "ts-mls";
import type { PrivateMessage } from "ts-mls";
import { unprotectPrivateMessage } from "ts-mls/messageProtection.js";
import { equalBytes } from "../bytes.js";
import { CryptoError, DecodeError, ErrorCode, InternalError, ValidationError } from "../errors.js";
import { decodePrivateMessageBytes, encodeMlsMessageBytes } from "./codec.js";
import { guard } from "./errors.js";
import type { MlsState } from "./group.js";
import { getSuite } from "./suite.js";
import type { ProviderName } from "./suite.js";

/**
 * Encrypts `plaintext` as an application PrivateMessage of the current epoch. `aad` becomes
 * the message's MLS authenticated_data (sent in the clear, covered by AEAD and signature).
 *
 * @example
 * ```ts
 * const { state, message } = await mlsSeal(mls, "default", bytes, aad)
 * ```
 */
export async function mlsSeal(
  state: MlsState,
  provider: ProviderName,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Promise<{ state: MlsState; message: Uint8Array }> {
  const cs = await getSuite(state.groupContext.cipherSuite, provider);
  const result = await guard(ErrorCode.MlsFailure, "encrypting application message", () =>
    createApplicationMessage(state, plaintext, cs, aad),
  );
  const message = encodeMlsMessageBytes({ version: "mls10", wireformat: "mls_private_message", privateMessage: result.privateMessage });
  return { state: result.newState, message };
}

/** A decrypted application message and who sent it. @example `const { plaintext, senderLeafIndex } = await mlsOpen(mls, "node", bytes, aad)` */
export interface MlsOpenResult {
  readonly state: MlsState;
  readonly plaintext: Uint8Array;
  readonly senderLeafIndex: number;
  readonly epoch: bigint;
}

function checkHeader(state: MlsState, pm: PrivateMessage, aad: Uint8Array): void {
  if (!equalBytes(pm.groupId, state.groupContext.groupId)) {
    throw new ValidationError(ErrorCode.WrongGroup, "message belongs to another group");
  }
  if (pm.contentType !== "application") {
    throw new DecodeError(`MLS ciphertext: expected an application message, got ${pm.contentType}`);
  }
  if (pm.epoch > state.groupContext.epoch) {
    throw new ValidationError(ErrorCode.UnknownEpoch, `message is from epoch ${pm.epoch}, the group is at ${state.groupContext.epoch}`);
  }
  if (pm.authenticatedData.length !== aad.length || !equalBytes(pm.authenticatedData, aad)) {
    throw new CryptoError(ErrorCode.DecryptionFailed, "associated data does not match");
  }
}

/**
 * Decrypts an application PrivateMessage of the current or a retained past epoch. Errors:
 * `WRONG_GROUP`, `UNKNOWN_EPOCH` (future or no longer retained epoch), `REPLAY` (generation
 * already used: MLS deletes a key once used), `DECRYPTION_FAILED` (tampered), `FORGED_SENDER`
 * (signature does not verify), `DECODE_ERROR`.
 *
 * @example
 * ```ts
 * const { plaintext, state } = await mlsOpen(mls, "default", bytes, aad)
 * ```
 */
export async function mlsOpen(state: MlsState, provider: ProviderName, bytes: Uint8Array, aad: Uint8Array): Promise<MlsOpenResult> {
  const pm = decodePrivateMessageBytes(bytes, "MLS ciphertext");
  checkHeader(state, pm, aad);
  const cs = await getSuite(state.groupContext.cipherSuite, provider);
  const current = pm.epoch === state.groupContext.epoch;
  const data = current
    ? {
        senderDataSecret: state.keySchedule.senderDataSecret,
        secretTree: state.secretTree,
        ratchetTree: state.ratchetTree,
        groupContext: state.groupContext,
      }
    : state.historicalReceiverData.get(pm.epoch);
  if (data === undefined) {
    throw new ValidationError(ErrorCode.UnknownEpoch, `keys of epoch ${pm.epoch} are no longer kept`);
  }
  const result = await guard(ErrorCode.DecryptionFailed, "decrypting application message", () =>
    unprotectPrivateMessage(
      data.senderDataSecret,
      pm,
      data.secretTree,
      data.ratchetTree,
      data.groupContext,
      state.clientConfig.keyRetentionConfig,
      cs,
    ),
  );
  const content = result.content.content;
  if (content.contentType !== "application" || content.sender.senderType !== "member") {
    throw new CryptoError(ErrorCode.DecryptionFailed, "not an application message from a member");
  }
  let next: MlsState;
  if (current) {
    next = { ...state, secretTree: result.tree };
  } else {
    const old = state.historicalReceiverData.get(pm.epoch);
    if (old === undefined) throw new InternalError(ErrorCode.Internal, "epoch data vanished");
    const map = new Map(state.historicalReceiverData);
    map.set(pm.epoch, { ...old, secretTree: result.tree });
    next = { ...state, historicalReceiverData: map };
  }
  return { state: next, plaintext: content.applicationData, senderLeafIndex: content.sender.leafIndex, epoch: pm.epoch };
}
