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

/**
 * The records of `keys` the store holds, in the order given, by point reads (synchronous where
 * the backend has them): what a scan of their chain position returns, without the LevelDB
 * iterator's thread-pool round trip.
 */
function pointReads(get: (key: string) => Promise<unknown>, keys: readonly string[]): AsyncIterable<readonly [unknown, unknown]> {
  return {
    async *[Symbol.asyncIterator]() {
      for (const key of keys) {
        const value = await get(key);
        if (value !== undefined) yield [key, value] as const;
      }
    },
  };
}

/**
 * Reader of the index sublevel; a scan of one chain position (`q/<gid>/<prev>/`) reads the
 * records src/engine/pendingChain.ts lists there (every one the store holds, in key order),
 * each by a point read, and finds nothing without reading the store where it lists none.
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
    iterator: (options) => {
      const listed = options.lt === `${options.gte}\uffff` ? ctx.pendingChain.listed(options.gte) : undefined;
      return listed === undefined ? reader.iterator(options) : pointReads(reader.get, listed);
    },
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
