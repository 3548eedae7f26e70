/**
 * Reading `key_package_v1` documents for `addMembers`: signature, schema, credential = author,
 * and lifetime against this node's clock (the spec's caveat: a lifetime is the publisher's
 * claim, and a node with a wrong clock judges it wrongly).
 *
 * @module
 */
import { checkKeyPackageDocument, keyPackageDocument, readKeyPackage } from "../documents/index.js";
import { decodeDocumentAsync } from "../documents/document.js";
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

/**
 * Copies of `documents` as views into one fresh buffer: what the application passed is read as
 * it was at the call (the add's task is posted later, from the group's queue), and the task's
 * structured clone copies that one buffer once, not each document's (a document may be a view
 * into a much larger buffer of the application's).
 *
 * @example
 * ```ts
 * const copies = packedCopies(documents) // copies[i] equals documents[i]
 * ```
 */
export function packedCopies(documents: readonly Uint8Array[]): Uint8Array[] {
  const packed = new Uint8Array(documents.reduce((n, d) => n + d.length, 0));
  let at = 0;
  return documents.map((d) => {
    packed.set(d, at);
    at += d.length;
    return packed.subarray(at - d.length, at);
  });
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
