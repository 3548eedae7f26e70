/**
 * The group machine alone, its I/O actors replaced with fakes through `.provide()`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createActor, fromPromise, waitFor } from "xstate";
import { groupMachine } from "../machines/group.js";
import type { GroupJob, StepInput, StepOutput } from "../src/engine/jobs.js";
import { emptyGroupRecord } from "../src/engine/store/records.js";
import type { GroupRecord } from "../src/engine/store/records.js";
import type { StoreOp } from "../src/engine/store/store.js";
import { GroupActors } from "../src/engine/actors.js";

const member: GroupRecord = { ...emptyGroupRecord(), status: "member", owner: new Uint8Array(32), nonceReserved: 7n };

function fakes(options: { record?: GroupRecord; execute?: (input: StepInput) => Promise<StepOutput>; persistFails?: boolean } = {}) {
  const log: string[] = [];
  const running = new Map<string, number>();
  const machine = groupMachine.provide({
    actors: {
      hydrate: fromPromise(async ({ input }: { input: { groupId: string } }) => {
        log.push(`hydrate ${input.groupId}`);
        return { record: options.record, counter: options.record?.nonceReserved ?? 0n };
      }),
      execute: fromPromise(async ({ input }: { input: StepInput }) => {
        running.set(input.groupId, (running.get(input.groupId) ?? 0) + 1);
        assert.equal(running.get(input.groupId), 1, "one step at a time per group");
        log.push(`execute ${input.job.kind}#${input.step}`);
        await new Promise((r) => setTimeout(r, 2));
        running.set(input.groupId, (running.get(input.groupId) ?? 0) - 1);
        if (options.execute) return options.execute(input);
        return { ops: [{ sub: "docs", key: input.job.kind, value: new Uint8Array([input.step]) }], result: `${input.job.kind} done` };
      }),
      persist: fromPromise(async ({ input }: { input: { groupId: string; ops: readonly StoreOp[] } }) => {
        log.push(`persist ${input.ops.map((o) => o.key).join(",")}`);
        if (options.persistFails) throw new Error("disk full");
      }),
    },
  });
  return { machine, log };
}

function job(kind: string, needsMember = false): { job: GroupJob; promise: Promise<unknown> } {
  let reply!: GroupJob["reply"];
  const promise = new Promise((resolve, reject) => (reply = { resolve, reject }));
  return { job: { kind, needsMember, input: kind, reply }, promise };
}

test("jobs run one at a time, each persisted before it resolves", async () => {
  const { machine, log } = fakes({ record: member });
  const actor = createActor(machine, { input: { groupId: "g1" } }).start();
  const a = job("a");
  const b = job("b", true);
  actor.send({ type: "job", job: a.job });
  actor.send({ type: "job", job: b.job });
  assert.deepEqual(await Promise.all([a.promise, b.promise]), ["a done", "b done"]);
  assert.deepEqual(log, ["hydrate g1", "execute a#0", "persist a", "execute b#0", "persist b"]);
  assert.ok(actor.getSnapshot().matches({ member: "idle" }));
  actor.stop();
});

test("a group that is not a member refuses member jobs with NOT_MEMBER (UNKNOWN_GROUP if never seen)", async () => {
  const unknown = fakes({ record: undefined });
  const u = createActor(unknown.machine, { input: { groupId: "g0" } }).start();
  const e = job("encrypt", true);
  u.send({ type: "job", job: e.job });
  await assert.rejects(e.promise, { code: "UNKNOWN_GROUP" });
  u.stop();
  const { machine, log } = fakes({ record: { ...emptyGroupRecord(), owner: new Uint8Array(32) } });
  const actor = createActor(machine, { input: { groupId: "g2" } }).start();
  const enc = job("encrypt", true);
  const read = job("read");
  actor.send({ type: "job", job: enc.job });
  actor.send({ type: "job", job: read.job });
  await assert.rejects(enc.promise, { code: "NOT_MEMBER" });
  assert.equal(await read.promise, "read done");
  assert.ok(!log.includes("execute encrypt#0"));
  assert.ok(actor.getSnapshot().matches({ "awaiting-welcome": "idle" }));
  actor.stop();
});

test("steps chain with `again`, the record follows the outputs, and the status state follows the record", async () => {
  const { machine, log } = fakes({
    record: undefined,
    execute: async (input) =>
      input.step < 2
        ? { ops: [], again: input.step + 1, record: { ...member, mlsEpoch: BigInt(input.step) } }
        : { ops: [], result: `finished at step ${input.step} with input ${String(input.input)}` },
  });
  const actor = createActor(machine, { input: { groupId: "g3" } }).start();
  const j = job("ingest");
  actor.send({ type: "job", job: j.job });
  assert.equal(await j.promise, "finished at step 2 with input 2");
  assert.deepEqual(log.filter((l) => l.startsWith("execute")), ["execute ingest#0", "execute ingest#1", "execute ingest#2"]);
  await waitFor(actor, (s) => s.matches({ member: "idle" }));
  assert.equal(actor.getSnapshot().context.record?.mlsEpoch, 1n);
  actor.stop();
});

test("a failed batch rejects the job and keeps the old record", async () => {
  const { machine } = fakes({ record: member, persistFails: true, execute: async () => ({ ops: [], record: { ...member, mlsEpoch: 99n }, result: 1 }) });
  const actor = createActor(machine, { input: { groupId: "g4" } }).start();
  const j = job("commit");
  actor.send({ type: "job", job: j.job });
  await assert.rejects(j.promise, /disk full/);
  await waitFor(actor, (s) => s.matches({ member: "idle" }));
  assert.equal(actor.getSnapshot().context.record?.mlsEpoch, 0n);
  actor.stop();
});

test("a failing step rejects only its job", async () => {
  const { machine } = fakes({
    record: member,
    execute: async (input) => {
      if (input.job.kind === "bad") throw new Error("worker said no");
      return { ops: [], result: "fine" };
    },
  });
  const actor = createActor(machine, { input: { groupId: "g5" } }).start();
  const bad = job("bad");
  const good = job("good");
  actor.send({ type: "job", job: bad.job });
  actor.send({ type: "job", job: good.job });
  await assert.rejects(bad.promise, /worker said no/);
  assert.equal(await good.promise, "fine");
  actor.stop();
});

test("the actor registry keeps at most `cap` idle actors and rehydrates evicted ones", async () => {
  const { machine, log } = fakes({ record: member });
  const actors = new GroupActors(machine, 16);
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => actors.run(`g${i}`, "read", false, undefined)));
  assert.equal(results.length, 200);
  assert.ok(actors.size <= 16, `live actors ${actors.size}`);
  assert.equal(log.filter((l) => l.startsWith("hydrate")).length, 200);
  await actors.run("g0", "read", false, undefined);
  assert.equal(log.filter((l) => l === "hydrate g0").length, 2, "an evicted group is hydrated again");
  await actors.run("g199", "read", false, undefined);
  assert.equal(log.filter((l) => l === "hydrate g199").length, 1, "a recent group stays live");
  await actors.close();
  await assert.rejects(actors.run("g1", "read", false, undefined), { code: "CLOSED" });
});
