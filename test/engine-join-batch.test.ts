/**
 * Joins of one event-loop turn go to the pool together (src/engine/joinBatch.ts): one worker
 * task per pool thread, each join answered on its own (a failure only its own, with the code a
 * lone task gives), and each batch's groups pinned to the worker that holds their states, so
 * their next tasks find them cached. And the engine joins many groups from one ingest.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { decodeSecretGroupCommit } from "../src/commit.js";
import { isSecretGroupError } from "../src/errors.js";
import { addMembers, createGroup, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { JOIN_ALONE_MIN_BYTES } from "../src/constants.js";
import { JoinBatcher, joinBytes, splitEvenly } from "../src/engine/joinBatch.js";
import { runTask } from "../src/engine/pool.js";
import { isMiss } from "../src/engine/worker/protocol.js";
import type { JoinTask, StateOut } from "../src/engine/worker/protocol.js";
import { recordingPool } from "./pool-support.js";
import { groupAddingMember, ingestAll, withNodes, withPool } from "./engine-helpers.js";

const SUITE = "PANDA10_AES256GCM";
const refOf = (key: string, token?: string) => ({ key, cacheLimit: 64, cacheBytes: 8 * 1024 * 1024, ...(token === undefined ? {} : { token }) });

/** A group an owner made with `member` added through a fresh key package: the member's join task, and the owner's state. */
async function joinable(member: Identity, key: string): Promise<{ task: JoinTask; owner: GroupState }> {
  const owner = generateIdentity();
  const kp = await createKeyPackage(member);
  const created = await createGroup({ identity: owner, groupId: randomBytes(32), ciphersuite: SUITE });
  const added = await addMembers(created, [kp.keyPackage]);
  const task: JoinTask = { op: "join", ref: refOf(key), identity: member, secret: kp.secret, owner: owner.publicKey, commit: decodeSecretGroupCommit(added.commit) };
  return { task, owner: added.state };
}

test("splitEvenly: near-equal runs in order, never an empty one", () => {
  assert.deepEqual(splitEvenly([1, 2, 3, 4, 5], 2), [[1, 2, 3], [4, 5]]);
  assert.deepEqual(splitEvenly([1, 2, 3, 4, 5, 6, 7], 3), [[1, 2, 3], [4, 5], [6, 7]]);
  assert.deepEqual(splitEvenly([1], 2), [[1]]);
  assert.deepEqual(splitEvenly([1, 2], 0), [[1, 2]]);
  assert.deepEqual(splitEvenly([], 2), []);
});

/** A recording pool of two threads with both workers up (the balancer pins groups only once every thread runs), its task list empty. */
async function runningPool(): Promise<ReturnType<typeof recordingPool>> {
  const recording = recordingPool(2);
  await Promise.all([runTask(recording.pool, { op: "ping" }), runTask(recording.pool, { op: "ping" })]);
  recording.tasks.length = 0;
  return recording;
}

