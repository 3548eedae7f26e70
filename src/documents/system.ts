/**
 * Builders and typed readers for the spec's system schemas. Readers take a verified
 * {@link SignedDocument} and throw `ValidationError(INVALID_DOCUMENT)` when it is of another schema.
 *
 * @module
 */
import type { SecretGroupCommit } from "../commit.js";
import type { LongTermCiphersuiteName } from "../constants.js";
import { ErrorCode, ValidationError } from "../errors.js";
import { signDocument } from "./document.js";
import type { SignOptions, SignedDocument } from "./document.js";
import type { DocumentIdentity } from "./ed25519.js";
import { SchemaId } from "./schema.js";
import type { FieldValue, SystemSchemaId } from "./schema.js";

/** Options every builder accepts (the timestamp, for reproducible documents). @example `secretGroupDocument(identity, { ciphersuite }, { timestamp: 0 })` */
export type BuildOptions = Pick<SignOptions, "timestamp">;

function expectSchema(doc: Pick<SignedDocument, "schema" | "fields">, schema: SystemSchemaId): SignedDocument["fields"] {
  if (doc.schema !== schema) {
    throw new ValidationError(ErrorCode.InvalidDocument, `expected a ${schema} document, got ${doc.schema}`);
  }
  return doc.fields;
}

// Fields were checked by decodeDocument/signDocument against the schema rules, so these casts hold.
function bytesField(fields: SignedDocument["fields"], name: string): Uint8Array {
  return fields[name] as Uint8Array;
}
function optionalBytesField(fields: SignedDocument["fields"], name: string): Uint8Array | undefined {
  return Object.prototype.hasOwnProperty.call(fields, name) ? (fields[name] as Uint8Array) : undefined;
}

/**
 * A `secret_group_v1` document announcing a new group; its id becomes the MLS group id.
 *
 * @example
 * ```ts
 * const group = secretGroupDocument(identity, { ciphersuite: "PANDA10_AES256GCM" })
 * ```
 */
export function secretGroupDocument(identity: DocumentIdentity, input: { readonly ciphersuite: LongTermCiphersuiteName }, options: BuildOptions = {}): SignedDocument {
  return signDocument(identity, SchemaId.SecretGroup, { lts_ciphersuite: input.ciphersuite }, options);
}

/**
 * Reads a `secret_group_v1` document.
 *
 * @example
 * ```ts
 * readSecretGroup(group).ciphersuite // "PANDA10_AES256GCM"
 * ```
 */
export function readSecretGroup(doc: SignedDocument): { readonly ciphersuite: LongTermCiphersuiteName } {
  const fields = expectSchema(doc, SchemaId.SecretGroup);
  return { ciphersuite: fields["lts_ciphersuite"] as LongTermCiphersuiteName };
}

/**
 * A `key_package_v1` document publishing an MLS key package (MLSMessage-encoded), optionally
 * pointing at the author's previous key package document.
 *
 * @example
 * ```ts
 * const doc = keyPackageDocument(identity, { keyPackage: (await createKeyPackage(identity)).keyPackage })
 * ```
 */
export function keyPackageDocument(identity: DocumentIdentity, input: { readonly keyPackage: Uint8Array; readonly previousKeyPackage?: Uint8Array }, options: BuildOptions = {}): SignedDocument {
  const fields: Record<string, FieldValue> = { mls_key_package: input.keyPackage };
  if (input.previousKeyPackage !== undefined) fields["previous_key_package"] = input.previousKeyPackage;
  return signDocument(identity, SchemaId.KeyPackage, fields, options);
}

/**
 * Reads a `key_package_v1` document.
 *
 * @example
 * ```ts
 * const { keyPackage, previousKeyPackage } = readKeyPackage(doc)
 * ```
 */
