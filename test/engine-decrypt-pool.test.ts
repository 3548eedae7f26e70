/**
 * Bulk long-term decryption in the worker pool: the same results and errors as the main thread
 * (and the library), split over the threads, the caller's buffers left alone. The keys' way to
 * the workers: test/engine-decrypt-pool-keys.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex, utf8 } from "../src/bytes.js";
import { MAIN_SHARE_MIN_MEAN_BYTES, POOL_DECRYPT_MIN_VALUES, POOL_OUTPUT_SEGMENT_BYTES, POOL_OWN_BUFFER_BYTES } from "../src/constants.js";
import { errorFromData, toErrorData } from "../src/errors.js";
import { createGroup, decrypt, encrypt, rotateLongTermSecret } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { openLongTerm, sealLongTerm } from "../src/lts/encrypt.js";
import { encodeSecretGroupMessage } from "../src/message.js";
import { decryptItem, longTermCiphertextOf, peekAll } from "../src/engine/decrypt.js";
import { emptyStats } from "../src/engine/context.js";
import { mainShareStart, openSliced } from "../src/engine/mainDecrypt.js";
import { spareBuffers } from "../src/engine/packBuffers.js";
import type { EngineContext } from "../src/engine/context.js";
import { createPool } from "../src/engine/pool.js";
import { emptyGroupRecord } from "../src/engine/store/records.js";
import type { GroupRecord } from "../src/engine/store/records.js";
import { executeStep } from "../src/engine/steps.js";
import type { DecryptItem, GroupJob } from "../src/engine/jobs.js";
import { groupWithMember, withNodes } from "./engine-helpers.js";
import { holdsRun, plaintextsAlone, recordingPool } from "./pool-support.js";

const SUITE = "PANDA10_AES256GCM" as const;
const codeOf = (r: Uint8Array | Error | undefined): string | undefined => (r instanceof Error ? (r as Error & { code?: string }).code : undefined);
const show = (r: Uint8Array | Error | undefined): unknown => (r instanceof Error ? [r.constructor.name, codeOf(r), r.message] : r === undefined ? r : toHex(r));

/** A long-term message of another group (id 4...4) at `epoch`, sealed with this group's key of that epoch. */
function otherGroupMessage(state: GroupState, epoch: number): Uint8Array {
  const secret = state.secrets.find((s) => s.epoch === BigInt(epoch)) as GroupState["secrets"][number];
  return encodeSecretGroupMessage({ type: "long-term", ciphertext: sealLongTerm({ ...secret, groupId: new Uint8Array(32).fill(4) }, new Uint8Array(12), utf8("x")) });
}

async function library(): Promise<{ state: GroupState; messages: Uint8Array[] }> {
  let state = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(32).fill(3), ciphersuite: SUITE });
  const messages: Uint8Array[] = [];
  for (let e = 0; e < 3; e++) {
    for (let i = 0; i < 40; i++) messages.push((await encrypt(state, utf8(`epoch ${e} #${i} `.repeat(1 + (i % 7))), { scheme: "long-term" })).message);
    if (e < 2) state = (await rotateLongTermSecret(state)).state;
  }
  return { state, messages };
}

