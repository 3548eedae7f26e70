/**
 * Indexing KeyPackage documents by their KeyPackageRef, so the refs a Welcome names resolve to
 * public keys, whenever the key package document arrives (before or after the commit).
 *
 * @module
 */
import { checkKeyPackageDocument } from "../documents/rules.js";
import { readKeyPackage } from "../documents/system.js";
import type { SignedDocument } from "../documents/document.js";
import { keyPackageInfo } from "../keyPackage.js";
import { encodeKeyPackageIndexRecord } from "./keyRecords.js";
import { Keys } from "./store.js";
import type { IndexOp } from "./store.js";

/**
 * Ops indexing a `key_package_v1` document: `kp/<ref>` (ref -> key and document) and
 * `p/<publicKey>/<ref>` (key -> its refs). Pure: reads nothing, and the values depend only on the
 * document, so it may run outside any group actor. `info` (from `keyPackageInfo`) saves parsing the
 * key package again. Throws `ValidationError(INVALID_KEY_PACKAGE)` when the credential is not the
 * document's author, `DECODE_ERROR` for a malformed key package.
 *
 * @example
 * ```ts
 * await indexSub.batch(indexKeyPackage(doc))
 * ```
 */
export function indexKeyPackage(document: SignedDocument, info?: { readonly publicKey: Uint8Array; readonly ref: Uint8Array }): IndexOp[] {
  const facts = info ?? keyPackageInfo(readKeyPackage(document).keyPackage);
  checkKeyPackageDocument(document, facts);
  const value = encodeKeyPackageIndexRecord({ publicKey: document.author, documentId: document.id });
  return [
    { type: "put", key: Keys.keyPackage(facts.ref), value },
    { type: "put", key: Keys.refOf(document.author, facts.ref), value },
  ];
}
