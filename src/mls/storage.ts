/**
 * Incremental persistence of a ts-mls state, so a commit at 1000 members does not re-encode
 * (about 2 MB, 0.45 s) or ship the whole state. A state is stored as parts, keyed relative to
 * its group:
 * - `h`                 head: the caller's wrapper bytes plus the ts-mls state with every tree
 *                       emptied (group context, key schedule, private path, past epochs' small
 *                       secrets). Rewritten only when its bytes change.
 * - `m/<epoch>`         per epoch (current and each retained past one): ratchet-tree length and
 *                       the content keys of its chunks (src/mls/treeChunks.ts). Written once per
 *                       epoch (a ratchet tree never changes inside an epoch).
 * - `k/<key>`           one chunk: index and encoding of each non-blank node of one slot of the
 *                       tree (64 indices), content-addressed (key = SHA-256 of the chunk, 16 bytes
 *                       hex), shared by every epoch that holds it (a commit writes the chunks of
 *                       the slots its paths touch, not the tree; a join at 1000 members 32 chunks).
 *                       Since storage format 7 a complete subtree slot's chunk also holds its 63
 *                       position tree hashes when they are known (src/mls/treeHashes.ts).
 *                       Deleted as soon as no retained epoch references it.
 * - `n/<key>`           before storage format 6: one ratchet-tree node, content-addressed, named
 *                       by the chunks of before (which held node keys, not nodes). Still read; a
 *                       tree staged over such an epoch is written whole in chunks of format 6, and
 *                       the `n/` parts go as the epochs naming them leave the retention window.
 * - `l/<epoch>`         the epoch's secret tree without its blank nodes (a new epoch's lazy tree
 *                       is one pending root), written when the epoch begins.
 * - `o/<epoch>/<index>` a secret-tree node that changed since (a decrypt or an own message
 *                       changes one); the blob is rewritten and the overrides dropped once they
 *                       pass a quarter of the tree. Everything of an epoch is deleted when it
 *                       leaves the retention window, so used secrets do not linger on disk.
 * Changes are found by object identity: ts-mls updates immutably, so an unchanged tree or node
 * is the same object as the one last persisted ({@link PersistMeta} remembers them). The parts
 * are encoded by stateParts.ts and treeChunks.ts.
 *
 * Before storage format 3 an epoch's manifest was one part listing every node (`t/<epoch>`,
 * 24 KB at 1000 members) and its secret tree one part with every node (`s/<epoch>`, 50 KB):
 * both are still read (storageLoad.ts), and go as their epoch leaves the retention window; a new
 * epoch, and a rewritten secret tree, are always written in the new form.
 *
 * @module
 */
import type { ClientState, EpochReceiverData, RatchetTree, SecretTree } from "ts-mls";
import type { SecretTreeNode } from "ts-mls/secretTree.js";
import { Writer, decodeAll } from "../codec/tls.js";
import { RATCHET_CHUNK_SPAN } from "../constants.js";
import { ErrorCode } from "../errors.js";
import { equalBytes } from "../bytes.js";
import { guardSync } from "./errors.js";
import { blobKey, chunkManifestKey, chunkPartKey, encodeLazySecretTree, encodeSecretNode, lazyTreeKey, manifestKey, nodePartKey, overrideKey } from "./stateParts.js";
import { chunkKeysOf, encodeChunk, encodeChunkManifest, isSpine, subtreeSlots } from "./treeChunks.js";
import { knownTreeHashes, slotHashes } from "./treeHashes.js";
import type { ChunkKeys } from "./treeChunks.js";
import { addRef, bytesOfNode, inlineChunks } from "./storageMeta.js";
import { encodeStrippedState } from "./headCodec.js";
import type { EpochMeta, PersistMeta } from "./storageMeta.js";

export type { EpochMeta, PersistMeta } from "./storageMeta.js";
export { loadState } from "./storageLoad.js";

/** One part to write (`value`) or delete (`null`), keyed relative to the group. @example `["h", headBytes]` or `["o/00000000000000000003/00000001", null]` */
export type StatePart = readonly [key: string, value: Uint8Array | null];

/** Each retained epoch: the current one (no entry), then each past one with its entry. */
function epochsOf(mls: ClientState): Array<readonly [bigint, EpochReceiverData | undefined]> {
  return [[mls.groupContext.epoch, undefined], ...mls.historicalReceiverData];
}

/** An epoch's trees: the state's own for the current epoch, else its entry's (a loaded entry builds them now). */
const treesOf = (mls: ClientState, entry: EpochReceiverData | undefined): readonly [RatchetTree, SecretTree] =>
  entry === undefined ? [mls.ratchetTree, mls.secretTree] : [entry.ratchetTree, entry.secretTree];

/** A past epoch persisted from this very entry: unchanged, and known so without reading its trees. */
const sameEntry = (old: EpochMeta | undefined, entry: EpochReceiverData | undefined): boolean => entry !== undefined && old?.source === entry;

