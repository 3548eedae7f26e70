/**
 * An owner's add from `key_package_v1` documents, read in the worker that builds the commit: the
 * main thread posts the documents as they came and the worker starts at once (before, the main
 * thread decoded all of them first: ~100-175 ms at 999 members while both workers waited).
 * Here each document is decoded and its MLS key package decoded and checked (a known
 * ciphersuite, credential = document author); the package's two signature checks start on
 * libuv's thread pool at once (src/mls/crypto/preverified.ts: ts-mls's validation of the commit
 * takes their answers), so they run while the rest is decoded; the documents' own signature checks
 * start after the last package, behind them (the commit waits for the packages' checks, not for
 * the documents'), with the author's key from the MLS provider's cache (credential = author: one
 * import per author). Nothing of the commit leaves the worker (no state staged or cached, no
 * commit returned) before every document's signature verified.
 *
 * @module
 */
import { readKeyPackage } from "../../documents/index.js";
import { decodeDocumentDeferred } from "../../documents/document.js";
import { checkKeyPackageAuthor } from "../../documents/rules.js";
import { addMembersInspected } from "../../group/commit.js";
import type { GroupState } from "../../group/index.js";
import { checkAddableKeyPackage } from "../../mls/keyPackage.js";
import { preverifyKeyPackage } from "../../mls/preverify.js";
import type { DecodedKeyPackage } from "../../mls/keyPackage.js";
import { ed25519PublicKey } from "../../mls/crypto/signature.js";
import { PreverifyScope } from "../../mls/crypto/preverified.js";

/** Key package documents read, their signatures still being checked (see {@link readKeyPackageDocuments}). */
export interface KeyPackageDocuments {
  readonly keyPackages: Uint8Array[];
  /** Each package decoded and checked against its document's author. */
  readonly decoded: DecodedKeyPackage[];
  /** Resolves once every document's signature verified; rejects when one did not (never unhandled). */
  readonly verified: Promise<void>;
}

/**
 * The synchronous part of reading key package documents: each decoded, its schema checked, its
 * key package decoded and checked (known ciphersuite, credential = author; the lifetime is
 * addMembersInspected's) and, with `scope`, the package's signature checks started. The
 * documents' signature checks start once all are read and settle `verified`. Throws the first
 * error met; the engine then runs `keyPackagesFromDocuments` (src/engine/keyPackages.ts), whose
 * error names the first bad document in order, as it does for any failed add.
 *
 * @example
 * ```ts
 * const read = readKeyPackageDocuments(documents) // the commit built meanwhile, read.verified awaited before it is used
 * ```
 */
export function readKeyPackageDocuments(documents: readonly Uint8Array[], scope?: PreverifyScope): KeyPackageDocuments {
  const keyPackages: Uint8Array[] = [];
  const decoded: DecodedKeyPackage[] = [];
  const checks: Promise<void>[] = [];
  let open = (): void => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  try {
    for (const bytes of documents) {
      const { doc, verified } = decodeDocumentDeferred(bytes, gate, ed25519PublicKey);
      checks.push(verified);
      const { keyPackage } = readKeyPackage(doc);
      const info = checkAddableKeyPackage(keyPackage);
      checkKeyPackageAuthor(info, doc.author);
      if (scope !== undefined) preverifyKeyPackage(scope, keyPackage, info.keyPackage);
      keyPackages.push(keyPackage);
      decoded.push(info);
    }
  } finally {
    open();
  }
  const verified = Promise.all(checks).then(() => undefined);
  verified.catch(() => undefined); // awaited by addFromDocuments once the commit is built
  return { keyPackages, decoded, verified };
}

/**
 * The owner's add of the documents' authors to `state`: {@link addMembersInspected} on their key
 * packages, returned only once every document's signature verified (else that check's error:
 * the caller stages nothing, so the worker's cached state stays the one the group record names).
 *
 * @example
 * ```ts
 * const { result, inspection } = await addFromDocuments(state, documents)
 * ```
 */
export async function addFromDocuments(state: GroupState, documents: readonly Uint8Array[]): ReturnType<typeof addMembersInspected> {
  const scope = new PreverifyScope();
  try {
    const read = readKeyPackageDocuments(documents, scope);
    // each package was decoded and checked above: the commit takes it as it is
    const added = addMembersInspected(state, read.keyPackages, {}, (_bytes, index) => read.decoded[index] as DecodedKeyPackage);
    added.catch(() => undefined); // its failure is the task's once the signatures passed
    try {
      await read.verified;
    } catch (forged) {
      await added.catch(() => undefined); // the worker's next task must not run beside this commit
      throw forged;
    }
    return await added;
  } finally {
    scope.end();
  }
}
