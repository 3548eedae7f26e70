/**
 * Signed p2panda documents: envelope, system schemas and the rules between them.
 *
 * @example
 * ```ts
 * import { decodeDocument, readSecretGroup } from "./documents/index.js"
 * ```
 *
 * @module
 */
export { encodeCanonical, decodeCanonical } from "./cbor.js";
export { isAcceptablePublicKey, publicKeyOfSeed, signEd25519, verifyEd25519 } from "./ed25519.js";
export type { DocumentIdentity } from "./ed25519.js";
export {
  SchemaId,
  SCHEMA_NAME_PATTERN,
  FIELD_NAME_PATTERN,
  MAX_DOCUMENT_SIZE,
  MAX_FIELDS,
  MAX_KEY_PACKAGE_SIZE,
  isSystemSchema,
  fieldValueProblem,
  fieldsProblem,
} from "./schema.js";
export type { SystemSchemaId, FieldValue, DocumentFields } from "./schema.js";
export { DOCUMENT_VERSION, DOCUMENT_SIGNATURE_CONTEXT, signDocument, decodeDocument, documentIdOf } from "./document.js";
export type { SignedDocument, SignOptions } from "./document.js";
export {
  secretGroupDocument,
  readSecretGroup,
  keyPackageDocument,
  readKeyPackage,
  keyPackageDeletionDocument,
  readKeyPackageDeletion,
  secretGroupCommitDocument,
  readSecretGroupCommit,
} from "./system.js";
export type { BuildOptions, SecretGroupCommitFields } from "./system.js";
export {
  checkCommitAuthor,
  checkCommitDocument,
  checkCommitSender,
  checkCommitChain,
  checkKeyPackageDocument,
  checkKeyPackageAuthor,
} from "./rules.js";
