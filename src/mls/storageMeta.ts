/**
 * What the incremental state storage (src/mls/storage.ts, storageLoad.ts) remembers of the
 * last persisted state, and the content keys of ratchet-tree nodes.
 *
 * @module
 */
import type { Node, RatchetTree, SecretTree } from "ts-mls";
import { encodeNode } from "ts-mls/ratchetTree.js";
import { contentKey } from "./stateParts.js";
import type { ChunkKeys } from "./treeChunks.js";

/** Content keys of ratchet-tree nodes already encoded, by object identity (nodes are immutable). */
export const nodeKeys = new WeakMap<object, string>();

/**
 * The content key of a ratchet-tree node (SHA-256 of its encoding, 16 bytes hex), with the
 * encoding when it had to be made.
 *
 * @example
 * ```ts
 * const { key, bytes } = keyOfNode(node)
 * ```
 */
export function keyOfNode(node: Node): { key: string; bytes?: Uint8Array } {
  const known = nodeKeys.get(node);
  if (known !== undefined) return { key: known };
  const bytes = encodeNode(node);
  const key = contentKey(bytes);
  nodeKeys.set(node, key);
  return { key, bytes };
}

/**
 * One stored epoch as last persisted.
 *
 * @example
 * ```ts
 * const meta: EpochMeta = { ratchetTree, secretTree, nodeKeys: [], chunks: undefined, legacyBlob: false, overrides: new Set() }
 * ```
 */
export interface EpochMeta {
  readonly ratchetTree: RatchetTree;
  readonly secretTree: SecretTree;
  readonly nodeKeys: readonly string[];
  /** Its manifest's chunk keys; undefined when its manifest is a `t/` part of before format 3. */
  readonly chunks: ChunkKeys | undefined;
  /** Its secret tree is an `s/` part of before format 3 (else `l/`). */
  readonly legacyBlob: boolean;
  /** Indices that have an `o/` override part. */
  readonly overrides: ReadonlySet<number>;
}

/**
 * What was persisted last for one state (kept beside the decoded state in the worker).
 *
 * @example
 * ```ts
 * const { parts, meta } = stageState(extra, mls, previousMeta)
 * ```
 */
export interface PersistMeta {
  readonly head: Uint8Array;
  readonly epochs: ReadonlyMap<bigint, EpochMeta>;
  /** Content keys of the stored `n/` parts, each with the number of its references (one per node of each retained epoch's tree holding it). */
  readonly refs: ReadonlyMap<string, number>;
  /** Content keys of the stored `k/` parts, each with the number of its references (one per manifest slot of each retained epoch). */
  readonly chunkRefs: ReadonlyMap<string, number>;
}

/**
 * Counts one more reference to `key`; true when it had none (its part is not stored yet).
 *
 * @example
 * ```ts
 * if (addRef(counts, key)) parts.push([`n/${key}`, bytes])
 * ```
 */
export function addRef(counts: Map<string, number>, key: string): boolean {
  const n = counts.get(key);
  counts.set(key, n === undefined ? 1 : n + 1);
  return n === undefined;
}
