/**
 * Where the AEAD addon is built (src/nativeAead.ts), a large long-term batch of small values opens
 * on the main thread in slices (`bulkDecrypt: "auto"`): the library's results and errors at every
 * index, no pool task, each small plaintext a view into a shared buffer of at most
 * POOL_OUTPUT_SEGMENT_BYTES that holds nothing but handed-out plaintexts and zeros. Values that
 * average NATIVE_POOL_MIN_MEAN_BYTES still go to the pool, and `bulkDecrypt: "pool"` sends the
 * small ones there too. Skipped under SECRET_GROUP_NATIVE=0 (the routing is then the pool's
 * thresholds, test/engine-decrypt-pool.test.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex, utf8 } from "../src/bytes.js";
import { MAIN_SLICE_VALUES, NATIVE_POOL_MIN_MEAN_BYTES, POOL_OUTPUT_SEGMENT_BYTES } from "../src/constants.js";
import { ErrorCode, UsageError, errorFromData, toErrorData } from "../src/errors.js";
import { createGroup, decrypt, encrypt } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { nativeAead } from "../src/nativeAead.js";
import { peekAll } from "../src/engine/decrypt.js";
import { emptyStats } from "../src/engine/context.js";
import type { EngineContext } from "../src/engine/context.js";
import type { BulkDecrypt } from "../src/engine/poolDecrypt.js";
import { emptyGroupRecord } from "../src/engine/store/records.js";
import type { GroupRecord } from "../src/engine/store/records.js";
import { executeStep } from "../src/engine/steps.js";
import type { GroupJob } from "../src/engine/jobs.js";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { openNode, tempDir } from "./engine-helpers.js";
import { recordingPool } from "./pool-support.js";

const skip = nativeAead === undefined ? "the AEAD addon is not loaded (SECRET_GROUP_NATIVE=0)" : false;
const codeOf = (r: Uint8Array | Error | undefined): string | undefined => (r instanceof Error ? (r as Error & { code?: string }).code : undefined);
const show = (r: Uint8Array | Error | undefined): unknown => (r instanceof Error ? [r.constructor.name, codeOf(r), r.message] : r === undefined ? r : toHex(r));

/** Runs a decrypt step of `messages` of `state`'s group on a recording pool: results, stats and the pool's tasks. */
async function step(state: GroupState, messages: Uint8Array[], mode: BulkDecrypt): Promise<{ results: Array<Uint8Array | Error>; stats: EngineContext["stats"]; tasks: number }> {
  const gid = toHex(state.groupId);
  const items = peekAll(messages).byGroup.get(gid)?.items ?? [];
  const token = new Uint8Array(16).fill(7);
  const record: GroupRecord = { ...emptyGroupRecord(), status: "member", owner: state.owner, ltsEpoch: state.secrets.at(-1)!.epoch, mlsEpoch: state.mlsEpoch, stateToken: token };
  const untouchable = new Proxy({}, { get: () => { throw new Error("the step touched the store"); } });
  const { pool, tasks } = recordingPool(2);
  try {
    const ctx = { store: untouchable, pool, engineId: "e-native", stats: emptyStats(), bulkDecrypt: mode } as unknown as EngineContext;
    const job: GroupJob = { kind: "decrypt", decrypt: { items }, reply: { resolve() {}, reject() {} } };
    const out = await executeStep(ctx, { groupId: gid, job, step: 0, record, counter: 0n, secrets: { token: toHex(token), secrets: state.secrets } });
    const results = (await out.result) as Array<Uint8Array | Error>;
    return { results, stats: ctx.stats, tasks: tasks.filter((t) => t.op === "openLongTerm").length };
  } finally {
    await pool.destroy();
  }
}

async function expected(state: GroupState, messages: Uint8Array[]): Promise<unknown[]> {
  return Promise.all(
    messages.map(async (m) => {
      try {
        return show((await decrypt(state, m)).plaintext);
      } catch (e) {
        return show(errorFromData(toErrorData(e)));
      }
    }),
  );
}

