/**
 * Encryption and decryption of field values with long-term secrets. The AEAD associated data
 * is `group_id || aad`, so a ciphertext cannot be moved to another group or, when the caller
 * passes its context as `aad`, to another document or field.
 *
 * @module
 */
import { concatBytes, equalBytes } from "../bytes.js";
import { ErrorCode, UsageError } from "../errors.js";
import { nodeAead } from "./aead.js";
import type { AeadBackend } from "./aead.js";
import type { LongTermSecretCiphertext } from "./ciphertext.js";
import { asLongTermEpoch, checkGroupId, otherGroupCiphertext, secretForEpoch } from "./secret.js";
import type { LongTermSecret } from "./secret.js";

const EMPTY = new Uint8Array(0);

function checkAad(aad: unknown): asserts aad is Uint8Array {
  if (!(aad instanceof Uint8Array)) throw new UsageError(ErrorCode.InvalidArgument, "aad must be a Uint8Array");
}

/**
 * Encrypts `plaintext` under `secret` with a nonce from {@link deriveLongTermNonce}.
 *
 * @example
 * ```ts
 * const ct = sealLongTerm(latestLongTermSecret(state.secrets)!, nonce, utf8("hello"))
 * const bytes = encodeSecretGroupMessage({ type: "long-term", ciphertext: ct })
 * ```
 */
export function sealLongTerm(
  secret: LongTermSecret,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array = EMPTY,
  backend: AeadBackend = nodeAead,
): LongTermSecretCiphertext {
  checkGroupId(secret.groupId);
  checkAad(aad);
  const epoch = asLongTermEpoch(secret.epoch);
  const ciphertext = backend.seal(secret.ciphersuite, secret.value, nonce, plaintext, concatBytes(secret.groupId, aad));
  return { groupId: Uint8Array.from(secret.groupId), epoch, nonce: Uint8Array.from(nonce), ciphertext };
}

/**
 * Decrypts a long-term ciphertext of group `groupId` with the secret of its epoch, found by
 * binary search in `secrets` (which must be sorted by epoch, as every list this package
 * produces is). Errors: `WRONG_GROUP` when the ciphertext (or the secret of its epoch) belongs
 * to another group, `UNKNOWN_EPOCH` when no secret of that epoch is held, `DECRYPTION_FAILED`
 * when the tag does not verify.
 *
 * @example
 * ```ts
 * const plaintext = openLongTerm(state.secrets, state.groupId, decodeLongTermSecretCiphertext(bytes))
 * ```
 */
export function openLongTerm(
  secrets: readonly LongTermSecret[],
  groupId: Uint8Array,
  ct: LongTermSecretCiphertext,
  aad: Uint8Array = EMPTY,
  backend: AeadBackend = nodeAead,
): Uint8Array {
  checkGroupId(groupId);
  checkAad(aad);
  if (!(ct.groupId instanceof Uint8Array) || !equalBytes(ct.groupId, groupId)) throw otherGroupCiphertext();
  const secret = secretForEpoch(secrets, groupId, ct.epoch);
  if (secret instanceof Error) throw secret;
  return backend.open(secret.ciphersuite, secret.value, ct.nonce, ct.ciphertext, concatBytes(groupId, aad));
}
