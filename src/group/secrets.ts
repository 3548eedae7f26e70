/**
 * The encrypted long-term-secret list of a commit: `LongTermSecret secrets<V>` sent by the
 * owner as an MLS application message (SecretGroupMessage type 1) in the commit's new epoch.
 *
 * @module
 */
import { equalBytes } from "../bytes.js";
import { LTS_KEY_SIZE } from "../constants.js";
import type { LongTermCiphersuiteName } from "../constants.js";
import { ErrorCode, ValidationError } from "../errors.js";
import { decodeSecretGroupMessage, encodeSecretGroupMessage } from "../message.js";
import { decodeLongTermSecrets, encodeLongTermSecrets } from "../lts/secret.js";
import type { LongTermSecret } from "../lts/secret.js";
import { mlsOpen, mlsSeal } from "../mls/application.js";
import type { MlsState } from "../mls/group.js";
import type { ProviderName } from "../mls/suite.js";

const NO_AAD = new Uint8Array(0);

/**
 * Encrypts the full secret list in the current epoch of `mls` (the owner's merged state).
 *
 * @example
 * ```ts
 * const { mls, encryptedSecrets } = await sealSecretList(merged, "default", secrets)
 * ```
 */
export async function sealSecretList(
  mls: MlsState,
  provider: ProviderName,
  secrets: readonly LongTermSecret[],
): Promise<{ mls: MlsState; encryptedSecrets: Uint8Array }> {
  const sealed = await mlsSeal(mls, provider, encodeLongTermSecrets(secrets), NO_AAD);
  return { mls: sealed.state, encryptedSecrets: encodeSecretGroupMessage({ type: "mls", mlsMessage: sealed.message }) };
}

/**
 * Decrypts a commit's secret list in the current epoch of `mls`, requiring that the owner's
 * leaf sent it (`FORGED_SENDER` otherwise) and that every secret belongs to this group and
 * long-term ciphersuite (`INVALID_COMMIT` otherwise). `ciphersuite` undefined accepts the
 * list's own ciphersuite if it is one for all secrets (a joiner learns it here).
 *
 * @example
 * ```ts
 * const { mls, secrets } = await openSecretList(next, "default", bytes, ownerLeaf, groupId, "PANDA10_AES256GCM")
 * ```
 */
export async function openSecretList(
  mls: MlsState,
  provider: ProviderName,
  encryptedSecrets: Uint8Array,
  ownerLeafIndex: number,
  groupId: Uint8Array,
  ciphersuite: LongTermCiphersuiteName | undefined,
): Promise<{ mls: MlsState; secrets: LongTermSecret[] }> {
  const message = decodeSecretGroupMessage(encryptedSecrets);
  if (message.type !== "mls") throw new ValidationError(ErrorCode.InvalidCommit, "secret list is not an MLS message");
  const opened = await mlsOpen(mls, provider, message.mlsMessage, NO_AAD);
  if (opened.epoch !== mls.groupContext.epoch) {
    throw new ValidationError(ErrorCode.InvalidCommit, "secret list was not sent in the commit's new epoch");
  }
  if (opened.senderLeafIndex !== ownerLeafIndex) {
    throw new ValidationError(ErrorCode.ForgedSender, "long-term secret list was not sent by the group owner");
  }
  const secrets = decodeLongTermSecrets(opened.plaintext);
  if (secrets.length === 0) throw new ValidationError(ErrorCode.InvalidCommit, "secret list is empty");
  const suite = ciphersuite ?? (secrets[0] as LongTermSecret).ciphersuite;
  for (const s of secrets) {
    if (!equalBytes(s.groupId, groupId)) throw new ValidationError(ErrorCode.InvalidCommit, "secret list holds a secret of another group");
    if (s.ciphersuite !== suite) throw new ValidationError(ErrorCode.InvalidCommit, "secret list holds a secret of another ciphersuite");
    if (s.value.length !== LTS_KEY_SIZE[suite]) throw new ValidationError(ErrorCode.InvalidCommit, "secret has the wrong key size");
  }
  return { mls: opened.state, secrets };
}
