/**
 * The shared output slots of bulk long-term decryption (src/engine/poolSlots.ts) and the pool's
 * failure path (src/engine/poolDecrypt.ts): best fit, the bounds of a value and a segment, the
 * guards on a worker's answer, a failed chunk (its slot zeroed and dropped, no chunk started
 * after it, the job settled only after the chunks still running), a worker refusing the keys.
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
import { giveSlotBack, handOut, spareSlots, takeSlot } from "../src/engine/poolSlots.js";
import type { PoolSlot } from "../src/engine/poolSlots.js";
import { emptyGroupRecord } from "../src/engine/store/records.js";
import { executeStep } from "../src/engine/steps.js";
import type { DecryptItem, GroupJob } from "../src/engine/jobs.js";
import { LAYOUT_STRIDE } from "../src/engine/worker/longTerm.js";
import { recordingPool } from "./pool-support.js";

const slotOf = (bytes: number): PoolSlot => ({ output: new Uint8Array(new SharedArrayBuffer(bytes)) });
const isWorkerFailed = (message: RegExp) => (e: unknown): boolean => e instanceof InternalError && e.code === ErrorCode.WorkerFailed && message.test(e.message);

test("a chunk takes the smallest kept slot that fits: a small chunk leaves the large slot to a large one", () => {
  const small = slotOf(777);
  const large = slotOf(3 * 1024 * 1024);
  giveSlotBack(small);
  giveSlotBack(large); // the most recent: a chunk that took the last fitting slot would take it
  assert.equal(takeSlot(700), small);
  assert.equal(takeSlot(2 * 1024 * 1024), large);
});

test("handOut refuses a worker's answer that does not fit the chunk's layout", () => {
  const length = 100;
  const layout = new Uint32Array(LAYOUT_STRIDE);
  layout[2] = length + LTS_TAG_SIZE;
  const answer = (written: number) => ({ data: new ArrayBuffer(0), written, large: [], failures: [] });
  const open = (written: number, slotBytes: number): void => handOut(answer(written), slotOf(slotBytes), layout, [0], []);
  assert.throws(() => open(length + 1, length), isWorkerFailed(/wrote past the output slot/));
  assert.throws(() => open(length - 1, 2 * length), isWorkerFailed(/too few plaintext bytes/));
  assert.throws(() => open(length + 1, 2 * length), isWorkerFailed(/more plaintext bytes than its values/));
  const results: Array<Uint8Array | Error> = [];
  handOut(answer(length), slotOf(length), layout, [0], results);
  assert.equal((results[0] as Uint8Array).length, length, "the answer that fits is handed out");
});

/** A group and one decrypt step of `items` on `pool` (no store): its result (a promise for a pool batch). */
async function step(state: GroupState, items: DecryptItem[], pool: EngineContext["pool"], engineId: string): Promise<{ result: Promise<Array<Uint8Array | Error>>; stats: EngineContext["stats"] }> {
  const token = new Uint8Array(16).fill(9);
  const record = { ...emptyGroupRecord(), status: "member" as const, owner: state.owner, ltsEpoch: 0n, mlsEpoch: state.mlsEpoch, stateToken: token };
  const ctx = { store: {}, pool, engineId, stats: emptyStats() } as unknown as EngineContext;
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

test("the bounds: a value of one byte less than its own buffer goes through the slot, a segment holds exactly its bound", async () => {
  const state = await newGroup();
  // 64 values of 4 KiB: four segments of exactly the bound; then 8 values of 8191 bytes in a fifth
  const sizes = [...new Array<number>(64).fill(4096), ...new Array<number>(8).fill(POOL_OWN_BUFFER_BYTES - 1)];
  const { plaintexts, items } = await sealed(state, sizes);
  const { pool } = recordingPool(1);
  try {
    const { result, stats } = await step(state, items, pool, "e-slot-bounds");
    const results = await result;
    assert.equal(stats.poolDecrypts, items.length);
    results.forEach((r, i) => assert.deepEqual(r, plaintexts[i], `value ${i}`));
    const segments = new Map<ArrayBufferLike, number>();
    for (const r of results as Uint8Array[]) segments.set(r.buffer, (segments.get(r.buffer) ?? 0) + r.length);
    assert.deepEqual([...segments.values()], [...new Array<number>(4).fill(POOL_OUTPUT_SEGMENT_BYTES), 8 * (POOL_OWN_BUFFER_BYTES - 1)]);
    for (const [buffer, used] of segments) assert.equal(buffer.byteLength, used, "a segment holds its plaintexts and nothing more");
  } finally {
    await pool.destroy();
  }
});

test("a failed chunk: its slot zeroed and never kept, no chunk started after it, the job settled after the chunks still running", async () => {
  const state = await newGroup();
  // three chunks on one thread (two lanes): the first fails after its worker wrote its plaintexts
  const count = Math.ceil((2.2 * POOL_CHUNK_BYTES) / 7000);
  const { items } = await sealed(state, new Array<number>(count).fill(7000));
  let pending = 0;
  let failedOutput: SharedArrayBuffer | undefined;
  let wrote = false;
  const { pool, tasks } = recordingPool(1, undefined, async (answer, task) => {
    pending++;
    try {
      const value = await answer;
      if (failedOutput === undefined) {
        failedOutput = task.output as SharedArrayBuffer;
        wrote = new Uint8Array(failedOutput).some((b) => b !== 0);
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
    assert.ok(failedOutput !== undefined && wrote, "the failed chunk's worker wrote plaintexts to its slot");
    assert.ok(new Uint8Array(failedOutput).every((b) => b === 0), "the failed chunk's slot is zeroed");
    assert.ok(!spareSlots().some((s) => s.output.buffer === failedOutput), "the failed chunk's slot is not kept");
    assert.ok(spareSlots().length > 0, "the chunk that succeeded gave its slot back");
    for (const slot of spareSlots()) assert.ok(slot.output.every((b) => b === 0), "a kept slot is all zero");
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
    const { result } = await step(state, items, pool, "e-slot-refused");
    await assert.rejects(result, isWorkerFailed(/refused the long-term keys/));
    assert.equal(tasks.length, 2, "sent once, and again with the keys");
  } finally {
    await pool.destroy();
  }
});
