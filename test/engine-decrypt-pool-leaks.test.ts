/**
 * Two safety properties of the in-place plaintexts of bulk long-term decryption
 * (src/engine/worker/longTerm.ts, src/engine/poolOutput.ts), each guarded against a mutation that
 * the other pool tests let through: the worker writes a plaintext only after its tag check (a
 * segment where every value fails goes back to the packing buffers: it must hold no plaintext),
 * and it zeroes the whole of a segment past its plaintexts, not only the packed bytes (a recycled
 * buffer longer than its segment holds an earlier call's bytes past them); and a small call's
 * segment pins no kept buffer much larger than its values. Its own file: the
 * packing buffers are per process.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "../src/bytes.js";
import { POOL_OUTPUT_SEGMENT_BYTES, POOL_OWN_BUFFER_BYTES, POOL_SEGMENT_SLACK } from "../src/constants.js";
import { CryptoError, ErrorCode } from "../src/errors.js";
import { createGroup, encrypt } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { peekAll } from "../src/engine/decrypt.js";
import { emptyStats } from "../src/engine/context.js";
import type { EngineContext } from "../src/engine/context.js";
import { mainShareStart } from "../src/engine/mainDecrypt.js";
import { giveBack, packedBytes, spareBuffers, takeBuffer } from "../src/engine/packBuffers.js";
import { emptyGroupRecord } from "../src/engine/store/records.js";
import { executeStep } from "../src/engine/steps.js";
import type { DecryptItem, GroupJob } from "../src/engine/jobs.js";
import { holdsRun, plaintextsAlone, recordingPool } from "./pool-support.js";

/** One decrypt step of `items` on a pool of one thread (no store): its results. */
async function decryptOnPool(state: GroupState, items: DecryptItem[], engineId: string): Promise<Array<Uint8Array | Error>> {
  assert.equal(mainShareStart(items, items.map((_, i) => i)), items.length, "all in the pool");
  const { pool } = recordingPool(1);
  try {
    const token = new Uint8Array(16).fill(9);
    const record = { ...emptyGroupRecord(), status: "member" as const, owner: state.owner, ltsEpoch: 0n, mlsEpoch: state.mlsEpoch, stateToken: token };
    const ctx = { store: {}, pool, engineId, stats: emptyStats() } as unknown as EngineContext;
    const job: GroupJob = { kind: "decrypt", decrypt: { items }, reply: { resolve() {}, reject() {} } };
    const out = await executeStep(ctx, { groupId: toHex(state.groupId), job, step: 0, record, counter: 0n, secrets: { token: toHex(token), secrets: state.secrets } });
    return await Promise.resolve(out.result as Array<Uint8Array | Error> | Promise<Array<Uint8Array | Error>>);
  } finally {
    await pool.destroy();
  }
}

/** Values of `sizes` (each filled with one byte, never zero) sealed and peeked; `tamper` may change a message first. */
async function sealed(state: GroupState, sizes: readonly number[], tamper: (message: Uint8Array, i: number) => void = () => {}): Promise<{ plaintexts: Uint8Array[]; items: DecryptItem[] }> {
  const plaintexts = sizes.map((n, i) => new Uint8Array(n).fill(1 + (i % 250)));
  const messages = await Promise.all(plaintexts.map(async (p) => (await encrypt(state, p, { scheme: "long-term" })).message));
  messages.forEach(tamper);
  const items = peekAll(messages).byGroup.get(toHex(state.groupId))?.items ?? [];
  return { plaintexts, items };
}

const newGroup = (): Promise<GroupState> => createGroup({ identity: generateIdentity(), groupId: new Uint8Array(32).fill(5), ciphersuite: "PANDA10_AES256GCM" });

/** Empties the packing buffers kept from before. */
function drainSpare(): void {
  while (spareBuffers().length > 0) takeBuffer(1);
}

