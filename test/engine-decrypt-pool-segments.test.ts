/**
 * The segments of bulk long-term decryption (src/engine/poolDecrypt.ts packs them, the worker
 * writes each segment's small plaintexts into a buffer of their own, src/engine/poolOutput.ts
 * hands them out) and the pool's failure path: best fit of the packing buffers, the bounds of a
 * value and a segment, every packed segment kept for packing (none holding a plaintext), the guards on a
 * worker's answer, a failed chunk (no plaintext kept, no chunk started after it, the job settled
 * only after the chunks still running), a worker refusing the keys (its segments kept for packing).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { toHex } from "../src/bytes.js";
import { LTS_TAG_SIZE } from "../src/constants/protocol.js";
import { POOL_CHUNK_BYTES, POOL_OUTPUT_SEGMENT_BYTES, POOL_OWN_BUFFER_BYTES } from "../src/constants.js";
import { ErrorCode, InternalError } from "../src/errors.js";
import { createGroup, encrypt } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { peekAll } from "../src/engine/decrypt.js";
import { emptyStats } from "../src/engine/context.js";
import type { EngineContext } from "../src/engine/context.js";
import { mainShareStart } from "../src/engine/mainDecrypt.js";
import { giveBack, packChunk, spareBuffers, takeBuffer } from "../src/engine/packBuffers.js";
import { handOut } from "../src/engine/poolOutput.js";
import { emptyGroupRecord } from "../src/engine/store/records.js";
import { executeStep } from "../src/engine/steps.js";
import type { DecryptItem, GroupJob } from "../src/engine/jobs.js";
import { LAYOUT_STRIDE } from "../src/engine/worker/longTerm.js";
import { nativeAead } from "../src/nativeAead.js";
import { holdsRun, plaintextsAlone, recordingPool } from "./pool-support.js";

const isWorkerFailed = (message: RegExp) => (e: unknown): boolean => e instanceof InternalError && e.code === ErrorCode.WorkerFailed && message.test(e.message);

test("a segment takes the smallest kept packing buffer that fits", () => {
  const small = new ArrayBuffer(777);
  const medium = new ArrayBuffer(2000);
  const large = new ArrayBuffer(3 * 1024 * 1024);
  giveBack(small);
  giveBack(large);
  giveBack(medium); // the most recent: a segment that took the last fitting buffer would take it
  assert.equal(takeBuffer(700), small);
  assert.equal(takeBuffer(700), medium, "the smallest left that fits");
  assert.equal(takeBuffer(2 * 1024 * 1024), large);
});

test("handOut refuses a worker's answer that does not fit the chunk's layout", () => {
  const length = 100;
  const layout = new Uint32Array(LAYOUT_STRIDE);
  layout[2] = length + LTS_TAG_SIZE;
  const ends = Uint32Array.of(1);
  const buffers = (count: number, bytes: number) => new Array(count).fill(0).map(() => new ArrayBuffer(bytes));
  const answer = (bytes: number, segments = 1) => ({ segments: buffers(segments, 200), held: new Array<boolean>(segments).fill(false), outputs: buffers(segments, bytes), large: [] as Array<[number, ArrayBuffer]>, failures: [] });
  const open = (bytes: number, segments = 1): void => {
    const out = answer(bytes, segments);
    out.large.push([5, new ArrayBuffer(POOL_OWN_BUFFER_BYTES)]); // a large plaintext of no item of the layout
    for (const b of [...out.outputs, ...out.large.map(([, b]) => b)]) new Uint8Array(b).fill(7); // plaintext bytes, say
    try {
      handOut(out, layout, ends, [0], []);
    } finally {
      for (const b of [...out.outputs, ...out.large.map(([, b]) => b)]) assert.ok(new Uint8Array(b).every((x) => x === 0), "a refused answer is zeroed");
    }
  };
  assert.throws(() => open(length - 1), isWorkerFailed(/too few plaintext bytes/));
  assert.throws(() => open(length + 1), isWorkerFailed(/more plaintext bytes than its values/));
  assert.throws(() => open(length, 2), isWorkerFailed(/other segments than it was sent/));
  const results: Array<Uint8Array | Error> = [];
  handOut(answer(length), layout, ends, [0], results);
  assert.equal((results[0] as Uint8Array).length, length, "the answer that fits is handed out");
});

test("handOut takes a large plaintext opened in place from where its ciphertext was packed, and refuses a segment too short for it", () => {
  const length = POOL_OWN_BUFFER_BYTES;
  const ctAt = 40;
  const layout = new Uint32Array(LAYOUT_STRIDE);
  layout[1] = ctAt;
  layout[2] = length + LTS_TAG_SIZE;
  const ends = Uint32Array.of(1);
  const answer = (segmentBytes: number) => {
    const segment = new ArrayBuffer(segmentBytes);
    new Uint8Array(segment).fill(7, ctAt, Math.min(segmentBytes, ctAt + length)); // the plaintext, say
    return { segments: [segment], held: [true], outputs: [new ArrayBuffer(0)], large: [] as Array<[number, ArrayBuffer]>, failures: [] };
  };
  const short = answer(ctAt + length - 1);
  assert.throws(() => handOut(short, layout, ends, [0], []), isWorkerFailed(/no plaintext/));
  assert.ok(new Uint8Array(short.segments[0]!).every((b) => b === 0), "a refused segment is zeroed");
  const kept = new Set(spareBuffers());
  const fits = answer(ctAt + length + LTS_TAG_SIZE);
  const results: Array<Uint8Array | Error> = [];
  handOut(fits, layout, ends, [0], results);
  const view = results[0] as Uint8Array;
  assert.equal(view.buffer, fits.segments[0], "a view into the segment, no copy");
  assert.deepEqual([view.byteOffset, view.length], [ctAt, length]);
  assert.ok(spareBuffers().every((b) => kept.has(b)), "a segment handed out is no packing buffer");
});

/** A group and one decrypt step of `items` on `pool` (no store): its result (a promise for a pool batch). */
async function step(state: GroupState, items: DecryptItem[], pool: EngineContext["pool"], engineId: string): Promise<{ result: Promise<Array<Uint8Array | Error>>; stats: EngineContext["stats"] }> {
  const token = new Uint8Array(16).fill(9);
  const record = { ...emptyGroupRecord(), status: "member" as const, owner: state.owner, ltsEpoch: 0n, mlsEpoch: state.mlsEpoch, stateToken: token };
  const ctx = { store: {}, pool, engineId, stats: emptyStats(), bulkDecrypt: "pool" } as unknown as EngineContext;
  const job: GroupJob = { kind: "decrypt", decrypt: { items }, reply: { resolve() {}, reject() {} } };
  const out = await executeStep(ctx, { groupId: toHex(state.groupId), job, step: 0, record, counter: 0n, secrets: { token: toHex(token), secrets: state.secrets } });
  return { result: Promise.resolve(out.result as Array<Uint8Array | Error> | Promise<Array<Uint8Array | Error>>), stats: ctx.stats };
}