export function readKeyPackage(doc: Pick<SignedDocument, "schema" | "fields">): { readonly keyPackage: Uint8Array; readonly previousKeyPackage?: Uint8Array } {
  const fields = expectSchema(doc, SchemaId.KeyPackage);
  const keyPackage = bytesField(fields, "mls_key_package");
  const previousKeyPackage = optionalBytesField(fields, "previous_key_package");
  return previousKeyPackage === undefined ? { keyPackage } : { keyPackage, previousKeyPackage };
}

/**
 * A `key_package_deletion_v1` document: the author withdraws one of its key package documents
 * (published after joining with it, spec "Potential issues").
 *
 * @example
 * ```ts
 * const deletion = keyPackageDeletionDocument(identity, { keyPackage: keyPackageDoc.id })
 * ```
 */
export function keyPackageDeletionDocument(identity: DocumentIdentity, input: { readonly keyPackage: Uint8Array }, options: BuildOptions = {}): SignedDocument {
  return signDocument(identity, SchemaId.KeyPackageDeletion, { key_package: input.keyPackage }, options);
}

/**
 * Reads a `key_package_deletion_v1` document.
 *
 * @example
 * ```ts
 * readKeyPackageDeletion(deletion).keyPackage // id of the withdrawn key package document
 * ```
 */
export function readKeyPackageDeletion(doc: SignedDocument): { readonly keyPackage: Uint8Array } {
  const fields = expectSchema(doc, SchemaId.KeyPackageDeletion);
  return { keyPackage: bytesField(fields, "key_package") };
}

/**
 * A `secret_group_commit_v1` document carrying a {@link SecretGroupCommit}, chained to the
 * group's previous commit document (absent for the first commit).
 *
 * @example
 * ```ts
 * const doc = secretGroupCommitDocument(owner, { secretGroup: group.id, previousCommit, commit: decodeSecretGroupCommit(bytes) })
 * ```
 */
export function secretGroupCommitDocument(identity: DocumentIdentity, input: { readonly secretGroup: Uint8Array; readonly previousCommit?: Uint8Array; readonly commit: SecretGroupCommit }, options: BuildOptions = {}): SignedDocument {
  const fields: Record<string, FieldValue> = {
    secret_group: input.secretGroup,
    mls_commit_message: input.commit.mlsCommit,
    encrypted_long_term_secrets: input.commit.encryptedSecrets,
  };
  if (input.previousCommit !== undefined) fields["previous_commit"] = input.previousCommit;
  if (input.commit.mlsWelcome !== undefined) fields["mls_welcome_message"] = input.commit.mlsWelcome;
  return signDocument(identity, SchemaId.SecretGroupCommit, fields, options);
}

/** The fields of a `secret_group_commit_v1` document, as {@link readSecretGroupCommit} reads them. @example `readSecretGroupCommit(doc).commit` */
export interface SecretGroupCommitFields {
  readonly secretGroup: Uint8Array;
  readonly previousCommit?: Uint8Array;
  readonly commit: SecretGroupCommit;
}

/**
 * Reads a `secret_group_commit_v1` document.
 *
 * @example
 * ```ts
 * const { secretGroup, previousCommit, commit } = readSecretGroupCommit(doc)
 * ```
 */
export function readSecretGroupCommit(doc: SignedDocument): SecretGroupCommitFields {
  const fields = expectSchema(doc, SchemaId.SecretGroupCommit);
  const mlsWelcome = optionalBytesField(fields, "mls_welcome_message");
  const commit: SecretGroupCommit = mlsWelcome === undefined
    ? { mlsCommit: bytesField(fields, "mls_commit_message"), encryptedSecrets: bytesField(fields, "encrypted_long_term_secrets") }
    : { mlsCommit: bytesField(fields, "mls_commit_message"), mlsWelcome, encryptedSecrets: bytesField(fields, "encrypted_long_term_secrets") };
  const secretGroup = bytesField(fields, "secret_group");
  const previousCommit = optionalBytesField(fields, "previous_commit");
  return previousCommit === undefined ? { secretGroup, commit } : { secretGroup, previousCommit, commit };
}