/**
 * The caller's `extra` bytes of a stored state head (the `h` part), read without decoding the
 * MLS state: the head is `opaque extra<V>; opaque mls_head<V>`. Throws only DecodeError.
 *
 * @example
 * ```ts
 * const extra = readStateExtra(headBytes)
 * ```
 */
export function readStateExtra(head: Uint8Array): Uint8Array {
  return decodeAll(head, "stored MLS state head", (r) => {
    const extra = r.opaque();
    r.raw(r.varint()); // the MLS part, skipped without a copy
    return extra;
  });
}

/**
 * What staging one state accumulates: the parts, and how many retained epochs reference each
 * `n/` and `k/` key (copies of the last persisted counts, moved by the epochs that come and go,
 * so an epoch whose tree is unchanged costs nothing; the last counts themselves, unwritten, when
 * no epoch comes, goes or changes its tree).
 */
interface Staging {
  readonly parts: StatePart[];
  readonly refs: Map<string, number>;
  readonly chunkRefs: Map<string, number>;
}

function dropRef(counts: Map<string, number>, key: string, gone: Set<string>): void {
  const n = counts.get(key) ?? 0;
  if (n <= 1) {
    counts.delete(key);
    gone.add(key);
  } else counts.set(key, n - 1);
}

/** The persisted epoch whose chunks the new tree is most likely to share: its own, else the newest (of format 6 only). */
function chunkBase(previous: PersistMeta | undefined, old: EpochMeta | undefined): EpochMeta | undefined {
  if (old !== undefined && inlineChunks(old)) return old;
  let best: [bigint, EpochMeta] | undefined;
  for (const [epoch, meta] of previous?.epochs ?? []) if (inlineChunks(meta) && (best === undefined || epoch > best[0])) best = [epoch, meta];
  return best?.[1];
}

/**
 * Stages a ratchet tree that was not persisted as it is: the chunks of the slots where a node
 * differs (by reference) from `base` (every slot without a base); the other slots keep `base`'s
 * chunks. Its nodes are in its chunks: it references no `n/` part.
 */
function stageTree(st: Staging, tree: RatchetTree, base: EpochMeta | undefined): ChunkKeys {
  const subs = subtreeSlots(tree.length);
  const baseChunks = base?.chunks;
  // slot s < subs: a subtree; slot subs: the spine
  const dirty = new Uint8Array(subs + 1);
  if (base === undefined || baseChunks === undefined) dirty.fill(1);
  else {
    const old = base.ratchetTree;
    // past the new length only the spine can still hold an old node (a truncated tree has fewer subtree slots)
    for (let i = 0, end = Math.max(tree.length, old.length); i < end; i++) {
      if (tree[i] === old[i]) continue;
      if (isSpine(i)) dirty[subs] = 1;
      else if (i < subs * RATCHET_CHUNK_SPAN) dirty[Math.floor(i / RATCHET_CHUNK_SPAN)] = 1;
    }
  }
  const entries: Array<Array<[number, Uint8Array]> | undefined> = [];
  for (let i = 0; i < tree.length; i++) {
    const node = tree[i];
    if (node === undefined) continue;
    const slot = isSpine(i) ? subs : Math.floor(i / RATCHET_CHUNK_SPAN);
    if (dirty[slot] === 1) (entries[slot] ??= []).push([i, bytesOfNode(node)]);
  }
  // a complete subtree slot's chunk carries its position hashes where they are known (treeHashes.ts)
  const known = knownTreeHashes(tree);
  const chunkOf = (slot: number, kept: string | undefined): string | undefined => {
    if (dirty[slot] !== 1) return kept;
    const list = entries[slot];
    if (list === undefined) return undefined;
    const { key, bytes } = encodeChunk(list, slot === subs || known === undefined ? undefined : slotHashes(known, slot));
    if (!st.chunkRefs.has(key)) st.parts.push([chunkPartKey(key), bytes]);
    return key;
  };
  const subtrees: Array<string | undefined> = [];
  for (let s = 0; s < subs; s++) subtrees.push(chunkOf(s, baseChunks?.subtrees[s]));
  const chunks: ChunkKeys = { subtrees, spine: chunkOf(subs, baseChunks?.spine) };
  for (const k of chunkKeysOf(chunks)) addRef(st.chunkRefs, k);
  return chunks;
}