async function sealed(state: GroupState, sizes: readonly number[]): Promise<{ plaintexts: Uint8Array[]; items: DecryptItem[] }> {
  const plaintexts = sizes.map((n, i) => new Uint8Array(n).fill(1 + (i % 250)));
  const messages = await Promise.all(plaintexts.map(async (p) => (await encrypt(state, p, { scheme: "long-term" })).message));
  const items = peekAll(messages).byGroup.get(toHex(state.groupId))?.items ?? [];
  assert.equal(mainShareStart(items, items.map((_, i) => i)), items.length, "all in the pool");
  return { plaintexts, items };
}

const newGroup = (): Promise<GroupState> => createGroup({ identity: generateIdentity(), groupId: new Uint8Array(32).fill(5), ciphersuite: "PANDA10_AES256GCM" });

test("the bounds: a value of one byte less than its own buffer goes back in its segment, a segment stays within its bound", async () => {
  const state = await newGroup();
  const sizes = [...new Array<number>(64).fill(4096), ...new Array<number>(8).fill(POOL_OWN_BUFFER_BYTES - 1)];
  const { plaintexts, items } = await sealed(state, sizes);
  const { pool } = recordingPool(1);
  try {
    const { result, stats } = await step(state, items, pool, "e-segment-bounds");
    const results = await result;
    assert.equal(stats.poolDecrypts, items.length);
    results.forEach((r, i) => assert.deepEqual(r, plaintexts[i], `value ${i}`));
    plaintextsAlone(results);
    const segments = new Map<ArrayBufferLike, number>();
    for (const r of results as Uint8Array[]) segments.set(r.buffer, (segments.get(r.buffer) ?? 0) + r.length);
    for (const buffer of segments.keys()) assert.ok(buffer.byteLength <= POOL_OUTPUT_SEGMENT_BYTES, "a segment stays within its bound");
    // 15 values of 4 KiB fill a segment (4,172 packed bytes each); the fifth takes the last 4 and
    // 5 of 8191 bytes (8,267 packed), the sixth the last 3
    const big = POOL_OWN_BUFFER_BYTES - 1;
    assert.deepEqual([...segments.values()], [15 * 4096, 15 * 4096, 15 * 4096, 15 * 4096, 4 * 4096 + 5 * big, 3 * big]);
  } finally {
    await pool.destroy();
  }
});

