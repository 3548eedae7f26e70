/**
 * The codec of the bulky parts of a stored MLS state (src/mls/storage.ts documents the parts):
 * their keys, the ratchet-tree manifests and the secret trees and their nodes. Our own compact
 * format: fixed big-endian integers written straight into one preallocated buffer, since these
 * run on every commit. Part of the on-disk format.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { RatchetTree, SecretTree } from "ts-mls";
import { BLANK_SECRET_NODE, LAZY_GENERATION } from "ts-mls/secretTree.js";
import type { GenerationSecret, SecretTreeNode } from "ts-mls/secretTree.js";
import { MAX_RATCHET_TREE_NODES, STATE_PART_FORMAT } from "../constants.js";
import { DecodeError } from "../errors.js";
import { Sink, Source, decodeWith } from "./partCodec.js";

const pad = (n: bigint | number, width: number): string => BigInt(n).toString().padStart(width, "0");
/** Key of an epoch's manifest part. @example `manifestKey(3n) // "t/00000000000000000003"` */
export const manifestKey = (epoch: bigint): string => `t/${pad(epoch, 20)}`;
/** Key of an epoch's secret-tree part. @example `blobKey(3n) // "s/00000000000000000003"` */
export const blobKey = (epoch: bigint): string => `s/${pad(epoch, 20)}`;
/** Key of a changed secret-tree node's part. @example `overrideKey(3n, 1) // "o/00000000000000000003/00000001"` */
export const overrideKey = (epoch: bigint, i: number): string => `o/${pad(epoch, 20)}/${pad(i, 8)}`;

/** Key of an epoch's compact secret-tree part (format 3; `s/` before). @example `lazyTreeKey(3n) // "l/00000000000000000003"` */
export const lazyTreeKey = (epoch: bigint): string => `l/${pad(epoch, 20)}`;

/** Prefix of every override part of an epoch. @example `overridePrefix(3n) // "o/00000000000000000003/"` */
export const overridePrefix = (epoch: bigint): string => `o/${pad(epoch, 20)}/`;

/** Key of an epoch's chunked manifest part. @example `chunkManifestKey(3n) // "m/00000000000000000003"` */
export const chunkManifestKey = (epoch: bigint): string => `m/${pad(epoch, 20)}`;
const CHUNK_PART_PREFIX = "k/";
/** Key of a manifest chunk part by its content key. @example `chunkPartKey("00ff...") // "k/00ff..."` */
export const chunkPartKey = (key: string): string => CHUNK_PART_PREFIX + key;
/** The content key of a chunk part's key (the inverse of {@link chunkPartKey}); undefined for any other part. @example `chunkKeyOf("k/00ff...") // "00ff..."` */
export const chunkKeyOf = (part: string): string | undefined => (part.startsWith(CHUNK_PART_PREFIX) ? part.slice(CHUNK_PART_PREFIX.length) : undefined);
/** Key of a node part (formats 3 to 5, named by their chunks) by its content key. @example `nodePartKey("00ff...") // "n/00ff..."` */
export const nodePartKey = (key: string): string => `n/${key}`;

/** Bytes of a content key (tree nodes and manifest chunks are stored under theirs). */
export const CONTENT_KEY_BYTES = 16;

/**
 * The content key of stored bytes: SHA-256, its first {@link CONTENT_KEY_BYTES} bytes in hex.
 *
 * @example
 * ```ts
 * const key = contentKey(encodeNode(node))
 * ```
 */
export function contentKey(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex").slice(0, 2 * CONTENT_KEY_BYTES);
}

function writeGeneration(w: Sink, g: GenerationSecret): void {
  w.bytes(g.secret).u32(g.generation);
  const unused = Object.entries(g.unusedGenerations);
  w.u32(unused.length);
  for (const [gen, secret] of unused) w.u32(Number(gen)).bytes(secret);
}
function readGeneration(r: Source): GenerationSecret {
  const secret = r.bytes();
  const generation = r.u32();
  const unusedGenerations: Record<number, Uint8Array> = {};
  for (let n = r.u32(); n > 0; n--) {
    const gen = r.u32();
    unusedGenerations[gen] = r.bytes();
  }
  return { secret, generation, unusedGenerations };
}
const writeSecretNode = (w: Sink, node: SecretTreeNode): void => {
  writeGeneration(w, node.handshake);
  writeGeneration(w, node.application);
};
const readSecretNode = (r: Source): SecretTreeNode => ({ handshake: readGeneration(r), application: readGeneration(r) });

/**
 * One secret-tree node (the `o/<epoch>/<index>` part).
 *
 * @example
 * ```ts
 * const bytes = encodeSecretNode(mls.secretTree[3]!)
 * ```
 */
export const encodeSecretNode = (node: SecretTreeNode): Uint8Array => {
  const w = new Sink(128);
  writeSecretNode(w, node);
  return w.finish();
};

/**
 * An epoch's whole secret tree (the `s/<epoch>` part).
 *
 * @example
 * ```ts
 * const bytes = encodeSecretTree(mls.secretTree)
 * ```
 */
export function encodeSecretTree(tree: SecretTree): Uint8Array {
  const w = new Sink(tree.length * 100 + 8);
  w.u32(tree.length);
  for (const node of tree) writeSecretNode(w, node);
  return w.finish();
}

