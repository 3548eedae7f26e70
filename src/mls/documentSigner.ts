/**
 * A joiner's checks of signatures made with the key of the document that carried its Welcome,
 * answered without Ed25519 when that document's signature was verified.
 *
 * Why it holds: the engine joins only through a SecretGroupCommit document whose Ed25519
 * signature it verified on ingest, whose author is the group's owner (`checkCommitAuthor`), and
 * whose Welcome bytes that signature covers. The GroupInfo and the ratchet tree in it decrypt
 * from those bytes alone (HPKE and AEAD, no other input but the joiner's own keys), so every
 * signature under the owner's key found in them (the GroupInfo's, RFC 9420 12.4.3.1, and the
 * owner's leaf's, 7.3) signs content the owner already signed as a whole: checking it again
 * proves nothing more. Basic credentials make a member's MLS signature key its document key
 * (src/mls/config.ts). Signatures under any other key (every other leaf) are checked as before,
 * and so is everything when no verified document stands behind the Welcome (the library's
 * `joinGroup`). The cost of not checking: an owner that signs a GroupInfo or its own leaf badly
 * is joined by this engine and refused by a strict implementation, a split the owner, who
 * controls the group, can make anyway. Measured: two Ed25519 checks fewer per join, 0.95x the
 * time a group (the workers' CPU 0.87-0.90x) when a node joins many groups of 3
 * (bench/results/NOTES.md, session 32). The Welcome must carry its tree (it does: `mlsJoin` is
 * given none from outside); a tree from elsewhere would not be covered by the document.
 *
 * @module
 */
import type { CiphersuiteImpl } from "ts-mls";
import { equalBytes } from "../bytes.js";
import { withTrustedSignatures } from "./trustedSignatures.js";

/**
 * `cs` for one join through a Welcome carried by a document whose signature by `signer` was
 * verified: its signature verification answers true for `signer`'s key without running Ed25519,
 * and runs the ciphersuite's for every other key.
 *
 * @example
 * ```ts
 * const trusted = withDocumentSignerTrusted(cs, commitDocument.author) // after the document's signature was verified
 * ```
 */
export function withDocumentSignerTrusted(cs: CiphersuiteImpl, signer: Uint8Array): CiphersuiteImpl {
  const key = Uint8Array.from(signer);
  return withTrustedSignatures(cs, (publicKey) => equalBytes(publicKey, key));
}