test("packing: a segment that will hold small plaintexts stays within its bound, a run of large values shares one unless opened in place", async () => {
  const state = await newGroup();
  const big = POOL_OWN_BUFFER_BYTES + 1;
  const { items } = await sealed(state, [...new Array<number>(3).fill(4096), ...new Array<number>(40).fill(big), ...new Array<number>(20).fill(4096)]);
  const pack = (from: number, to: number, inPlace = false) => {
    const which = items.map((_, k) => k).slice(from, to);
    const sizes: number[] = [];
    const out: boolean[] = [];
    const { segments, ends } = packChunk(items, which, which.map(() => 0), (size, handedOut) => {
      sizes.push(size);
      out.push(handedOut);
      return new ArrayBuffer(size);
    }, inPlace);
    assert.deepEqual(segments.map((b) => b.byteLength), sizes, "one buffer of its packed bytes per segment");
    return { lengths: sizes, ends: [...ends], out };
  };
  const large = pack(3, 43);
  assert.deepEqual(large.ends, [40], "40 large values: one segment");
  const small = pack(43, 63);
  assert.deepEqual(small.ends, [15, 20], "20 of 4 KiB: 15 fill a segment");
  const mixed = pack(0, 63);
  // 3 small and 6 large fill the first; the large run goes on in one; the small ones after it start another
  assert.deepEqual(mixed.ends, [9, 43, 58, 63]);
  mixed.lengths.forEach((length, s) => assert.ok(s === 1 || length <= POOL_OUTPUT_SEGMENT_BYTES, `segment ${s} of ${length} bytes`));
  assert.ok(mixed.out.every((o) => !o), "opened into buffers of their own: no segment is handed out");
  // opened in place: every segment within its bound, and those holding a large value handed out
  const inPlace = pack(0, 63, true);
  assert.deepEqual(inPlace.ends, [9, 16, 23, 30, 37, 46, 61, 63], "7 large values fill a segment; the last 6 share theirs with 3 small ones");
  inPlace.lengths.forEach((length, s) => assert.ok(length <= POOL_OUTPUT_SEGMENT_BYTES, `segment ${s} of ${length} bytes`));
  assert.deepEqual(inPlace.out, [true, true, true, true, true, true, false, false]);
});

test("every packed segment goes back to the packing buffers but those opened in place, and none holds a plaintext; a value with a large aad comes in a buffer of its plaintext alone", async () => {
  const state = await newGroup();
  // large values only (opened in place with the addon, else in buffers of their own), then small values with a large aad
  const plaintexts = [...new Array<number>(40).fill(POOL_OWN_BUFFER_BYTES + 1), 100, 200].map((n, i) => new Uint8Array(n).fill(1 + i));
  // no run of equal bytes (holdsRun below tells plaintexts by those): the caller's aad stays in its packed segment
  const aad = new Uint8Array(POOL_OUTPUT_SEGMENT_BYTES + 1).map((_, i) => i % 251);
  const messages = await Promise.all(plaintexts.map(async (p, i) => (await encrypt(state, p, { scheme: "long-term", ...(i >= 40 ? { aad } : {}) })).message));
  const items = peekAll(messages.map((message, i) => (i >= 40 ? { message, aad } : message))).byGroup.get(toHex(state.groupId))?.items ?? [];
  const { pool, tasks } = recordingPool(1);
  try {
    const kept = new Set(spareBuffers());
    const { result } = await step(state, items, pool, "e-segment-spare");
    const results = await result;
    results.forEach((r, i) => assert.deepEqual(r, plaintexts[i], `value ${i}`));
    plaintextsAlone(results);
    for (const r of results.slice(40) as Uint8Array[]) assert.equal(r.buffer.byteLength, r.length, "a value with a large aad owns its buffer");
    // with the addon the large values' segments are theirs (7 of 8,283 packed bytes fill one)
    const handedOut = new Set(results.slice(0, 40).map((r) => (r as Uint8Array).buffer));
    assert.equal(handedOut.size, nativeAead === undefined ? 40 : Math.ceil(40 / 7));
    const sent = tasks.reduce((n, t) => n + (t.ends as Uint32Array).length, 0);
    const back = spareBuffers().filter((b) => !kept.has(b));
    assert.equal(back.length, nativeAead === undefined ? sent : sent - handedOut.size, `the ${sent} segments back for packing but those handed out`);
    for (const buffer of spareBuffers()) assert.ok(!holdsRun(new Uint8Array(buffer)), "a kept packing buffer holds no plaintext");
  } finally {
    await pool.destroy();
  }
});

