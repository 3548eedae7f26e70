/**
 * The materialisation index's leaf map stored in chunks (storage format 4, src/materialise/leafMap.ts)
 * over a random history of adds, removes (middle leaves, and tails that truncate the tree across
 * chunk boundaries), updates, two commits chained in one drain and refused commits: after every
 * drain the stored head and chunks read back equal to the whole-record computation
 * (`applyMembershipChange` on the full leaf array), the history records name the same members,
 * no chunk lies past the end, and an update commit writes no chunk. Also from a whole record of
 * before format 4, which the next write splits. `LEAF_SEED` / `LEAF_STEPS` for longer runs.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { INDEX_LEAF_CHUNK } from "../src/constants.js";
import { secretGroupDocument } from "../src/documents/system.js";
import { generateIdentity } from "../src/identity.js";
import { decodeGroupIndexValue, encodeGroupIndexRecord } from "../src/materialise/chainRecords.js";
import type { GroupIndexRecord } from "../src/materialise/chainRecords.js";
import { indexGroup } from "../src/materialise/commits.js";
import { readGroupIndex } from "../src/materialise/leafMap.js";
import { applyMembershipChange } from "../src/materialise/membership.js";
import type { MembershipChange } from "../src/materialise/membership.js";
import { encodePendingRecord } from "../src/materialise/pendingRecord.js";
import type { Member } from "../src/materialise/records.js";
import { drain, loadGroup, Work } from "../src/materialise/replay.js";
import { Keys, readValue, scanPrefix } from "../src/materialise/store.js";
import type { IndexOp } from "../src/materialise/store.js";
import { openTempIndex } from "./materialise-support.js";
import type { TempIndex } from "./materialise-support.js";

const SEED = Number(process.env.LEAF_SEED ?? 7);
const STEPS = Number(process.env.LEAF_STEPS ?? 160);

function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/** Bytes as hex, so Buffers read from LevelDB compare with the model's Uint8Arrays. */
const norm = (v: unknown): unknown =>
  v instanceof Uint8Array ? Buffer.from(v).toString("hex") : Array.isArray(v) ? v.map(norm) : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)])) : v;

interface Model {
  leaves: Array<Member | undefined>;
  head?: Uint8Array;
  nextEpoch: bigint;
  count: bigint;
}

