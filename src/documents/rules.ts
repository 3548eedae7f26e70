/**
 * Acceptance rules between documents (issue 5, "Rules"). Pure checks on verified documents and on
 * facts the MLS layer extracts (credential keys); each throws a `ValidationError` with
 * a specific code or returns nothing. The engine calls them before acting on a document.
 * The key package lifetime rule lives in src/lifetime.ts (one rule for the library and the engine).
 *
 * @module
 */
import { equalBytes } from "../bytes.js";
import { ErrorCode, ValidationError } from "../errors.js";
import type { SignedDocument } from "./document.js";
import { SchemaId } from "./schema.js";
import { readKeyPackage, readKeyPackageDeletion, readSecretGroupCommit } from "./system.js";

function requireSchema(doc: SignedDocument, schema: string, what: string): void {
  if (doc.schema !== schema) throw new ValidationError(ErrorCode.InvalidDocument, `${what} must be a ${schema} document`);
}

/**
 * A commit document belongs to `group` and is authored by the group's author (only the owner
 * commits). `WRONG_GROUP` when it names another group, `FORGED_SENDER` for another author.
 *
 * @example
 * ```ts
 * checkCommitDocument(groupDoc, commitDoc) // throws unless the owner wrote it for this group
 * ```
 */
export function checkCommitDocument(group: SignedDocument, commit: SignedDocument): void {
  requireSchema(group, SchemaId.SecretGroup, "group");
  requireSchema(commit, SchemaId.SecretGroupCommit, "commit");
  if (!equalBytes(readSecretGroupCommit(commit).secretGroup, group.id)) {
    throw new ValidationError(ErrorCode.WrongGroup, "commit document names another secret group");
  }
  if (!equalBytes(commit.author, group.author)) {
    throw new ValidationError(ErrorCode.ForgedSender, "commit document is not authored by the group owner");
  }
}

/**
 * The MLS sender of a commit (the credential key of its sender leaf) is the group's author.
 *
 * @example
 * ```ts
 * checkCommitSender(groupDoc, senderCredentialKey)
 * ```
 */
export function checkCommitSender(group: SignedDocument, senderPublicKey: Uint8Array): void {
  requireSchema(group, SchemaId.SecretGroup, "group");
  if (!equalBytes(senderPublicKey, group.author)) {
    throw new ValidationError(ErrorCode.ForgedSender, "MLS commit sender is not the group owner");
  }
}

/**
 * A commit follows `previous` in the group's chain: same group, and its `previous_commit` is
 * `previous`'s id. `INVALID_COMMIT` otherwise (also when the commit claims to be the first).
 *
 * @example
 * ```ts
 * checkCommitChain(second, first)
 * ```
 */
export function checkCommitChain(commit: SignedDocument, previous: SignedDocument): void {
  const current = readSecretGroupCommit(commit);
  const before = readSecretGroupCommit(previous);
  if (!equalBytes(current.secretGroup, before.secretGroup)) {
    throw new ValidationError(ErrorCode.InvalidCommit, "previous commit belongs to another group");
  }
  if (current.previousCommit === undefined || !equalBytes(current.previousCommit, previous.id)) {
    throw new ValidationError(ErrorCode.InvalidCommit, "commit does not point at this previous commit");
  }
}

/**
 * A key package document's MLS credential is its document author. `credential` is what the MLS
 * layer reads from the key package (`keyPackageInfo(bytes).publicKey`).
 *
 * @example
 * ```ts
 * checkKeyPackageDocument(doc, keyPackageInfo(readKeyPackage(doc).keyPackage))
 * ```
 */
export function checkKeyPackageDocument(doc: SignedDocument, credential: { readonly publicKey: Uint8Array }): void {
  requireSchema(doc, SchemaId.KeyPackage, "key package");
  if (!equalBytes(credential.publicKey, doc.author)) {
    throw new ValidationError(ErrorCode.InvalidKeyPackage, "key package credential is not the document author");
  }
}

/**
 * A key package names as previous a key package document of the same author.
 *
 * @example
 * ```ts
 * checkKeyPackagePrevious(newer, older)
 * ```
 */
export function checkKeyPackagePrevious(doc: SignedDocument, previous: SignedDocument): void {
  const { previousKeyPackage } = readKeyPackage(doc);
  requireSchema(previous, SchemaId.KeyPackage, "previous key package");
  if (previousKeyPackage === undefined || !equalBytes(previousKeyPackage, previous.id)) {
    throw new ValidationError(ErrorCode.InvalidDocument, "key package does not point at this previous key package");
  }
  if (!equalBytes(doc.author, previous.author)) {
    throw new ValidationError(ErrorCode.ForgedSender, "previous key package has another author");
  }
}

/**
 * A deletion withdraws `keyPackage` and only its author may delete it.
 *
 * @example
 * ```ts
 * checkKeyPackageDeletion(deletionDoc, keyPackageDoc)
 * ```
 */
export function checkKeyPackageDeletion(deletion: SignedDocument, keyPackage: SignedDocument): void {
  requireSchema(keyPackage, SchemaId.KeyPackage, "key package");
  if (!equalBytes(readKeyPackageDeletion(deletion).keyPackage, keyPackage.id)) {
    throw new ValidationError(ErrorCode.InvalidDocument, "deletion names another key package");
  }
  if (!equalBytes(deletion.author, keyPackage.author)) {
    throw new ValidationError(ErrorCode.ForgedSender, "only a key package's author may delete it");
  }
}