test("a failed chunk: no plaintext kept, no chunk started after it, the job settled after the chunks still running", async () => {
  const state = await newGroup();
  // three chunks on one thread (two lanes): the first fails after its worker wrote its plaintexts
  const count = Math.ceil((2.2 * POOL_CHUNK_BYTES) / 7000);
  const { items } = await sealed(state, new Array<number>(count).fill(7000));
  let pending = 0;
  let failedSegments: readonly ArrayBuffer[] | undefined;
  let failedOutputs: readonly ArrayBuffer[] | undefined;
  const { pool, tasks } = recordingPool(1, undefined, async (answer) => {
    pending++;
    try {
      const value = await answer;
      if (failedSegments === undefined) {
        ({ segments: failedSegments, outputs: failedOutputs } = (value as { value: { segments: readonly ArrayBuffer[]; outputs: readonly ArrayBuffer[] } }).value);
        throw new Error("injected task failure");
      }
      await sleep(150); // the other lane's chunk is still running when the first one fails
      return value;
    } finally {
      pending--;
    }
  });
  try {
    const { result } = await step(state, items, pool, "e-slot-failure");
    const settled = await result.then(
      () => assert.fail("the job should fail"),
      (e: unknown) => ({ e, pending }),
    );
    assert.ok(isWorkerFailed(/injected task failure/)(settled.e), String(settled.e));
    assert.equal(settled.pending, 0, "every running chunk settled before the job");
    await sleep(300); // a lane that kept going would start the third chunk here
    assert.equal(new Set(tasks.map((t) => t.layout)).size, 2, "no chunk started after the failure");
    assert.ok(failedOutputs?.some((b) => holdsRun(new Uint8Array(b))), "the failed chunk's worker made its plaintexts");
    assert.ok(!spareBuffers().some((b) => failedSegments?.includes(b) === true || failedOutputs?.includes(b) === true), "no buffer of the failed chunk is kept");
    for (const buffer of spareBuffers()) assert.ok(!holdsRun(new Uint8Array(buffer)), "a kept packing buffer holds no plaintext");
  } finally {
    await pool.destroy();
  }
});

test("a worker that refuses the keys sent again: a typed WORKER_FAILED", async () => {
  const state = await newGroup();
  const { items } = await sealed(state, new Array<number>(64).fill(100));
  // the keys never reach the worker: it answers a miss, and a miss again
  const { pool, tasks } = recordingPool(1, (t) => ({ ...t, keys: undefined }));
  try {
    const kept = new Set(spareBuffers());
    const { result } = await step(state, items, pool, "e-slot-refused");
    await assert.rejects(result, isWorkerFailed(/refused the long-term keys/));
    assert.equal(tasks.length, 2, "sent once, and again with the keys");
    // a miss opened nothing: its segments (only the caller's bytes) are packing buffers again
    assert.ok(spareBuffers().some((b) => !kept.has(b)), "the refused segments are kept for packing");
    for (const buffer of spareBuffers()) assert.ok(!holdsRun(new Uint8Array(buffer)), "a kept packing buffer holds no plaintext");
  } finally {
    await pool.destroy();
  }
});
