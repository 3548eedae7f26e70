/**
 * Stored subtree hashes (storage format 7). A state read back from the store hashed its whole
 * ratchet tree again on its first commit (RFC 9420 7.8; about 4 ms at 1000 members). The tree
 * hash of a position depends only on the nodes below it (a leaf's on its index too), so a
 * complete subtree slot's 63 position hashes are a function of its chunk's contents: staging
 * writes them into the chunk when they are known (src/mls/treeChunks.ts, HASHED_CHUNK_FORMAT),
 * loading keeps them beside the tree it rebuilds, and the first commit on that tree seeds the
 * patched ts-mls's tree-hash snapshot with them (`seedTreeHashes`), so only what the commit
 * changes is hashed. They are known for a tree whose whole tree hash was computed over the nodes
 * it holds (every commit made or applied, and every join, computes it) or which was loaded with
 * them.
 * The store is sealed and authenticated, and a wrong hash would only give a tree hash that the
 * commit's confirmation refuses.
 *
 * @module
 */
import type { CiphersuiteImpl, RatchetTree } from "ts-mls";
import { sameNodes, seedTreeHashes, subtreeHashesOf } from "ts-mls/treeHash.js";
import { RATCHET_CHUNK_SPAN, SLOT_POSITIONS } from "../constants.js";
import { completeSlot } from "./treeChunks.js";

/** Position hashes of trees rebuilt from stored parts (undefined where not stored), by tree, with the nodes they belong to. */
const stored = new WeakMap<RatchetTree, { readonly nodes: RatchetTree; readonly hashes: ReadonlyArray<Uint8Array | undefined> }>();

/** Trees whose stored hashes were seeded (once per tree: a snapshot list is short). */
const seeded = new WeakSet<RatchetTree>();

/** The stored hashes of `tree` while it holds the nodes it was rebuilt with (an array changed in place since answers nothing). */
function storedHashes(tree: RatchetTree): ReadonlyArray<Uint8Array | undefined> | undefined {
  const entry = stored.get(tree);
  return entry !== undefined && sameNodes(entry.nodes, tree) ? entry.hashes : undefined;
}

/**
 * Every position hash known for `tree` (a hash of the whole tree computed over the nodes it
 * holds, else the hashes stored with the chunks it was loaded from); undefined when none.
 *
 * @example
 * ```ts
 * const known = knownTreeHashes(mls.ratchetTree)
 * ```
 */
export function knownTreeHashes(tree: RatchetTree): ReadonlyArray<Uint8Array | undefined> | undefined {
  return subtreeHashesOf(tree) ?? storedHashes(tree);
}

/**
 * The 63 position hashes of complete subtree slot `slot`, in index order, from `known` (a tree's
 * {@link knownTreeHashes}); undefined unless the slot is complete and every one is known.
 *
 * @example
 * ```ts
 * const hashes = slotHashes(known, 3) // for encodeChunk(entries, hashes)
 * ```
 */
export function slotHashes(known: ReadonlyArray<Uint8Array | undefined>, slot: number): Uint8Array[] | undefined {
  if (!completeSlot(slot, known.length)) return undefined;
  const out: Uint8Array[] = [];
  for (let i = slot * RATCHET_CHUNK_SPAN, end = i + SLOT_POSITIONS; i < end; i++) {
    const hash = known[i];
    if (hash === undefined) return undefined;
    out.push(hash);
  }
  return out;
}

/**
 * Keeps the stored position hashes of a tree rebuilt from its parts, once its nodes are in
 * place (`hashes.length === tree.length`, undefined where not stored).
 *
 * @example
 * ```ts
 * rememberStoredTreeHashes(ratchetTree, hashes)
 * ```
 */
export function rememberStoredTreeHashes(tree: RatchetTree, hashes: ReadonlyArray<Uint8Array | undefined>): void {
  stored.set(tree, { nodes: tree.slice(), hashes });
}

/**
 * Seeds the tree-hash snapshot of `cs`'s hash with `tree`'s stored hashes, once per tree: call it
 * before a commit is made or applied on a state that may have been loaded.
 *
 * @example
 * ```ts
 * seedStoredTreeHashes(state.ratchetTree, await getSuite(name, provider))
 * ```
 */
export function seedStoredTreeHashes(tree: RatchetTree, cs: CiphersuiteImpl): void {
  const hashes = storedHashes(tree);
  if (hashes === undefined || seeded.has(tree)) return;
  seeded.add(tree);
  seedTreeHashes(tree, hashes, cs.hash);
}