test("a large batch opens in the pool with the main thread's results and errors, leaving the caller's buffers alone", async () => {
  const { state, messages } = await library();
  const gid = toHex(state.groupId);
  const aad = utf8("field context");
  const withAad = (await encrypt(state, utf8("bound"), { scheme: "long-term", aad })).message;
  const tampered = Uint8Array.from(messages[5] as Uint8Array);
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
  // large values come back in buffers of their own, the small ones as views into one per chunk
  const large = [];
  for (const n of [POOL_OWN_BUFFER_BYTES, 3 * POOL_OWN_BUFFER_BYTES + 5, 2 * POOL_OWN_BUFFER_BYTES]) large.push((await encrypt(state, new Uint8Array(n).fill(n & 0xff), { scheme: "long-term" })).message);
  const largeTampered = Uint8Array.from(large[2] as Uint8Array);
  largeTampered[largeTampered.length - 20] = (largeTampered[largeTampered.length - 20] as number) ^ 1;
  const empty = (await encrypt(state, new Uint8Array(0), { scheme: "long-term" })).message;
  const other = otherGroupMessage(state, 0);
  // another group's message at an epoch not held here: WRONG_GROUP, as the library says
  const otherUnknown = otherGroupMessage(state, 1);
  // held secrets without epoch 1: UNKNOWN_EPOCH for its messages
  const held = state.secrets.filter((s) => s.epoch !== 1n);
  const lib: GroupState = { ...state, secrets: held };
  const inputs: Array<{ message: Uint8Array; aad?: Uint8Array }> = [
    ...messages.map((message) => ({ message })),
    { message: large[0] as Uint8Array },
    { message: empty },
    { message: large[1] as Uint8Array },
    { message: largeTampered },
    { message: withAad, aad },
    { message: withAad }, // wrong aad
    { message: withAad, aad: utf8("other field") },
    { message: tampered },
  ];
  const copies = inputs.map((i) => Uint8Array.from(i.message));
  const { byGroup } = peekAll(inputs);
  const items = [...(byGroup.get(gid)?.items ?? []), ...(peekAll([other, otherUnknown]).byGroup.values().next().value?.items ?? [])];
  assert.ok(items.length >= POOL_DECRYPT_MIN_VALUES);
  const token = new Uint8Array(16).fill(9);
  const record: GroupRecord = { ...emptyGroupRecord(), status: "member", owner: state.owner, ltsEpoch: 2n, mlsEpoch: state.mlsEpoch, stateToken: token };
  const untouchable = new Proxy({}, { get: () => { throw new Error("the step touched the store"); } });
  const { pool, tasks } = recordingPool(2);
  try {
    const ctx = { store: untouchable, pool, engineId: "e-pool-test", stats: emptyStats(), bulkDecrypt: "pool" } as unknown as EngineContext;
    const job: GroupJob = { kind: "decrypt", decrypt: { items }, reply: { resolve() {}, reject() {} } };
    const out = await executeStep(ctx, { groupId: gid, job, step: 0, record, counter: 0n, secrets: { token: toHex(token), secrets: held } });
    const results = (await out.result) as Array<Uint8Array | Error>;
    const expected = await Promise.all(
      [...inputs, { message: other }, { message: otherUnknown }].map(async (c) => {
        try {
          return (await decrypt(lib, c.message, c.aad === undefined ? {} : { aad: c.aad })).plaintext;
        } catch (e) {
          return errorFromData(toErrorData(e));
        }
      }),
    );
    assert.deepEqual(results.map(show), expected.map(show));
    const codes = results.map(codeOf);
    assert.equal(codes.filter((c) => c === "UNKNOWN_EPOCH").length, 40);
    assert.deepEqual(codes.slice(-10), [undefined, undefined, undefined, "DECRYPTION_FAILED", undefined, "DECRYPTION_FAILED", "DECRYPTION_FAILED", "DECRYPTION_FAILED", "WRONG_GROUP", "WRONG_GROUP"]);
    plaintextsAlone(results);
    assert.deepEqual([ctx.stats.mainDecrypts, ctx.stats.poolDecrypts], [0, 88], "opened in the pool (the unknown epoch and wrong group never left)");
    const opens = tasks.filter((t) => t.op === "openLongTerm");
    assert.equal(opens.length, 2, "one chunk per thread");
    assert.ok(opens.every((t) => t.keys !== undefined), "the first chunks carry the keys");
    inputs.forEach((input, i) => assert.deepEqual(input.message, copies[i], `caller's message ${i} unchanged and not detached`));
    // again: the workers hold the keys now
    const again = await executeStep(ctx, { groupId: gid, job, step: 0, record, counter: 0n, secrets: { token: toHex(token), secrets: held } });
    assert.deepEqual(((await again.result) as Array<Uint8Array | Error>).map(show), expected.map(show));
    assert.ok(tasks.slice(opens.length).filter((t) => t.op === "openLongTerm").every((t) => t.keys === undefined), "no keys the second time");
  } finally {
    await pool.destroy();
  }
});

test("one call with two groups' large batches, interleaved with ratchet messages and garbage: every result in input order", async () => {
  const pool = createPool({ threads: 2 });
  try {
    await withNodes([{}, { pool, bulkDecrypt: "pool" }], async ([owner, alice]) => {
      // two suites: the workers hold keys of both groups at once
      const a = (await groupWithMember(owner.engine, alice.engine, "PANDA10_AES128GCM")).gid;
      const b = (await groupWithMember(owner.engine, alice.engine, "PANDA10_CHACHA20POLY1305")).gid;
      const inputs: Uint8Array[] = [];
      const expected: string[] = [];
      for (let i = 0; i < 3 * POOL_DECRYPT_MIN_VALUES; i++) {
        const gid = i % 3 === 0 ? b : a;
        const text = `${i % 3 === 0 ? "b" : "a"} ${i} ${"x".repeat(i % 50)}`;
        inputs.push(await owner.engine.encrypt(gid, utf8(text), { scheme: "long-term" }));
        expected.push(text);
        if (i % 37 === 5) {
          inputs.push(await owner.engine.encrypt(a, utf8(`ratchet ${i}`), { scheme: "sender-ratchet" }));
          expected.push(`ratchet ${i}`);
        }
        if (i % 41 === 7) {
          inputs.push(Uint8Array.from([2, 1, 2, 3]));
          expected.push("DECODE_ERROR");
        }
      }
      const results = await alice.engine.decrypt(inputs);
      assert.deepEqual(results.map((r) => (r instanceof Error ? codeOf(r) : new TextDecoder().decode(r))), expected);
      assert.deepEqual([alice.engine.stats().poolDecrypts, alice.engine.stats().mainDecrypts], [3 * POOL_DECRYPT_MIN_VALUES, 0], "both groups' batches opened in the pool");
    });
  } finally {
    await pool.destroy();
  }
});