test("a segment whose every value fails its tag check goes back for packing holding no plaintext", async () => {
  drainSpare();
  const state = await newGroup();
  // only the tag flipped (the ciphertext ends the message): each value deciphers to its plaintext,
  // which final() then refuses; two segments of values that all fail
  const { items } = await sealed(state, new Array<number>(64).fill(1000), (m) => {
    m[m.length - 1] = (m[m.length - 1] as number) ^ 1;
  });
  const results = await decryptOnPool(state, items, "e-leak-tags");
  results.forEach((r, i) => assert.ok(r instanceof CryptoError && r.code === ErrorCode.DecryptionFailed, `value ${i}: ${String(r)}`));
  assert.ok(spareBuffers().length >= 2, `${spareBuffers().length} segments back for packing`);
  for (const buffer of spareBuffers()) assert.ok(!holdsRun(new Uint8Array(buffer)), "a kept packing buffer holds no plaintext");
});

test("a recycled packing buffer longer than its segment is zeroed past the packed bytes too", async () => {
  drainSpare();
  const state = await newGroup();
  // one segment of small values (well over half the bound), then a large value (its own buffer)
  const sizes = [...new Array<number>(300).fill(100), POOL_OWN_BUFFER_BYTES + 1];
  const { plaintexts, items } = await sealed(state, sizes);
  // an earlier call's bytes (another group's ciphertext, say) fill the buffer the segment will take
  const recycled = new ArrayBuffer(POOL_OUTPUT_SEGMENT_BYTES);
  new Uint8Array(recycled).fill(0x5a);
  giveBack(recycled);
  const results = await decryptOnPool(state, items, "e-leak-tail");
  results.forEach((r, i) => assert.deepEqual(r, plaintexts[i], `value ${i}`));
  // moved to the worker (detached here) and back as the segment of the small values
  assert.equal(recycled.byteLength, 0, "the segment took the recycled buffer");
  const segment = (results[0] as Uint8Array).buffer;
  assert.equal(segment.byteLength, POOL_OUTPUT_SEGMENT_BYTES);
  assert.ok(results.slice(0, 300).every((r) => (r as Uint8Array).buffer === segment), "one segment");
  plaintextsAlone(results);
  assert.ok(new Uint8Array(segment, 300 * 100).every((b) => b === 0), "nothing of the earlier call after the plaintexts");
});

test("a small call's segment takes no kept buffer much larger than its values, one that fits within the slack", async () => {
  drainSpare();
  const state = await newGroup();
  const { plaintexts, items } = await sealed(state, new Array<number>(64).fill(100));
  const packed = items.reduce((n, item) => n + packedBytes(item), 0);
  assert.ok(POOL_SEGMENT_SLACK * packed < POOL_OUTPUT_SEGMENT_BYTES, `${packed} packed bytes: a small call`);
  const large = new ArrayBuffer(POOL_OUTPUT_SEGMENT_BYTES);
  giveBack(large);
  const first = await decryptOnPool(state, items, "e-slack-large");
  first.forEach((r, i) => assert.deepEqual(r, plaintexts[i], `value ${i}`));
  assert.equal(large.byteLength, POOL_OUTPUT_SEGMENT_BYTES, "the 64 KiB buffer stays kept (never sent)");
  for (const r of first as Uint8Array[]) assert.ok(r.buffer.byteLength <= POOL_SEGMENT_SLACK * packed, `a segment of ${r.buffer.byteLength} bytes for ${packed} packed`);
  // a kept buffer within the slack is still reused (moved to the worker: detached here)
  const near = new ArrayBuffer(Math.floor(1.5 * packed));
  giveBack(near);
  const second = await decryptOnPool(state, items, "e-slack-near");
  second.forEach((r, i) => assert.deepEqual(r, plaintexts[i], `value ${i}`));
  assert.equal(near.byteLength, 0, "the buffer within the slack was taken");
  assert.equal((second[0] as Uint8Array).buffer.byteLength, Math.floor(1.5 * packed));
});
