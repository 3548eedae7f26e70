/**
 * Reading `key_package_v1` documents for `addMembers`: signature, schema, credential = author,
 * and lifetime against this node's clock (the spec's caveat: a lifetime is the publisher's
 * claim, and a node with a wrong clock judges it wrongly).
 *
 * @module
 */
import { checkKeyPackageDocument, keyPackageDocument, readKeyPackage } from "../documents/index.js";
import { decodeDocumentAsync, decodeDocumentDeferredUnhashed } from "../documents/document.js";
import { checkKeyPackageLifetime } from "../lifetime.js";
import { toHex } from "../bytes.js";
import type { EngineContext } from "./context.js";
import { indexKeyPackageOps } from "./materialise.js";
import { runTask } from "./pool.js";
import type { KeyPackageOut } from "./worker/protocol.js";
import { encodeKeyPackageRecord } from "./store/records.js";
import { Sublevel } from "./store/sublevels.js";
import { checkAddableKeyPackage } from "../mls/keyPackage.js";
import { outboxOp } from "./outbox.js";

/**
 * The MLS key packages inside signed key package documents; rejects with the typed error of the
 * first bad one in order (`INVALID_DOCUMENT`, `INVALID_SIGNATURE`, `INVALID_KEY_PACKAGE`,
 * `KEY_PACKAGE_EXPIRED`). The document signatures verify on libuv's thread pool, all at once.
 *
 * @example
 * ```ts
 * const keyPackages = await keyPackagesFromDocuments([bobDoc, carolDoc])
 * ```
 */
export async function keyPackagesFromDocuments(documents: readonly Uint8Array[], nowMs: number = Date.now()): Promise<Uint8Array[]> {
  const decoded = await Promise.allSettled(documents.map(decodeDocumentAsync));
  return decoded.map((settled) => {
    if (settled.status === "rejected") throw settled.reason;
    const doc = settled.value;
    const { keyPackage } = readKeyPackage(doc);
    // the checks of keyPackageInfo without its KeyPackageRef hash, which an add does not need
    const info = checkAddableKeyPackage(keyPackage);
    checkKeyPackageDocument(doc, info);
    checkKeyPackageLifetime(info, nowMs);
    return keyPackage;
  });
}

/** Key package documents read at once, their signatures not yet checked (see {@link readKeyPackageDocuments}). */
export interface KeyPackageDocuments {
  readonly keyPackages: Uint8Array[];
  /** Each document's author, for the worker's credential check. */
  readonly authors: Uint8Array[];
  /** Resolves once every signature verified, rejects when one did not (never unhandled); the checks wait for `verify`. */
  readonly verified: Promise<void>;
  /** Starts the signature checks (a second call does nothing) and returns `verified`. */
  readonly verify: () => Promise<void>;
}

/**
 * The first part of {@link keyPackagesFromDocuments}, synchronous: each document decoded, its
 * schema checked and its key package read. The rest (signatures; a known ciphersuite,
 * credential = author and the lifetime, which decode the MLS key package) is left to `verify`
 * and to the worker that decodes the packages for the commit anyway. The signatures are checked
 * only when `verify` is called: the commit step calls it once the worker has its task, so this
 * thread checks them (a key package document is small: SYNC_VERIFY_MAX_BYTES) while the worker
 * builds the commit, not before the worker starts. Undefined when a document fails here: the
 * caller then runs {@link keyPackagesFromDocuments}, whose error names the first bad document in
 * order; so does a caller whose add failed later (a failed check may have stopped it first).
 *
 * @example
 * ```ts
 * const read = readKeyPackageDocuments(documents) // then the commit job, which calls read.verify
 * ```
 */
export function readKeyPackageDocuments(documents: readonly Uint8Array[]): KeyPackageDocuments | undefined {
  const keyPackages: Uint8Array[] = [];
  const authors: Uint8Array[] = [];
  const checks: Promise<void>[] = [];
  let start: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (start = resolve));
  try {
    for (const bytes of documents) {
      // the id is not used here (the add names no key package document): not hashed
      const { doc, verified } = decodeDocumentDeferredUnhashed(bytes, gate);
      checks.push(verified);
      keyPackages.push(readKeyPackage(doc).keyPackage);
      authors.push(doc.author);
    }
  } catch {
    return undefined;
  }
  const verified = Promise.all(checks).then(() => undefined);
  verified.catch(() => undefined); // awaited by the commit step, if the job gets that far
  const verify = (): Promise<void> => {
    start();
    return verified;
  };
  return { keyPackages, authors, verified, verify };
}

/**
 * Creates a key package on a worker, keeps its private part (until a join consumes it), and
 * returns its signed `key_package_v1` document, chained to the previous one. Callers publish
 * one at a time.
 *
 * @example
 * ```ts
 * const document = await publishKeyPackage(ctx)
 * ```
 */
export async function publishKeyPackage(ctx: EngineContext): Promise<Uint8Array> {
  const kp = await runTask<KeyPackageOut>(ctx.pool, { op: "keyPackage", identity: ctx.identity });
  const previous = await ctx.store.get(Sublevel.Meta, "lastKeyPackage", "last key package");
  const doc = keyPackageDocument(ctx.identity, previous === undefined ? { keyPackage: kp.keyPackage } : { keyPackage: kp.keyPackage, previousKeyPackage: previous });
  // synced with its outbox entry before the document is returned
  await ctx.store.batch(
    [
      { sub: Sublevel.KeyPackages, key: toHex(kp.ref), value: encodeKeyPackageRecord({ docId: doc.id, keyPackage: kp.keyPackage, secret: kp.secret }) },
      { sub: Sublevel.Docs, key: toHex(doc.id), value: doc.bytes },
      { sub: Sublevel.Meta, key: "lastKeyPackage", value: doc.id },
      outboxOp(ctx.outbox, doc.id, doc.bytes),
      ...indexKeyPackageOps(doc, { publicKey: ctx.identity.publicKey, ref: kp.ref }),
    ],
    { sync: true },
  );
  return doc.bytes;
}