test("a large batch of small values opens on the main thread in slices: the library's results, failures at their own index, no pool task", { skip }, async () => {
  const state = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(32).fill(5), ciphersuite: "PANDA10_AES128GCM" });
  const messages: Uint8Array[] = [];
  const count = 3 * MAIN_SLICE_VALUES + 17;
  for (let i = 0; i < count; i++) messages.push((await encrypt(state, utf8(`value ${i} `.repeat(1 + (i % 90))), { scheme: "long-term" })).message);
  // failures first, last, at a slice's edge and in a run: the values after them land where they belong
  for (const at of [0, MAIN_SLICE_VALUES - 1, MAIN_SLICE_VALUES, 200, 201, 202, count - 1]) {
    const m = Uint8Array.from(messages[at] as Uint8Array);
    m[m.length - 3] = (m[m.length - 3] as number) ^ 0x10;
    messages[at] = m;
  }
  const { results, stats, tasks } = await step(state, messages, "auto");
  assert.deepEqual(results.map(show), await expected(state, messages));
  assert.equal(results.filter((r) => codeOf(r) === ErrorCode.DecryptionFailed).length, 7);
  assert.deepEqual([stats.mainDecrypts, stats.poolDecrypts, tasks], [count, 0, 0]);
  // every plaintext a view into a shared buffer of at most a segment's bytes, which holds only the
  // plaintexts handed out of it, then zeros: nothing of a failed value, nothing uninitialised
  const buffers = new Map<ArrayBufferLike, Array<[number, number]>>();
  for (const r of results) {
    if (r instanceof Error) continue;
    assert.ok(r.buffer.byteLength <= POOL_OUTPUT_SEGMENT_BYTES, `a buffer of ${r.buffer.byteLength} bytes`);
    buffers.set(r.buffer, [...(buffers.get(r.buffer) ?? []), [r.byteOffset, r.byteOffset + r.length]]);
  }
  assert.ok(buffers.size > 1 && buffers.size < count / 4, `${buffers.size} shared buffers`);
  for (const [buffer, runs] of buffers) {
    const bytes = new Uint8Array(buffer);
    runs.sort((a, b) => a[0] - b[0]);
    let at = 0;
    for (const [start, end] of runs) {
      assert.equal(start, at, "plaintexts tile their buffer from its start");
      at = end;
    }
    assert.ok(bytes.subarray(at).every((b) => b === 0), "past the plaintexts, only zeros");
  }
});

test("values that average NATIVE_POOL_MIN_MEAN_BYTES go to the pool; bulkDecrypt \"pool\" sends small ones there too", { skip }, async () => {
  const state = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(32).fill(6), ciphersuite: "PANDA10_CHACHA20POLY1305" });
  const large: Uint8Array[] = [];
  for (let i = 0; i < 12; i++) large.push((await encrypt(state, new Uint8Array(NATIVE_POOL_MIN_MEAN_BYTES + i).fill(i), { scheme: "long-term" })).message);
  const big = await step(state, large, "auto");
  assert.deepEqual(big.results.map(show), await expected(state, large));
  assert.ok(big.tasks > 0 && big.stats.poolDecrypts > 0, "the large values went to the pool");
  const small: Uint8Array[] = [];
  for (let i = 0; i < 100; i++) small.push((await encrypt(state, utf8(`small ${i}`), { scheme: "long-term" })).message);
  const auto = await step(state, small, "auto");
  const pooled = await step(state, small, "pool");
  assert.deepEqual(auto.results.map(show), await expected(state, small));
  assert.deepEqual(pooled.results.map(show), auto.results.map(show));
  assert.deepEqual([auto.tasks, auto.stats.mainDecrypts], [0, 100]);
  assert.ok(pooled.tasks > 0 && pooled.stats.poolDecrypts === 100 && pooled.stats.mainDecrypts === 0);
});

test("the bulkDecrypt option takes \"auto\" or \"pool\" and nothing else", async () => {
  const dir = await tempDir();
  try {
    for (const bad of ["fast", 1, null]) {
      await assert.rejects(SecretGroupEngine.open({ path: dir.path, identity: generateIdentity(), threads: 1, bulkDecrypt: bad as never }), (e: unknown) => e instanceof UsageError && e.code === ErrorCode.InvalidArgument, String(bad));
    }
  } finally {
    await dir.cleanup();
  }
  for (const good of ["auto", "pool", undefined] as const) {
    const node = await openNode(good === undefined ? {} : { bulkDecrypt: good });
    await node.engine.close();
    await node.cleanup();
  }
});