/**
 * An epoch's ratchet-tree manifest (the `t/<epoch>` part): the tree's length and the content key
 * of each non-blank node, in order.
 *
 * @example
 * ```ts
 * const bytes = encodeManifest(mls.ratchetTree, nodeKeysInOrder)
 * ```
 */
export function encodeManifest(tree: RatchetTree, keys: readonly string[]): Uint8Array {
  const w = new Sink(8 + keys.length * 24);
  w.u32(tree.length);
  let k = 0;
  for (let i = 0; i < tree.length; i++) {
    if (tree[i] === undefined) continue;
    w.u32(i).bytes(Buffer.from(keys[k++] ?? "", "hex"));
  }
  return w.finish();
}

/**
 * Decodes a ratchet-tree manifest: the tree's length and `[index, content key]` of each
 * non-blank node. Throws only DecodeError.
 *
 * @example
 * ```ts
 * const { length, entries } = decodeManifest(bytes)
 * ```
 */
export function decodeManifest(bytes: Uint8Array): { length: number; entries: Array<[number, string]> } {
  return decodeWith(bytes, "ratchet tree manifest", (r) => {
    const length = r.u32();
    const entries: Array<[number, string]> = [];
    while (r.remaining > 0) entries.push([r.u32(), Buffer.from(r.bytes()).toString("hex")]);
    return { length, entries };
  });
}

/**
 * Decodes an epoch's secret tree ({@link encodeSecretTree}). Throws only DecodeError.
 *
 * @example
 * ```ts
 * const secretTree = decodeSecretTree(bytes)
 * ```
 */
export function decodeSecretTree(bytes: Uint8Array): SecretTreeNode[] {
  return decodeWith(bytes, "stored secret tree", (r) => {
    const out: SecretTreeNode[] = [];
    for (let n = r.u32(); n > 0; n--) out.push(readSecretNode(r));
    return out;
  });
}

/**
 * Decodes one secret-tree node ({@link encodeSecretNode}). Throws only DecodeError.
 *
 * @example
 * ```ts
 * secretTree[i] = decodeSecretNode(bytes)
 * ```
 */
export function decodeSecretNode(bytes: Uint8Array): SecretTreeNode {
  return decodeWith(bytes, "stored secret node", readSecretNode);
}

// The lazy secret tree (ts-mls patch, secretTree.js) marks a blank node with its sentinel
// generation: both ratchets at it, no secret and no unused generations. A new epoch's tree is all
// blank but its root, so the compact part holds only the nodes that are not blank.
function noEntries(record: Record<number, Uint8Array>): boolean {
  for (const _ in record) return false;
  return true;
}
const blankRatchet = (g: GenerationSecret): boolean => g.generation === LAZY_GENERATION && g.secret.length === 0 && noEntries(g.unusedGenerations);
const isBlank = (node: SecretTreeNode): boolean => node === BLANK_SECRET_NODE || (blankRatchet(node.handshake) && blankRatchet(node.application));

/**
 * An epoch's secret tree without its blank nodes (the `l/` part): format byte, tree length,
 * then each other node with its index, in increasing order.
 *
 * @example
 * ```ts
 * const bytes = encodeLazySecretTree(mls.secretTree)
 * ```
 */
export function encodeLazySecretTree(tree: SecretTree): Uint8Array {
  const w = new Sink(256);
  w.u8(STATE_PART_FORMAT).u32(tree.length);
  const at = w.len;
  w.u32(0);
  let count = 0;
  for (let i = 0; i < tree.length; i++) {
    const node = tree[i] as SecretTreeNode;
    if (isBlank(node)) continue;
    writeSecretNode(w.u32(i), node);
    count++;
  }
  const out = w.finish();
  new DataView(out.buffer).setUint32(at, count);
  return out;
}

function readLazyTreeLength(r: Source): number {
  if (r.u8() !== STATE_PART_FORMAT) throw new DecodeError("stored secret tree: unknown format");
  const length = r.u32();
  if (length > MAX_RATCHET_TREE_NODES) throw new DecodeError(`stored secret tree: ${length} nodes (at most ${MAX_RATCHET_TREE_NODES})`);
  return length;
}

/**
 * The node count of a stored {@link encodeLazySecretTree} part, read from its header alone (the
 * loader checks a past epoch's overrides against it and decodes the tree on first use). Throws
 * only DecodeError.
 *
 * @example
 * ```ts
 * const length = lazySecretTreeLength(bytes) // 1999 at 1000 members
 * ```
 */
export function lazySecretTreeLength(bytes: Uint8Array): number {
  return readLazyTreeLength(new Source(bytes, "stored secret tree"));
}

/**
 * Decodes {@link encodeLazySecretTree}: blank nodes are one shared frozen sentinel (ts-mls
 * replaces nodes, never changes one). Throws only DecodeError.
 *
 * @example
 * ```ts
 * const secretTree = decodeLazySecretTree(bytes)
 * ```
 */
export function decodeLazySecretTree(bytes: Uint8Array): SecretTreeNode[] {
  return decodeWith(bytes, "stored secret tree", (r) => {
    const length = readLazyTreeLength(r);
    const out = new Array<SecretTreeNode>(length).fill(BLANK_SECRET_NODE);
    let last = -1;
    for (let n = r.u32(); n > 0; n--) {
      const i = r.u32();
      if (i <= last || i >= length) throw new DecodeError("stored secret tree: node index out of order or range");
      out[i] = readSecretNode(r);
      last = i;
    }
    return out;
  });
}
