/**
 * secret-group: p2panda Secret Groups on MLS (RFC 9420).
 *
 * The public API, re-exported explicitly. Pure protocol functions over immutable states, the
 * wire codecs, signed documents, and the engine that a node embeds.
 *
 * @example
 * ```ts
 * import { generateIdentity, createGroup } from "secret-group"
 * const owner = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(32), ciphersuite: "PANDA10_AES256GCM" })
 * ```
 *
 * @packageDocumentation
 */

// errors
export {
  ErrorCode,
  ErrorSource,
  SecretGroupError,
  UsageError,
  ValidationError,
  DecodeError,
  CryptoError,
  StorageError,
  InternalError,
  isSecretGroupError,
  toErrorData,
  errorFromData,
} from "./errors.js";
export type { ErrorData } from "./errors.js";

// constants
export {
  LTS_KEY_LABEL,
  LTS_NONCE_LABEL,
  LTS_NONCE_SIZE,
  LTS_TAG_SIZE,
  LTS_KEY_SIZE,
  LongTermCiphersuite,
  Scheme,
  SecretGroupMessageType,
  DEFAULT_MLS_CIPHERSUITE,
  RETAIN_EPOCHS,
  RETAIN_GENERATIONS,
  KEY_PACKAGE_CLOCK_SKEW_SECONDS,
  MAX_KEY_PACKAGE_LIFETIME_RANGE_SECONDS,
  DEFAULT_ENGINE_LIMITS,
  MAX_DOCUMENT_SIZE,
  MAX_FIELDS,
  MAX_KEY_PACKAGE_SIZE,
  MAX_PLAINTEXT_SIZE,
  MAX_MEMBERS_PER_COMMIT,
  MAX_FORWARD_RATCHET_STEPS,
  STORAGE_KEY_SIZE,
  STORAGE_KEY_LABEL,
  WATCH_QUEUE_SIZE,
  DEFAULT_OPERATIONS_PAGE,
  MAX_OPERATIONS_PAGE,
} from "./constants.js";
export type { LongTermCiphersuiteName, LongTermCiphersuiteId, SchemeName, EngineLimits } from "./constants.js";

// identity and key packages
export { generateIdentity, identityFromSecretKey } from "./identity.js";
export type { Identity } from "./identity.js";
export { createKeyPackage, keyPackageInfo, DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS } from "./keyPackage.js";
export type { CreateKeyPackageOptions, CreatedKeyPackage, KeyPackageInfo } from "./keyPackage.js";

// the group lifecycle (DESIGN.md section 4)
export {
  createGroup,
  addMembers,
  removeMembers,
  updateGroup,
  rotateLongTermSecret,
  joinGroup,
  processCommit,
  encrypt,
  decrypt,
  encodeGroupState,
  decodeGroupState,
  groupMembers,
  describeGroup,
  peekMessage,
  inspectCommit,
  asMlsEpoch,
} from "./group/index.js";
export type {
  CreateGroupOptions,
  AddMembersOptions,
  CommitResult,
  RemoveMembersOptions,
  UpdateGroupOptions,
  JoinGroupOptions,
  EncryptOptions,
  EncryptResult,
  DecryptOptions,
  DecryptResult,
  DecodeGroupStateOptions,
  CommitInspection,
  GroupDescription,
  MessagePeek,
  GroupState,
  GroupStatus,
  MlsEpoch,
} from "./group/index.js";

// long-term secrets and wire types (DESIGN.md section 2)
export { ciphersuiteId, ciphersuiteFromId, isLongTermCiphersuiteName } from "./lts/ciphersuite.js";
export {
  asLongTermEpoch,
  encodeLongTermSecret,
  decodeLongTermSecret,
  encodeLongTermSecrets,
  decodeLongTermSecrets,
  mergeLongTermSecrets,
} from "./lts/secret.js";
export type { LongTermEpoch, LongTermSecret } from "./lts/secret.js";
export { encodeLongTermSecretCiphertext, decodeLongTermSecretCiphertext } from "./lts/ciphertext.js";
export type { LongTermSecretCiphertext } from "./lts/ciphertext.js";
export { nodeAead, nobleAead } from "./lts/aead.js";
export type { AeadBackend } from "./lts/aead.js";
export { longTermKeyLabel, longTermNonceLabel, deriveLongTermSecret, deriveLongTermNonce } from "./lts/derive.js";
export type { Exporter } from "./lts/derive.js";
export { sealLongTerm, openLongTerm } from "./lts/encrypt.js";
export { encodeSecretGroupMessage, decodeSecretGroupMessage } from "./message.js";
export type { SecretGroupMessage } from "./message.js";
export { encodeSecretGroupCommit, decodeSecretGroupCommit } from "./commit.js";
export type { SecretGroupCommit } from "./commit.js";

// signed p2panda documents
export {
  SchemaId,
  signDocument,
  decodeDocument,
  documentIdOf,
  secretGroupDocument,
  readSecretGroup,
  keyPackageDocument,
  readKeyPackage,
  keyPackageDeletionDocument,
  readKeyPackageDeletion,
  secretGroupCommitDocument,
  readSecretGroupCommit,
} from "./documents/index.js";
export type { SignedDocument, SignOptions, BuildOptions, FieldValue, DocumentFields } from "./documents/index.js";
export { fieldAad, encryptedFields, FIELD_AAD_LABEL } from "./documents/fields.js";
export type { FieldContext, EncryptedField } from "./documents/fields.js";

// MLS provider choice (the node:crypto provider is the default)
export { DEFAULT_PROVIDER } from "./mls/suite.js";
export type { ProviderName } from "./mls/suite.js";
// which code checks and makes Ed25519 signatures and computes X25519 (libsodium through sodium-native where it loads)
export { Ed25519Backend, ed25519Backend } from "./ed25519Verify.js";
// which code runs the long-term AEAD (the package's addon on Node's OpenSSL where it was built)
export { aeadBackend } from "./nativeAead.js";

// the engine a node embeds (DESIGN.md section 5)
export { SecretGroupEngine } from "./engine/engine.js";
export type { Created } from "./engine/engine.js";
export type { EngineOptions } from "./engine/open.js";
export type { BulkDecrypt } from "./engine/poolDecrypt.js";
export type { EngineStats } from "./engine/context.js";
export { IngestRefusedError } from "./engine/ingest.js";
export type { IngestReport, IngestOutcomeName } from "./engine/ingest.js";
export type { EncryptFieldsOptions, DecryptedFields } from "./engine/fields.js";
export type { DecryptInput } from "./engine/decrypt.js";
export type { GroupInfo } from "./engine/info.js";
export type { OperationView, OperationsPage } from "./engine/operationReads.js";
export type { EngineEvent, WatchOptions } from "./engine/watch.js";
export type { HistoryEntry, GroupMembership } from "./materialise/index.js";