async function run(idx: TempIndex, seed: number, wholeAt: ReadonlySet<number>): Promise<{ updates: number; truncations: number; deepTruncations: number; refusals: number }> {
  const rnd = prng(seed);
  const owner = generateIdentity();
  const groupDoc = secretGroupDocument(owner, { ciphersuite: "PANDA10_AES256GCM" });
  const gid = groupDoc.id;
  await idx.apply((await indexGroup(idx.reader, groupDoc)).ops);
  const model: Model = { leaves: [{ publicKey: owner.publicKey }], nextEpoch: 0n, count: 0n };
  const stats = { updates: 0, truncations: 0, deepTruncations: 0, refusals: 0 };

  // set after a commit that blanked the tail of the chunk before the last: the next one removes every member of the last chunk
  let truncateNext = false;
  const randomChange = (leaves: ReadonlyArray<Member | undefined>, bad: boolean): MembershipChange => {
    const occupied = leaves.map((m, i) => (m !== undefined && i > 0 ? i : -1)).filter((i) => i > 0);
    const lastChunk = (Math.ceil(leaves.length / INDEX_LEAF_CHUNK) - 1) * INDEX_LEAF_CHUNK;
    const kind = rnd(10);
    const removedLeaves: number[] = [];
    const addedPublicKeys: Uint8Array[] = [];
    const change = (): MembershipChange => ({ refs: [], addedPublicKeys, removedLeaves, senderLeaf: 0 });
    if (bad) {
      removedLeaves.push(leaves.length + rnd(5)); // a blank or unknown leaf: refused
      return change();
    }
    if (truncateNext && lastChunk > 0) {
      // every member of the last chunk: the tree shrinks past the blank tail of the chunk before, which only the truncation reads
      truncateNext = false;
      removedLeaves.push(...occupied.filter((i) => i >= lastChunk));
      return change();
    }
    if (kind < 3 || occupied.length === 0) for (let i = 1 + rnd(occupied.length < 250 ? 40 : 8); i > 0; i--) addedPublicKeys.push(randomBytes(32));
    else if (kind < 7) {
      // middle leaves; a contiguous tail; or the tail of the chunk before the last (then the truncation above)
      const mode = rnd(4);
      truncateNext = mode === 1 && lastChunk > INDEX_LEAF_CHUNK;
      const picks = mode === 0 ? occupied.slice(-1 - rnd(Math.min(occupied.length, 80))) : mode === 1 ? occupied.filter((i) => i >= lastChunk - 16 && i < lastChunk) : occupied.filter(() => rnd(occupied.length) < 3);
      removedLeaves.push(...new Set(picks.length === 0 ? [occupied[0] as number] : picks));
      if (!truncateNext && rnd(3) === 0) for (let i = 1 + rnd(4); i > 0; i--) addedPublicKeys.push(randomBytes(32));
    }
    return change();
  };

  for (let step = 0; step < STEPS; step++) {
    if (wholeAt.has(step)) {
      // the store as format 3 left it: one whole record, no chunks
      const chunks = await scanPrefix(idx.reader, Keys.leafChunkPrefix(gid));
      const whole: GroupIndexRecord = { owner: owner.publicKey, ...(model.head === undefined ? {} : { head: model.head }), nextEpoch: model.nextEpoch, count: model.count, leaves: model.leaves };
      await idx.apply([...chunks.map(([key]): IndexOp => ({ type: "del", key })), { type: "put", key: Keys.group(gid), value: encodeGroupIndexRecord(whole) }]);
    }
    const bad = rnd(12) === 0;
    const chained = !bad && rnd(4) === 0 ? 2 : 1;
    const puts: IndexOp[] = [];
    const expected: Array<{ added: unknown; removed: unknown }> = [];
    let leaves = model.leaves;
    let head = model.head;
    let epoch = model.nextEpoch;
    for (let k = 0; k < chained; k++) {
      const change = randomChange(leaves, bad);
      const cid = randomBytes(32);
      puts.push({
        type: "put",
        key: Keys.pending(gid, head, cid),
        value: encodePendingRecord({ author: owner.publicKey, ...(head === undefined ? {} : { previousCommit: head }), mlsEpoch: epoch, welcome: false, senderLeaf: 0, refs: [], addedPublicKeys: change.addedPublicKeys, removedLeaves: change.removedLeaves }),
      });
      const applied = applyMembershipChange(leaves, owner.publicKey, change, change.addedPublicKeys.map((publicKey) => ({ publicKey })));
      if (typeof applied === "string") {
        assert.ok(bad, `step ${step}: the model refused ${applied}`);
        stats.refusals++;
        break;
      }
      if (change.addedPublicKeys.length === 0 && change.removedLeaves.length === 0) stats.updates++;
      // past a blank leaf that ends the chunk before the last: that chunk is read only for the truncation
      const lastStart = (Math.ceil(leaves.length / INDEX_LEAF_CHUNK) - 1) * INDEX_LEAF_CHUNK;
      if (lastStart > INDEX_LEAF_CHUNK && applied.leaves.length < lastStart && leaves[lastStart - 1] === undefined && change.removedLeaves.every((i) => i >= lastStart)) stats.deepTruncations++;
      if (applied.leaves.length < leaves.length && Math.ceil(applied.leaves.length / INDEX_LEAF_CHUNK) < Math.ceil(leaves.length / INDEX_LEAF_CHUNK)) stats.truncations++;
      expected.push({ added: applied.added, removed: applied.removed });
      leaves = applied.leaves.slice();
      head = cid;
      epoch++;
    }
    // the later commit first, so one drain chains both
    await idx.apply([...puts].reverse());
    const wasWhole = "whole" in decodeGroupIndexValue((await readValue(idx.reader, Keys.group(gid))) as Uint8Array);
    const work = new Work();
    const before = await loadGroup(idx.reader, gid, work);
    const after = await drain(idx.reader, gid, before, work);
    const ops = work.finish(after === before ? undefined : after, gid);
    assert.deepEqual(
      norm(work.indexed.map((r) => ({ added: r.added, removed: r.removed }))),
      norm(expected),
      `step ${step}: history records`,
    );
    if (chained === 1 && expected.length === 1 && (expected[0]?.added as unknown[]).length === 0 && (expected[0]?.removed as unknown[]).length === 0 && !wasWhole) {
      assert.deepEqual(ops.filter((op) => op.key.startsWith("l/")), [], `step ${step}: an update commit writes no leaf chunk`);
    }
    await idx.apply(ops);
    if (!bad) {
      model.leaves = leaves;
      model.head = head;
      model.nextEpoch = epoch;
      model.count += BigInt(expected.length);
    } else assert.equal(work.refused.length, 1, `step ${step}: refused`);
    const stored = await readGroupIndex(idx.reader, gid);
    assert.deepEqual(norm(stored), norm({ owner: owner.publicKey, ...(model.head === undefined ? {} : { head: model.head }), nextEpoch: model.nextEpoch, count: model.count, leaves: model.leaves }), `step ${step}`);
    const chunkKeys = (await scanPrefix(idx.reader, Keys.leafChunkPrefix(gid))).map(([k]) => k);
    const wantKeys = Array.from({ length: Math.ceil(model.leaves.length / INDEX_LEAF_CHUNK) }, (_, c) => Keys.leafChunk(gid, c));
    if (!(bad && wasWhole)) assert.deepEqual(chunkKeys, wantKeys, `step ${step}: one chunk per ${INDEX_LEAF_CHUNK} leaves, none past the end`);
  }
  return stats;
}

test("chunked leaf map: a random history reads back equal to the whole-record replay", async () => {
  const idx = await openTempIndex();
  try {
    const stats = await run(idx, SEED, new Set());
    // the history reached what it is meant to cover
    assert.ok(stats.updates > 5 && stats.truncations > 2 && stats.deepTruncations > 1 && stats.refusals > 2, JSON.stringify(stats));
  } finally {
    await idx.close();
  }
});

test("chunked leaf map: a whole record of before format 4 is read, then split by the next write", async () => {
  const idx = await openTempIndex();
  try {
    await run(idx, SEED + 1, new Set([20, 21, 60]));
  } finally {
    await idx.close();
  }
});