/** Runs a decrypt step of `items` with `secrets` on a fresh 2-thread pool (no store): its results and stats. */
async function stepOnPool(state: GroupState, items: DecryptItem[], secrets: GroupState["secrets"], ltsEpoch: bigint): Promise<{ results: Array<Uint8Array | Error>; stats: EngineContext["stats"] }> {
  const token = new Uint8Array(16).fill(9);
  const record: GroupRecord = { ...emptyGroupRecord(), status: "member", owner: state.owner, ltsEpoch, mlsEpoch: state.mlsEpoch, stateToken: token };
  const pool = createPool({ threads: 2 });
  try {
    const ctx = { store: {}, pool, engineId: "e-pool-step", stats: emptyStats(), bulkDecrypt: "pool" } as unknown as EngineContext;
    const job: GroupJob = { kind: "decrypt", decrypt: { items }, reply: { resolve() {}, reject() {} } };
    const out = await executeStep(ctx, { groupId: toHex(state.groupId), job, step: 0, record, counter: 0n, secrets: { token: toHex(token), secrets } });
    return { results: (await out.result) as Array<Uint8Array | Error>, stats: ctx.stats };
  } finally {
    await pool.destroy();
  }
}

test("a batch split between the main thread and the pool, failures in both shares: every result at its own index", async () => {
  // values large enough for the main thread to take its share
  let state = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(32).fill(3), ciphersuite: SUITE });
  const messages: Uint8Array[] = [];
  for (let e = 0; e < 3; e++) {
    for (let i = 0; i < 40; i++) messages.push((await encrypt(state, new Uint8Array(MAIN_SHARE_MIN_MEAN_BYTES + 512 + 40 * e + i).fill(40 * e + i), { scheme: "long-term" })).message);
    if (e < 2) state = (await rotateLongTermSecret(state)).state;
  }
  const gid = toHex(state.groupId);
  // epochs interleaved (7 and 120 are coprime): unknown-epoch values fall in both shares
  const shuffled = messages.map((_, i) => Uint8Array.from(messages[(i * 7) % messages.length] as Uint8Array));
  for (const at of [3, 60, 110, 118]) {
    const m = shuffled[at] as Uint8Array;
    m[m.length - 1] = (m[m.length - 1] as number) ^ 1; // tag tampered
  }
  const ownItems = peekAll(shuffled).byGroup.get(gid)?.items ?? [];
  const [otherItem, otherUnknown] = peekAll([otherGroupMessage(state, 0), otherGroupMessage(state, 1)]).byGroup.values().next().value!.items as [DecryptItem, DecryptItem];
  const items = [...ownItems];
  for (const at of [115, 80, 10]) items.splice(at, 0, otherItem); // another group's values
  for (const at of [118, 5]) items.splice(at, 0, otherUnknown); // and at an epoch not held here
  const inputs = items.map((item) => item.message);
  const held = state.secrets.filter((s) => s.epoch !== 1n);
  const lib: GroupState = { ...state, secrets: held };
  const expected = await Promise.all(inputs.map(async (m) => { try { return (await decrypt(lib, m)).plaintext; } catch (e) { return errorFromData(toErrorData(e)); } }));
  const cut = mainShareStart(items, items.map((_, i) => i));
  const codes = expected.map(codeOf);
  for (const code of ["UNKNOWN_EPOCH", "WRONG_GROUP", "DECRYPTION_FAILED", undefined]) {
    assert.ok(codes.slice(0, cut).includes(code) && codes.slice(cut).includes(code), `${String(code)} in both shares`);
  }
  const { results, stats } = await stepOnPool(state, items, held, 2n);
  assert.equal(results.length, items.length);
  results.forEach((r, i) => assert.deepEqual(show(r), show(expected[i]), `result ${i} (${i < cut ? "pool" : "main"} share)`));
  // another group's message at an epoch not held: the same code from both shares
  const unknownAt = items.flatMap((item, i) => (item === otherUnknown ? [i] : []));
  assert.ok(unknownAt.some((i) => i < cut) && unknownAt.some((i) => i >= cut), "in both shares");
  for (const i of unknownAt) assert.equal(codeOf(results[i]), "WRONG_GROUP", `result ${i} (${i < cut ? "pool" : "main"} share)`);
  assert.equal(stats.mainDecrypts, items.length - cut, "the tail opened on the main thread");
  assert.ok(stats.poolDecrypts > 0, "the rest in the pool");
});

