/**
 * The chunked ratchet-tree manifest (storage formats 3 to 6; src/mls/storage.ts documents the
 * parts). Node indices are cut into slots of {@link RATCHET_CHUNK_SPAN}: slot `s` holds the
 * complete subtree of indices `64s .. 64s+62`, and the spine slot holds every index `64s+63` (the
 * nodes above those subtrees). A commit changes one leaf's path: one subtree slot and the spine.
 * Each slot's non-blank nodes are one content-addressed chunk `k/<key>`, shared by every epoch
 * that holds the same chunk; an epoch's manifest `m/<epoch>` lists the tree's length and its
 * slots' chunk keys (about 0.6 KB at 1000 members, where the whole list was 24 KB). Since format
 * 6 a chunk holds each node's encoding ({@link INLINE_CHUNK_FORMAT}); before, it held each node's
 * content key, its encoding a part `n/<key>` of its own ({@link STATE_PART_FORMAT}, still read).
 * Since format 7 a complete subtree slot's chunk also holds the tree hash of each of its 63
 * positions when they were known ({@link HASHED_CHUNK_FORMAT}): they depend only on the slot's
 * nodes and indices, which the chunk's content key covers.
 *
 * @module
 */
import { HASHED_CHUNK_FORMAT, INLINE_CHUNK_FORMAT, MAX_RATCHET_TREE_NODES, MAX_TREE_HASH_SIZE, RATCHET_CHUNK_SPAN, SLOT_POSITIONS, STATE_PART_FORMAT } from "../constants.js";
import { DecodeError, ErrorCode, InternalError } from "../errors.js";
import { Sink, decodeWith } from "./partCodec.js";
import { CONTENT_KEY_BYTES, contentKey } from "./stateParts.js";

/** The chunk keys of one epoch's tree: one per subtree slot, and the spine's (undefined: no non-blank node there). */
export interface ChunkKeys {
  readonly subtrees: ReadonlyArray<string | undefined>;
  readonly spine: string | undefined;
}

/**
 * The chunk keys a manifest names (its subtree slots', then the spine's), none for an epoch
 * without chunks (a manifest of before format 3).
 *
 * @example
 * ```ts
 * for (const key of chunkKeysOf(meta.chunks)) addRef(counts, key)
 * ```
 */
export const chunkKeysOf = (chunks: ChunkKeys | undefined): string[] => (chunks === undefined ? [] : [...chunks.subtrees, chunks.spine].filter((k): k is string => k !== undefined));

/** True if node `index` belongs to the spine slot. @example `isSpine(63) // true` */
export const isSpine = (index: number): boolean => index % RATCHET_CHUNK_SPAN === RATCHET_CHUNK_SPAN - 1;
/** Subtree slots of a tree of `length` nodes. @example `subtreeSlots(1999) // 32` */
export const subtreeSlots = (length: number): number => Math.ceil(length / RATCHET_CHUNK_SPAN);

/** True if subtree slot `slot` of a tree of `length` nodes is complete (its 63 positions lie in the tree). @example `completeSlot(0, 63) // true` */
export const completeSlot = (slot: number, length: number): boolean => slot * RATCHET_CHUNK_SPAN + SLOT_POSITIONS <= length;

/**
 * One chunk: format byte, then the index and encoding of each non-blank node, in order; with
 * `hashes` (a complete subtree slot's 63 position hashes, in index order, all of one length), the
 * hash length and the hashes after them ({@link HASHED_CHUNK_FORMAT}), else none
 * ({@link INLINE_CHUNK_FORMAT}). Returns the bytes and their content key (SHA-256, 16 bytes hex).
 *
 * @example
 * ```ts
 * const { key, bytes } = encodeChunk([[0, encodeNode(leaf0)], [2, encodeNode(leaf1)]])
 * ```
 */
export function encodeChunk(entries: ReadonlyArray<readonly [number, Uint8Array]>, hashes?: readonly Uint8Array[]): { key: string; bytes: Uint8Array } {
  let size = 5;
  for (const [, node] of entries) size += 8 + node.length;
  if (hashes !== undefined) size += 1 + SLOT_POSITIONS * (hashes[0]?.length ?? 0);
  const w = new Sink(size);
  w.u8(hashes === undefined ? INLINE_CHUNK_FORMAT : HASHED_CHUNK_FORMAT).u32(entries.length);
  for (const [index, node] of entries) w.u32(index).bytes(node);
  if (hashes !== undefined) {
    const hashLength = hashes[0]?.length ?? 0;
    if (hashes.length !== SLOT_POSITIONS || hashLength === 0 || hashLength > MAX_TREE_HASH_SIZE || hashes.some((h) => h.length !== hashLength)) {
      throw new InternalError(ErrorCode.Internal, `a hashed chunk takes ${SLOT_POSITIONS} hashes of one length`);
    }
    w.u8(hashLength);
    for (const hash of hashes) w.raw(hash);
  }
  const bytes = w.finish();
  return { key: contentKey(bytes), bytes };
}

/**
 * One decoded chunk entry: a node index and the node's encoding (a view into the chunk; formats
 * 6 and 7), or the content key of its `n/` part (a chunk of formats 3 to 5).
 */
export type ChunkEntry = readonly [index: number, node: Uint8Array | string];

/** A decoded chunk: its entries and, for a hashed chunk, its slot's 63 position hashes (views into it). */
export interface DecodedChunk {
  readonly entries: ChunkEntry[];
  readonly hashes: Uint8Array[] | undefined;
}

