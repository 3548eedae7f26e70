/**
 * Safety properties of the plaintexts of bulk long-term decryption
 * (src/engine/worker/longTerm.ts, src/engine/poolOutput.ts), each guarded against a mutation that
 * the other pool tests let through: the worker makes a plaintext only after its tag check (a
 * segment where every value fails goes back to the packing buffers: it must hold no plaintext);
 * a packing buffer (recycled, holding an earlier call's bytes) never becomes a caller's: the
 * plaintexts come in buffers of exactly their bytes, so a small call pins no more than its values.
 * Its own file: the packing buffers are per process.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "../src/bytes.js";
import { POOL_OUTPUT_SEGMENT_BYTES } from "../src/constants.js";
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
import { nativeAead } from "../src/nativeAead.js";

/** One decrypt step of `items` on a pool of one thread (no store): its results. */
async function decryptOnPool(state: GroupState, items: DecryptItem[], engineId: string): Promise<Array<Uint8Array | Error>> {
  assert.equal(mainShareStart(items, items.map((_, i) => i)), items.length, "all in the pool");
  const { pool } = recordingPool(1);
  try {
    const token = new Uint8Array(16).fill(9);
    const record = { ...emptyGroupRecord(), status: "member" as const, owner: state.owner, ltsEpoch: 0n, mlsEpoch: state.mlsEpoch, stateToken: token };
    const ctx = { store: {}, pool, engineId, stats: emptyStats(), bulkDecrypt: "pool" } as unknown as EngineContext;
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

test("a recycled packing buffer never reaches a caller: it comes back unwritten, the plaintexts in a buffer of exactly their bytes or a segment of their own", async () => {
  drainSpare();
  const state = await newGroup();
  // one segment of small values (well over half the bound), then a large value too big to join it
  const sizes = [...new Array<number>(300).fill(100), POOL_OUTPUT_SEGMENT_BYTES / 2];
  const { plaintexts, items } = await sealed(state, sizes);
  // an earlier call's bytes (another group's ciphertext, say) fill the buffer the segment will take
  const recycled = new ArrayBuffer(POOL_OUTPUT_SEGMENT_BYTES);
  new Uint8Array(recycled).fill(0x5a);
  giveBack(recycled);
  const results = await decryptOnPool(state, items, "e-leak-tail");
  results.forEach((r, i) => assert.deepEqual(r, plaintexts[i], `value ${i}`));
  // moved to the worker (detached here) and back as a packing buffer, never as a result's
  assert.equal(recycled.byteLength, 0, "the small values' segment took the recycled buffer");
  const output = (results[0] as Uint8Array).buffer;
  assert.ok(results.slice(0, 300).every((r) => (r as Uint8Array).buffer === output), "one buffer for the segment's plaintexts");
  assert.equal(output.byteLength, 300 * 100, "exactly its plaintexts");
  // the large value: in a segment of exactly its packed bytes (opened in place), or alone
  const large = results[300] as Uint8Array;
  assert.equal(large.buffer.byteLength, nativeAead === undefined ? large.length : packedBytes(items[300] as DecryptItem), "the large value's buffer: never a recycled one");
  plaintextsAlone(results);
  const back = spareBuffers().filter((b) => b.byteLength === POOL_OUTPUT_SEGMENT_BYTES);
  assert.equal(back.length, 1, "the recycled buffer is a packing buffer again");
  const packed = items.slice(0, 300).reduce((n, item) => n + packedBytes(item), 0);
  assert.ok(new Uint8Array(back[0] as ArrayBuffer, packed).every((b) => b === 0x5a), "unwritten past the packed bytes");
});

test("a small call's plaintexts pin only their own bytes, whatever kept buffer its segment was packed in", async () => {
  drainSpare();
  const state = await newGroup();
  const { plaintexts, items } = await sealed(state, new Array<number>(64).fill(100));
  const large = new ArrayBuffer(POOL_OUTPUT_SEGMENT_BYTES);
  giveBack(large);
  const results = await decryptOnPool(state, items, "e-slack-large");
  results.forEach((r, i) => assert.deepEqual(r, plaintexts[i], `value ${i}`));
  assert.equal(large.byteLength, 0, "the kept 64 KiB buffer was packed (moved to the worker)");
  for (const r of results as Uint8Array[]) assert.equal(r.buffer.byteLength, 64 * 100, "a buffer of the call's plaintexts alone");
});
