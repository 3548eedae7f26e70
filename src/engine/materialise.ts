/**
 * The engine's side of the materialisation index (src/materialise): the index runs inside the
 * group's actor like every other change of the group, and its operations join the group's
 * atomic batch. Every node indexes every commit, member or not (spec "Materialisation").
 *
 * @module
 */
import { readSecretGroupCommit } from "../documents/index.js";
import type { SignedDocument } from "../documents/index.js";
import { inspectCommit } from "../group/index.js";
import type { CommitInspection } from "../group/index.js";
import { indexCommit, indexGroup, indexKeyPackage } from "../materialise/index.js";
import type { IndexOp, IndexReader } from "../materialise/index.js";
import type { EngineContext } from "./context.js";
import { Sublevel } from "./store/sublevels.js";
import type { StoreOp } from "./store/store.js";

/** Index operations as store operations (their values are versioned already). @example `toStoreOps(result.ops)` */
export function toStoreOps(ops: readonly IndexOp[]): StoreOp[] {
  return ops.map((op) => (op.type === "put" ? { sub: Sublevel.Materialise, key: op.key, value: op.value, versioned: true } : { sub: Sublevel.Materialise, key: op.key, value: null }));
}

const NOTHING: AsyncIterable<readonly [unknown, unknown]> = { async *[Symbol.asyncIterator]() {} };

/**
 * Reader of the index sublevel; a scan of a chain position that holds no pending record
 * (src/engine/pendingChain.ts) finds nothing without reading the store.
 *
 * @example
 * ```ts
 * await history(indexReader(ctx), gid)
 * ```
 */
export function indexReader(ctx: EngineContext): IndexReader {
  const reader = ctx.store.reader(Sublevel.Materialise);
  return {
    get: reader.get,
    iterator: (options) => (options.lt === `${options.gte}\uffff` && !ctx.pendingChain.mayHold(options.gte) ? NOTHING : reader.iterator(options)),
  };
}

/**
 * Index operations for a SecretGroup document (none when already indexed).
 *
 * @example
 * ```ts
 * ops.push(...(await indexGroupOps(ctx, doc)))
 * ```
 */
export async function indexGroupOps(ctx: EngineContext, doc: SignedDocument): Promise<StoreOp[]> {
  return toStoreOps((await indexGroup(indexReader(ctx), doc)).ops);
}

/**
 * Index operations for a SecretGroupCommit document; `facts` defaults to inspecting it.
 *
 * @example
 * ```ts
 * ops.push(...(await indexCommitOps(ctx, doc, inspection)))
 * ```
 */
export async function indexCommitOps(ctx: EngineContext, doc: SignedDocument, facts?: CommitInspection): Promise<StoreOp[]> {
  const started = performance.now();
  const info = facts ?? inspectCommit(readSecretGroupCommit(doc).commit);
  const ops = toStoreOps((await indexCommit(indexReader(ctx), doc, info)).ops);
  ctx.stats.indexMs += performance.now() - started;
  return ops;
}

/** Index operations for a key package document. @example `indexKeyPackageOps(doc, keyPackageInfo(kp))` */
export function indexKeyPackageOps(doc: SignedDocument, info?: { readonly publicKey: Uint8Array; readonly ref: Uint8Array }): StoreOp[] {
  return toStoreOps(indexKeyPackage(doc, info));
}