/** Stages an epoch's secret tree: unchanged, a few override parts, or the whole (compact) tree again. */
function stageSecretTree(st: Staging, epoch: bigint, secretTree: SecretTree, old: EpochMeta | undefined): { overrides: ReadonlySet<number>; legacyBlob: boolean } {
  const overrides = old?.overrides ?? new Set<number>();
  const legacyBlob = old?.legacyBlob ?? false;
  const rewrite = (): { overrides: ReadonlySet<number>; legacyBlob: boolean } => {
    for (const i of overrides) st.parts.push([overrideKey(epoch, i), null]);
    st.parts.push([lazyTreeKey(epoch), encodeLazySecretTree(secretTree)]);
    if (legacyBlob) st.parts.push([blobKey(epoch), null]);
    return { overrides: new Set<number>(), legacyBlob: false };
  };
  if (old === undefined || old.secretTree.length !== secretTree.length) return rewrite();
  if (old.secretTree === secretTree) return { overrides, legacyBlob };
  const changed = new Set(overrides);
  for (let i = 0; i < secretTree.length; i++) if (old.secretTree[i] !== secretTree[i]) changed.add(i);
  // compaction: one tree part again instead of many overrides
  if (changed.size * 4 > secretTree.length) return rewrite();
  for (let i = 0; i < secretTree.length; i++) {
    if (old.secretTree[i] !== secretTree[i]) st.parts.push([overrideKey(epoch, i), encodeSecretNode(secretTree[i] as SecretTreeNode)]);
  }
  return { overrides: changed, legacyBlob };
}

/**
 * Computes the parts to write and delete so the store holds `mls` (plus `extra`, the caller's
 * wrapper bytes), given what was persisted last (`previous`, undefined for a fresh store).
 *
 * @example
 * ```ts
 * const { parts, meta } = stageState(wrapperBytes, mlsState, undefined) // every part of a new group
 * ```
 */
export function stageState(extra: Uint8Array, mls: ClientState, previous: PersistMeta | undefined): { parts: StatePart[]; meta: PersistMeta } {
  return guardSync(ErrorCode.Internal, "staging MLS state", () => {
    const all = epochsOf(mls);
    // no epoch came, went or changed its tree (a message's secret-tree step): no count moves, so
    // the previous maps are shared (a returned meta's maps are never written, only copied)
    const still =
      previous !== undefined &&
      all.length === previous.epochs.size &&
      all.every(([epoch, entry]) => {
        const old = previous.epochs.get(epoch);
        return sameEntry(old, entry) || (old !== undefined && old.ratchetTree === treesOf(mls, entry)[0]);
      });
    const st: Staging = still
      ? { parts: [], refs: previous.refs as Map<string, number>, chunkRefs: previous.chunkRefs as Map<string, number> }
      : { parts: [], refs: new Map(previous?.refs), chunkRefs: new Map(previous?.chunkRefs) };
    const epochs = new Map<bigint, EpochMeta>();
    // references of epochs that left (or whose tree changed): released after the new ones are counted
    const released: EpochMeta[] = [];
    for (const [epoch, entry] of all) {
      const old = previous?.epochs.get(epoch);
      if (old !== undefined && sameEntry(old, entry)) {
        epochs.set(epoch, old);
        continue;
      }
      const [ratchetTree, secretTree] = treesOf(mls, entry);
      let keys: readonly string[];
      let chunks: ChunkKeys | undefined;
      if (old !== undefined && old.ratchetTree === ratchetTree) {
        keys = old.nodeKeys;
        chunks = old.chunks;
      } else {
        keys = [];
        chunks = stageTree(st, ratchetTree, chunkBase(previous, old));
        st.parts.push([chunkManifestKey(epoch), encodeChunkManifest(ratchetTree.length, chunks)]);
        if (old !== undefined) released.push(old);
        if (old !== undefined && old.chunks === undefined) st.parts.push([manifestKey(epoch), null]);
      }
      const { overrides, legacyBlob } = stageSecretTree(st, epoch, secretTree, old);
      epochs.set(epoch, { ratchetTree, secretTree, nodeKeys: keys, chunks, legacyBlob, overrides, ...(entry === undefined ? {} : { source: entry }) });
    }
    for (const [epoch, old] of previous?.epochs ?? []) {
      if (epochs.has(epoch)) continue;
      released.push(old);
      st.parts.push([old.chunks === undefined ? manifestKey(epoch) : chunkManifestKey(epoch), null], [old.legacyBlob ? blobKey(epoch) : lazyTreeKey(epoch), null]);
      for (const i of old.overrides) st.parts.push([overrideKey(epoch, i), null]);
    }
    const goneNodes = new Set<string>();
    const goneChunks = new Set<string>();
    for (const old of released) {
      for (const k of old.nodeKeys) dropRef(st.refs, k, goneNodes);
      for (const k of chunkKeysOf(old.chunks)) dropRef(st.chunkRefs, k, goneChunks);
    }
    for (const k of goneNodes) if (!st.refs.has(k)) st.parts.push([nodePartKey(k), null]);
    for (const k of goneChunks) if (!st.chunkRefs.has(k)) st.parts.push([chunkPartKey(k), null]);
    const head = new Writer(4096).opaque(extra).opaque(encodeStrippedState(mls)).finish();
    if (previous === undefined || !equalBytes(previous.head, head)) st.parts.push(["h", head]);
    return { parts: st.parts, meta: { head, epochs, refs: st.refs, chunkRefs: st.chunkRefs } };
  });
}
