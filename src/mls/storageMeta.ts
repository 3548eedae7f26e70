/**
 * What the incremental state storage (src/mls/storage.ts, storageLoad.ts) remembers of the
 * last persisted state, and the encodings of ratchet-tree nodes.
 *
 * @module
 */
import type { EpochReceiverData, Node, RatchetTree, SecretTree } from "ts-mls";
import { decodedNodeEncoding, encodeNode } from "ts-mls/ratchetTree.js";
import type { ChunkKeys } from "./treeChunks.js";

/**
 * Encodings of ratchet-tree nodes by object identity (nodes are immutable): a commit rewrites the
 * chunks of the slots its path touches without encoding their other nodes again. Filled when a
 * node made here is first staged, dropped with the node (nodes decoded from bytes, received or
 * stored, keep theirs in our ts-mls patch's map).
 */
const nodeBytes = new WeakMap<object, Uint8Array>();

/**
 * The encoding of a ratchet-tree node, made once per node object; for a node of a tree received
 * whole (a joiner's, from its Welcome) or read from our store, the bytes it was read from (our
 * ts-mls patch keeps them).
 *
 * @example
 * ```ts
 * const bytes = bytesOfNode(node)
 * ```
 */
export function bytesOfNode(node: Node): Uint8Array {
  // a received or stored node's bytes stay in the patch's own map: not a second entry here
  const known = nodeBytes.get(node) ?? decodedNodeEncoding(node);
  if (known !== undefined) return known;
  const bytes = encodeNode(node);
  nodeBytes.set(node, bytes);
  return bytes;
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
  /** The `n/` parts its tree references: none when its chunks hold their nodes (format 6). */
  readonly nodeKeys: readonly string[];
  /** Its manifest's chunk keys; undefined when its manifest is a `t/` part of before format 3. */
  readonly chunks: ChunkKeys | undefined;
  /** Its secret tree is an `s/` part of before format 3 (else `l/`). */
  readonly legacyBlob: boolean;
  /** Indices that have an `o/` override part. */
  readonly overrides: ReadonlySet<number>;
  /**
   * For a past epoch, the state's entry it was staged or loaded from: ts-mls replaces an entry
   * to change it (a late message's secret tree), so the same entry is the same epoch, found
   * without reading its trees (a loaded past epoch builds them on first use: storageLoad.ts).
   */
  readonly source?: EpochReceiverData;
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
 * True when the epoch's tree is stored in chunks that hold their nodes (format 6): a new tree can
 * keep those of its chunks whose slots did not change. Chunks of before name `n/` parts.
 *
 * @example
 * ```ts
 * const base = inlineChunks(old) ? old : undefined
 * ```
 */
export const inlineChunks = (meta: EpochMeta): boolean => meta.chunks !== undefined && meta.nodeKeys.length === 0;

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
