/**
 * The codec of the bulky parts of a stored MLS state (src/mls/storage.ts documents the parts):
 * their keys, the ratchet-tree manifests and the secret trees and their nodes. Our own compact
 * format: fixed big-endian integers written straight into one preallocated buffer, since these
 * run on every commit. Part of the on-disk format.
 *
 * @module
 */
import type { RatchetTree, SecretTree } from "ts-mls";
import type { GenerationSecret, SecretTreeNode } from "ts-mls/secretTree.js";
import { DecodeError } from "../errors.js";

const pad = (n: bigint | number, width: number): string => BigInt(n).toString().padStart(width, "0");
/** Key of an epoch's manifest part. @example `manifestKey(3n) // "t/00000000000000000003"` */
export const manifestKey = (epoch: bigint): string => `t/${pad(epoch, 20)}`;
/** Key of an epoch's secret-tree part. @example `blobKey(3n) // "s/00000000000000000003"` */
export const blobKey = (epoch: bigint): string => `s/${pad(epoch, 20)}`;
/** Key of a changed secret-tree node's part. @example `overrideKey(3n, 1) // "o/00000000000000000003/00000001"` */
export const overrideKey = (epoch: bigint, i: number): string => `o/${pad(epoch, 20)}/${pad(i, 8)}`;

/** Prefix of every override part of an epoch. @example `overridePrefix(3n) // "o/00000000000000000003/"` */
export const overridePrefix = (epoch: bigint): string => `o/${pad(epoch, 20)}/`;

// Our own compact codec for the bulky parts (secret trees, manifests): fixed big-endian
// integers written straight into one preallocated buffer, since these run on every commit.
class Sink {
  private buf: Uint8Array;
  len = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  u32(v: number): this {
    this.room(4);
    const b = this.buf;
    b[this.len++] = v >>> 24;
    b[this.len++] = (v >>> 16) & 0xff;
    b[this.len++] = (v >>> 8) & 0xff;
    b[this.len++] = v & 0xff;
    return this;
  }
  bytes(v: Uint8Array): this {
    this.u32(v.length);
    this.room(v.length);
    this.buf.set(v, this.len);
    this.len += v.length;
    return this;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

class Source {
  private pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {}
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  u32(): number {
    if (this.pos + 4 > this.buf.length) throw new DecodeError(`${this.what}: truncated`);
    const b = this.buf;
    const v = ((b[this.pos] as number) * 0x1000000 + (((b[this.pos + 1] as number) << 16) | ((b[this.pos + 2] as number) << 8) | (b[this.pos + 3] as number))) >>> 0;
    this.pos += 4;
    return v;
  }
  bytes(): Uint8Array {
    const n = this.u32();
    if (this.pos + n > this.buf.length) throw new DecodeError(`${this.what}: truncated`);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  end(): void {
    if (this.pos !== this.buf.length) throw new DecodeError(`${this.what}: ${this.buf.length - this.pos} trailing bytes`);
  }
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
function decodeWith<T>(bytes: Uint8Array, what: string, read: (r: Source) => T): T {
  const r = new Source(bytes, what);
  const value = read(r);
  r.end();
  return value;
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