test("joins asked for in one turn go as one task per pool thread; each is answered alone, a failure only its own; the groups' next tasks find their states", async () => {
  const { pool, tasks } = await runningPool();
  try {
    const member = generateIdentity();
    const groups = await Promise.all(Array.from({ length: 7 }, (_, i) => joinable(member, `batch-test:g${i}`)));
    const wrong = await createKeyPackage(member);
    // group 3 names the wrong key package secret: its join alone fails
    const sent = groups.map((g, i) => (i === 3 ? { ...g.task, secret: wrong.secret } : g.task));
    const joins = new JoinBatcher(pool);
    const results = await Promise.allSettled(sent.map((task, i) => joins.run(`g${i}`, task)));
    assert.deepEqual(tasks.map((t) => t.op), ["joins", "joins"], "7 joins in one turn: one task per thread");
    assert.equal(joins.tasks, 2);
    const lone = await runTask<StateOut>(pool, { ...sent[3]! }, "g3-alone").then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isSecretGroupError(lone), "a lone join with the wrong secret fails typed");
    results.forEach((r, i) => {
      if (i === 3) {
        assert.equal(r.status, "rejected");
        const error = (r as PromiseRejectedResult).reason as unknown;
        assert.ok(isSecretGroupError(error));
        assert.equal(error.code, lone.code, "the code a lone task gives");
      } else assert.equal(r.status, "fulfilled", `join ${i}: ${String((r as PromiseRejectedResult).reason)}`);
    });
    // every joined group's next commit runs on the worker its join ran on: a cached state, no miss
    for (const [i, g] of groups.entries()) {
      if (i === 3) continue;
      const token = ((results[i] as PromiseFulfilledResult<StateOut>).value.change as { token: string }).token;
      const commit = decodeSecretGroupCommit((await updateGroup(g.owner)).commit);
      const out = await runTask<unknown>(pool, { op: "process", ref: refOf(`batch-test:g${i}`, token), commit }, `g${i}`);
      assert.ok(!isMiss(out), `group ${i}'s state is on the worker its next task goes to`);
    }
    // a join alone in its turn goes as a task of its own
    tasks.length = 0;
    await joins.run("g-late", (await joinable(member, "batch-test:late")).task);
    assert.deepEqual(tasks.map((t) => t.op), ["join"]);
  } finally {
    await pool.destroy();
  }
});

test("a large join (commit and Welcome of JOIN_ALONE_MIN_BYTES or more) goes to the pool at once, alone; the turn's small joins still go together", async () => {
  const { pool, tasks } = await runningPool();
  try {
    const member = generateIdentity();
    const small = await Promise.all(Array.from({ length: 4 }, (_, i) => joinable(member, `alone-test:s${i}`)));
    const big = (await joinable(member, "alone-test:big")).task;
    // a Welcome padded to the bound: its join fails (a decode error), but it is posted as a large one
    const padded: JoinTask = { ...big, commit: { ...big.commit, mlsWelcome: new Uint8Array(JOIN_ALONE_MIN_BYTES) } };
    assert.ok(joinBytes(padded) >= JOIN_ALONE_MIN_BYTES && joinBytes(small[0]!.task) < JOIN_ALONE_MIN_BYTES);
    const joins = new JoinBatcher(pool);
    const first = joins.run("s0", small[0]!.task);
    const large = joins.run("big", padded);
    assert.deepEqual(tasks.map((t) => t.op), ["join"], "the large join went out before the turn ended");
    const rest = small.slice(1).map((g, i) => joins.run(`s${i + 1}`, g.task));
    const results = await Promise.allSettled([first, large, ...rest]);
    assert.deepEqual(tasks.map((t) => t.op), ["join", "joins", "joins"], "the four small joins: one task per thread at the turn's end");
    assert.equal(joins.tasks, 3);
    assert.equal(results[1]!.status, "rejected");
    assert.ok(isSecretGroupError((results[1] as PromiseRejectedResult).reason), "the padded join fails typed");
    for (const i of [0, 2, 3, 4]) assert.equal(results[i]!.status, "fulfilled");
  } finally {
    await pool.destroy();
  }
});

test("one ingest of many groups' documents joins every group, and each applies its next commit from the cached state", async () => {
  await withPool(2, (pool) =>
    withNodes([{}, { pool }], async ([owner, alice]) => {
      const made = [];
      for (let i = 0; i < 6; i++) made.push(await groupAddingMember(owner.engine, alice.engine));
      const docs = made.flatMap((m) => [...m.created, ...m.keyPackage, ...m.added]);
      const outcomes = await ingestAll(alice.engine, docs);
      assert.ok(outcomes.every((o) => o === "applied" || o === "duplicate"), outcomes.join());
      for (const m of made) assert.equal((await alice.engine.describe(m.gid)).status, "member");
      const before = alice.engine.stats().workerMisses;
      const updates = [];
      for (const m of made) updates.push(...(await owner.engine.updateGroup(m.gid)).documents);
      assert.deepEqual(await ingestAll(alice.engine, updates), updates.map(() => "applied"));
      assert.equal(alice.engine.stats().workerMisses, before, "no state reloaded from the store");
    }),
  );
});
