/**
 * A group's leaf map as stored since storage format 4: a small head record (`g/<gid>`) and the
 * leaves in chunks of {@link INDEX_LEAF_CHUNK} (`l/<gid>/<chunk>`). The replay reads only the
 * chunks a commit needs (the sender's leaf; removed leaves and the tail a remove may truncate; every
 * chunk for an add, which takes the first blank leaves) and writes back only the chunks whose
 * leaves changed, so an update commit at 1000 members rewrites a hundred bytes instead of every
 * member. Leaves not read yet hold the {@link UNLOADED} marker, which never reaches a record: a
 * chunk to write that still holds one is an internal error. A whole record of before format 4 is
 * read as it is and split on the group's next write.
 *
 * @module
 */
import { INDEX_LEAF_CHUNK } from "../constants.js";
import { DecodeError } from "../errors.js";
import { decodeGroupIndexValue, decodeLeafChunk, encodeGroupIndexHead, encodeLeafChunk } from "./chainRecords.js";
import type { GroupIndexRecord } from "./chainRecords.js";
import type { Member } from "./records.js";
import { Keys, readValue, scanPrefix } from "./store.js";
import type { IndexOp, IndexReader } from "./store.js";

/** Marker of a leaf whose chunk was not read (never stored, never compared as a member). */
const UNLOADED: Member = Object.freeze({ ref: new Uint8Array(0) });

/** What a commit needs to see of the leaf map before it is replayed. @example `{ senderLeaf: 0, removedLeaves: [], adds: 0 }` */
export interface LeafNeeds {
  readonly senderLeaf: number;
  readonly removedLeaves: readonly number[];
  readonly adds: number;
}

const chunkCount = (length: number): number => Math.ceil(length / INDEX_LEAF_CHUNK);

/**
 * The stored leaf map of one group during one index call: what was read, to load more on demand
 * and to tell which chunks a new leaf map changed.
 *
 * @example
 * ```ts
 * const { record, leaves } = await LeafMap.load(reader, gid); await leaves.prepare(record.leaves, needs); ops.push(...leaves.ops(after))
 * ```
 */
export class LeafMap {
  private readonly loaded = new Set<number>();

  private constructor(
    private readonly reader: IndexReader,
    private readonly gid: Uint8Array,
    /** The leaves as stored, {@link UNLOADED} where not read. */
    private readonly original: Array<Member | undefined>,
    /** Read from a whole record of before format 4: every chunk is written on the next write. */
    private readonly whole: boolean,
  ) {}

  /** The group's replay state (empty when unknown), leaves not read yet as markers. @example `await LeafMap.load(reader, gid)` */
  static async load(reader: IndexReader, gid: Uint8Array): Promise<{ record: GroupIndexRecord; leaves: LeafMap }> {
    const bytes = await readValue(reader, Keys.group(gid));
    if (bytes === undefined) return { record: { nextEpoch: 0n, count: 0n, leaves: [] }, leaves: new LeafMap(reader, gid, [], false) };
    const value = decodeGroupIndexValue(bytes);
    if ("whole" in value) {
      const map = new LeafMap(reader, gid, value.whole.leaves.slice(), true);
      for (let c = 0; c < chunkCount(map.original.length); c++) map.loaded.add(c);
      return { record: { ...value.whole, leaves: map.original.slice() }, leaves: map };
    }
    const { leafCount, ...head } = value.split;
    const original = new Array<Member | undefined>(leafCount).fill(UNLOADED);
    return { record: { ...head, leaves: original.slice() }, leaves: new LeafMap(reader, gid, original, false) };
  }

  /** Reads chunk `c` (once) into the stored image and into `leaves` where it still holds markers. */
  private async loadChunk(c: number, leaves: Array<Member | undefined>): Promise<void> {
    if (!this.loaded.has(c)) {
      this.loaded.add(c);
      const bytes = await readValue(this.reader, Keys.leafChunk(this.gid, c));
      const stored = bytes === undefined ? [] : decodeLeafChunk(bytes);
      const start = c * INDEX_LEAF_CHUNK;
      const end = Math.min(this.original.length, start + INDEX_LEAF_CHUNK);
      if (end - start > stored.length) throw new DecodeError(`leaf chunk ${c}: ${stored.length} leaves, ${end - start} expected`);
      for (let i = start; i < end; i++) this.original[i] = stored[i - start];
    }
    const start = c * INDEX_LEAF_CHUNK;
    for (let i = start, end = Math.min(leaves.length, start + INDEX_LEAF_CHUNK); i < end; i++) {
      if (leaves[i] === UNLOADED) leaves[i] = this.original[i];
    }
  }