/**
 * Decodes a chunk of slot `slot` (`"spine"` or a subtree slot) of a tree of `length` nodes, of
 * any format: {@link decodeSlotChunk}, then {@link checkChunkFits}. Throws only DecodeError.
 *
 * @example
 * ```ts
 * for (const [index, node] of decodeChunk(bytes, 3, 1999).entries) ...
 * ```
 */
export function decodeChunk(bytes: Uint8Array, slot: number | "spine", length: number): DecodedChunk {
  const chunk = decodeSlotChunk(bytes, slot);
  checkChunkFits(chunk, slot, length);
  return chunk;
}

/**
 * Decodes a chunk of slot `slot` for a tree of any length (a stored chunk can serve retained
 * epochs of several lengths: {@link checkChunkFits} per epoch): every index must lie in that
 * slot, in increasing order; hashes never in the spine's chunk, 63 of them, of 1 to 64 bytes.
 * Throws only DecodeError.
 *
 * @example
 * ```ts
 * const chunk = decodeSlotChunk(bytes, 3); checkChunkFits(chunk, 3, 1999)
 * ```
 */
export function decodeSlotChunk(bytes: Uint8Array, slot: number | "spine"): DecodedChunk {
  return decodeWith(bytes, "ratchet tree chunk", (r) => {
    const format = r.u8();
    if (format !== HASHED_CHUNK_FORMAT && format !== INLINE_CHUNK_FORMAT && format !== STATE_PART_FORMAT) throw new DecodeError("ratchet tree chunk: unknown format");
    const entries: ChunkEntry[] = [];
    let last = -1;
    for (let n = r.u32(); n > 0; n--) {
      const index = r.u32();
      const inSlot = slot === "spine" ? isSpine(index) : !isSpine(index) && Math.floor(index / RATCHET_CHUNK_SPAN) === slot;
      if (index <= last || !inSlot) throw new DecodeError("ratchet tree chunk: node index out of its slot, order or range");
      entries.push([index, format === STATE_PART_FORMAT ? Buffer.from(r.raw(CONTENT_KEY_BYTES)).toString("hex") : r.raw(r.u32())]);
      last = index;
    }
    if (format !== HASHED_CHUNK_FORMAT) return { entries, hashes: undefined };
    if (slot === "spine") throw new DecodeError("ratchet tree chunk: hashes outside a complete subtree slot");
    const hashLength = r.u8();
    if (hashLength === 0 || hashLength > MAX_TREE_HASH_SIZE) throw new DecodeError("ratchet tree chunk: bad hash length");
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < SLOT_POSITIONS; i++) hashes.push(r.raw(hashLength));
    return { entries, hashes };
  });
}

/**
 * Throws DecodeError unless a chunk of slot `slot` ({@link decodeSlotChunk}) fits a tree of
 * `length` nodes: its indices lie in the tree (they increase, so the last decides) and, if it
 * holds hashes, its slot is complete there. O(1).
 *
 * @example
 * ```ts
 * checkChunkFits(chunk, 3, 1999)
 * ```
 */
export function checkChunkFits(chunk: DecodedChunk, slot: number | "spine", length: number): void {
  const last = chunk.entries.at(-1);
  if (last !== undefined && last[0] >= length) throw new DecodeError("ratchet tree chunk: node index out of its slot, order or range");
  if (chunk.hashes !== undefined && (slot === "spine" || !completeSlot(slot, length))) throw new DecodeError("ratchet tree chunk: hashes outside a complete subtree slot");
}

function writeKey(w: Sink, key: string | undefined): void {
  if (key === undefined) w.u8(0);
  else w.u8(1).raw(Buffer.from(key, "hex"));
}

/**
 * An epoch's chunked manifest: format byte, tree length, each subtree slot's chunk key and
 * the spine's (a flag byte, then 16 bytes when present).
 *
 * @example
 * ```ts
 * const bytes = encodeChunkManifest(mls.ratchetTree.length, chunks)
 * ```
 */
export function encodeChunkManifest(length: number, chunks: ChunkKeys): Uint8Array {
  const w = new Sink(16 + (chunks.subtrees.length + 1) * (1 + CONTENT_KEY_BYTES));
  w.u8(STATE_PART_FORMAT).u32(length);
  for (const key of chunks.subtrees) writeKey(w, key);
  writeKey(w, chunks.spine);
  return w.finish();
}

/**
 * Decodes {@link encodeChunkManifest}; the slot count follows from the length. Throws only
 * DecodeError.
 *
 * @example
 * ```ts
 * const { length, chunks } = decodeChunkManifest(bytes)
 * ```
 */
export function decodeChunkManifest(bytes: Uint8Array): { length: number; chunks: ChunkKeys } {
  return decodeWith(bytes, "ratchet tree manifest", (r) => {
    if (r.u8() !== STATE_PART_FORMAT) throw new DecodeError("ratchet tree manifest: unknown format");
    const length = r.u32();
    if (length > MAX_RATCHET_TREE_NODES) throw new DecodeError(`stored MLS state: ratchet tree of ${length} nodes (at most ${MAX_RATCHET_TREE_NODES})`);
    const readKey = (): string | undefined => {
      const flag = r.u8();
      if (flag === 0) return undefined;
      if (flag !== 1) throw new DecodeError("ratchet tree manifest: bad chunk flag");
      const key = r.raw(CONTENT_KEY_BYTES);
      // hex of a view: no copy first, and not bytes.ts toHex, whose staging per key was ~0.1 ms of a 1000-member load's ~300 keys
      return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("hex");
    };
    const subtrees: Array<string | undefined> = [];
    for (let s = subtreeSlots(length); s > 0; s--) subtrees.push(readKey());
    return { length, chunks: { subtrees, spine: readKey() } };
  });
}
