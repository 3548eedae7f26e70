/**
 * Acceptance rules between documents (issue 5, "Rules"): the one place they are written. Pure
 * checks on verified documents and on facts the MLS layer extracts (credential keys); each throws
 * a `ValidationError` with a specific code or returns nothing. Callers: the engine's ingest
 * (src/engine/commits.ts: {@link checkCommitDocument}, {@link checkCommitChain}), the
 * commit-chain follower (src/materialise/commits.ts: {@link checkCommitAuthor}; its leaf replay,
 * src/materialise/membership.ts: {@link checkCommitSender}), the engine's member drain and join
 * (src/engine/drain.ts: {@link checkCommitAuthor}), key packages (src/engine/keyPackages.ts,
 * src/engine/ingest.ts, src/materialise/keyPackages.ts). The key package lifetime rule lives in
 * src/lifetime.ts (one rule for the library and the engine).
 *
 * @module
 */
import { equalBytes } from "../bytes.js";
import { ErrorCode, ValidationError } from "../errors.js";
import type { SignedDocument } from "./document.js";
import { SchemaId } from "./schema.js";
import { readSecretGroupCommit } from "./system.js";

function requireSchema(doc: Pick<SignedDocument, "schema">, schema: string, what: string): void {
  if (doc.schema !== schema) throw new ValidationError(ErrorCode.InvalidDocument, `${what} must be a ${schema} document`);
}

/**
 * Only the group's owner commits: `FORGED_SENDER` when `author` is anyone else.
 *
 * @example
 * ```ts
 * checkCommitAuthor(groupDoc.author, commitDoc.author)
 * ```
 */
export function checkCommitAuthor(owner: Uint8Array, author: Uint8Array): void {
  if (!equalBytes(author, owner)) throw new ValidationError(ErrorCode.ForgedSender, "commit document is not authored by the group owner");
}

/**
 * A commit document belongs to `group` and is authored by the group's author (only the owner
 * commits). `WRONG_GROUP` when it names another group, `FORGED_SENDER` for another author.
 * `group` may be the SecretGroup document or what a node kept of it; pass `fields` when the
 * commit's fields were read already.
 *
 * @example
 * ```ts
 * checkCommitDocument(groupDoc, commitDoc) // throws unless the owner wrote it for this group
 * ```
 */
export function checkCommitDocument(
  group: Pick<SignedDocument, "id" | "author" | "schema">,
  commit: SignedDocument,
  fields: { readonly secretGroup: Uint8Array } = readSecretGroupCommit(commit),
): void {
  requireSchema(group, SchemaId.SecretGroup, "group");
  requireSchema(commit, SchemaId.SecretGroupCommit, "commit");
  if (!equalBytes(fields.secretGroup, group.id)) {
    throw new ValidationError(ErrorCode.WrongGroup, "commit document names another secret group");
  }
  checkCommitAuthor(group.author, commit.author);
}

/**
 * The MLS sender of a commit (the credential key of its sender leaf) is the group's author.
 *
 * @example
 * ```ts
 * checkCommitSender(groupDoc, senderCredentialKey)
 * ```
 */
export function checkCommitSender(group: Pick<SignedDocument, "author">, senderPublicKey: Uint8Array | undefined): void {
  if (senderPublicKey === undefined || !equalBytes(senderPublicKey, group.author)) {
    throw new ValidationError(ErrorCode.ForgedSender, "MLS commit sender is not the group owner");
  }
}

/**
 * A commit for the epoch a member is at extends that member's chain head: its
 * `previous_commit` is `head` (both absent for the group's first commit). `INVALID_COMMIT`
 * otherwise.
 *
 * @example
 * ```ts
 * checkCommitChain(readSecretGroupCommit(second), first.id)
 * ```
 */
export function checkCommitChain(commit: { readonly previousCommit?: Uint8Array }, head: Uint8Array | undefined): void {
  const follows = head === undefined ? commit.previousCommit === undefined : commit.previousCommit !== undefined && equalBytes(commit.previousCommit, head);
  if (!follows) throw new ValidationError(ErrorCode.InvalidCommit, "commit does not extend the chain head");
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
  checkKeyPackageAuthor(credential, doc.author);
}

/**
 * {@link checkKeyPackageDocument}'s credential check alone, for a pool worker that has the key
 * package and its document's author but not the document (an owner's add checks there).
 *
 * @example
 * ```ts
 * checkKeyPackageAuthor(decodeAddableKeyPackage(bytes), author)
 * ```
 */
export function checkKeyPackageAuthor(credential: { readonly publicKey: Uint8Array }, author: Uint8Array): void {
  if (!equalBytes(credential.publicKey, author)) {
    throw new ValidationError(ErrorCode.InvalidKeyPackage, "key package credential is not the document author");
  }
}