  /**
   * Reads what replaying a commit on `leaves` looks at (filled in place): the sender's leaf, the
   * removed ones and, for a remove, the tail down to a leaf that stays occupied (trailing blank
   * leaves are truncated); every chunk for an add.
   *
   * @example
   * ```ts
   * await leaves.prepare(state.leaves, { senderLeaf: 0, removedLeaves: [3], adds: 0 })
   * ```
   */
  async prepare(current: ReadonlyArray<Member | undefined>, needs: LeafNeeds): Promise<void> {
    // the replay state's leaves are arrays this module made (load) or the replay copied (applyMembershipChange)
    const leaves = current as Array<Member | undefined>;
    const chunks = chunkCount(leaves.length);
    if (needs.adds > 0) {
      for (let c = 0; c < chunks; c++) await this.loadChunk(c, leaves);
      return;
    }
    if (needs.senderLeaf >= 0 && needs.senderLeaf < leaves.length) await this.loadChunk(Math.floor(needs.senderLeaf / INDEX_LEAF_CHUNK), leaves);
    if (needs.removedLeaves.length === 0) return;
    const removed = new Set(needs.removedLeaves);
    for (const leaf of removed) if (leaf < leaves.length) await this.loadChunk(Math.floor(leaf / INDEX_LEAF_CHUNK), leaves);
    for (let c = chunks - 1; c >= 0; c--) {
      await this.loadChunk(c, leaves);
      let stays = false;
      for (let i = c * INDEX_LEAF_CHUNK, end = Math.min(leaves.length, i + INDEX_LEAF_CHUNK); i < end && !stays; i++) stays = leaves[i] !== undefined && !removed.has(i);
      if (stays) return;
    }
  }

  /**
   * The writes that store `state`: its head, the chunks whose leaves differ from what was read
   * (all of them after a whole record of before), deletes of chunks past its end.
   *
   * @example
   * ```ts
   * ops.push(...leaves.ops(after))
   * ```
   */
  ops(state: GroupIndexRecord): IndexOp[] {
    const next = state.leaves;
    const out: IndexOp[] = [];
    for (let c = 0; c < chunkCount(next.length); c++) {
      const start = c * INDEX_LEAF_CHUNK;
      const end = Math.min(next.length, start + INDEX_LEAF_CHUNK);
      let dirty = this.whole || end !== Math.min(this.original.length, start + INDEX_LEAF_CHUNK);
      for (let i = start; i < end && !dirty; i++) dirty = next[i] !== this.original[i];
      if (!dirty) continue;
      const chunk = next.slice(start, end);
      if (chunk.includes(UNLOADED)) throw new Error(`leaf chunk ${c} changed without being read`);
      out.push({ type: "put", key: Keys.leafChunk(this.gid, c), value: encodeLeafChunk(chunk) });
    }
    for (let c = chunkCount(next.length); c < chunkCount(this.original.length); c++) out.push({ type: "del", key: Keys.leafChunk(this.gid, c) });
    const { leaves: _, ...head } = state;
    out.push({ type: "put", key: Keys.group(this.gid), value: encodeGroupIndexHead({ ...head, leafCount: next.length }) });
    return out;
  }
}

/**
 * A group's whole stored leaf map (for queries): from its chunks, or from a whole record of before
 * format 4; undefined when the index knows nothing of the group.
 *
 * @example
 * ```ts
 * const rec = await readGroupIndex(reader, gid); rec?.leaves.length
 * ```
 */
export async function readGroupIndex(reader: IndexReader, gid: Uint8Array): Promise<GroupIndexRecord | undefined> {
  const bytes = await readValue(reader, Keys.group(gid));
  if (bytes === undefined) return undefined;
  const value = decodeGroupIndexValue(bytes);
  if ("whole" in value) return value.whole;
  const { leafCount, ...head } = value.split;
  const leaves = new Array<Member | undefined>(leafCount).fill(UNLOADED);
  const prefix = Keys.leafChunkPrefix(gid);
  for (const [key, chunkBytes] of await scanPrefix(reader, prefix)) {
    const c = parseInt(key.slice(prefix.length), 16);
    const stored = decodeLeafChunk(chunkBytes);
    for (let i = 0; i < stored.length && c * INDEX_LEAF_CHUNK + i < leafCount; i++) leaves[c * INDEX_LEAF_CHUNK + i] = stored[i];
  }
  if (leaves.includes(UNLOADED)) throw new DecodeError("group index: a leaf chunk is missing");
  return { ...head, leaves };
}