test("small plaintexts of a chunk past one output segment: views tiling several segments, failures anywhere, every result in place", async () => {
  const state = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(32).fill(3), ciphersuite: SUITE });
  const messages: Uint8Array[] = [];
  // 5-8 KiB each (below POOL_OWN_BUFFER_BYTES): ~150 KiB per chunk, so each spans segments
  for (let i = 0; i < 48; i++) messages.push((await encrypt(state, new Uint8Array(i === 20 ? 0 : POOL_OWN_BUFFER_BYTES - 1 - ((i * 997) % 3000)).fill(i + 1), { scheme: "long-term" })).message);
  // failures first, last and between: a segment's values may all fail, or its last ones
  for (const at of [0, 9, 10, 11, 23, 24, 30, 47]) {
    const m = messages[at] as Uint8Array;
    m[m.length - 1] = (m[m.length - 1] as number) ^ 1;
  }
  const gid = toHex(state.groupId);
  const items = peekAll(messages).byGroup.get(gid)?.items ?? [];
  assert.equal(mainShareStart(items, items.map((_, i) => i)), items.length, "all in the pool");
  const expected = await Promise.all(messages.map(async (m) => { try { return (await decrypt(state, m)).plaintext; } catch (e) { return errorFromData(toErrorData(e)); } }));
  const { results, stats } = await stepOnPool(state, items, state.secrets, 0n);
  assert.deepEqual(results.map(show), expected.map(show));
  assert.equal(stats.poolDecrypts, items.length);
  plaintextsAlone(results);
  const buffers = new Set(results.flatMap((r) => (r instanceof Error || r.length === 0 ? [] : [r.buffer])));
  assert.ok(buffers.size >= 5, `${buffers.size} output segments for two chunks`);
  for (const b of buffers) assert.ok(b.byteLength <= POOL_OUTPUT_SEGMENT_BYTES, "a segment stays within its bound");
  // the packing buffers kept for the next chunks hold no plaintext (none of the values' byte runs)
  for (const buffer of spareBuffers()) assert.ok(!holdsRun(new Uint8Array(buffer)), "a kept packing buffer holds no plaintext");
});

test("the main thread's share opens as the library does: its checks in order, a failed tag, a secret list mixing groups", async () => {
  const { state, messages } = await library();
  const tampered = Uint8Array.from(messages[100] as Uint8Array);
  tampered[tampered.length - 3] = (tampered[tampered.length - 3] as number) ^ 4;
  const aad = utf8("field");
  const bound = (await encrypt(state, utf8("bound"), { scheme: "long-term", aad })).message;
  // epoch 0's secret belongs to another group (a caller bug the library refuses), epoch 1 is not held
  const secrets = state.secrets.filter((s) => s.epoch !== 1n).map((s) => (s.epoch === 0n ? { ...s, groupId: new Uint8Array(32).fill(4) } : s));
  const inputs: Array<{ message: Uint8Array; aad?: Uint8Array }> = [...messages.map((message) => ({ message })), { message: tampered }, { message: bound, aad }, { message: bound }, { message: otherGroupMessage(state, 2) }, { message: otherGroupMessage(state, 1) }];
  const items = inputs.map((input) => decryptItem(input.message, input.aad));
  const results: Array<Uint8Array | Error> = new Array(items.length);
  await openSliced(state.groupId, secrets, items, items.map((_, i) => i), results);
  const expected = items.map((item) => {
    try {
      return openLongTerm(secrets, state.groupId, longTermCiphertextOf(item), item.aad ?? new Uint8Array(0));
    } catch (e) {
      return errorFromData(toErrorData(e));
    }
  });
  assert.deepEqual(results.map(show), expected.map(show));
  const codes = results.map(codeOf);
  assert.deepEqual(
    [codes.filter((c) => c === "WRONG_GROUP").length, codes.filter((c) => c === "UNKNOWN_EPOCH").length, codes.filter((c) => c === "DECRYPTION_FAILED").length, codes.filter((c) => c === undefined).length],
    [40 + 2, 40, 2, 40 + 1],
  );
  for (const r of results) if (!(r instanceof Error)) assert.equal(r.constructor, Uint8Array);
});
