/**
 * The group machine alone, its I/O actors replaced with fakes through `.provide()` (the fake
 * `execute` writes its step's batch, as the engine's does): jobs of every kind run one at a
 * time, each settled after its write, and the status states move only on the protocol events a
 * written step reports (JOINED, COMMIT_APPLIED, REMOVED), with follow-up steps in `draining`.
 * The engine's own `execute` (write before settle, a failed write) is tested in
 * engine-step-write.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createActor, fromPromise, waitFor } from "xstate";
import { groupMachine } from "../machines/group.js";
import type { GroupJob, JobRequest, StepInput, StepOutput } from "../src/engine/jobs.js";
import { emptyGroupRecord } from "../src/engine/store/records.js";
import type { GroupRecord } from "../src/engine/store/records.js";
import { GroupActors } from "../src/engine/actors.js";
import { ErrorCode, StorageError } from "../src/errors.js";

const member: GroupRecord = { ...emptyGroupRecord(), status: "member", owner: new Uint8Array(32), nonceReserved: 7n };
const doc = { schema: "secret_group_commit_v1" } as unknown as Extract<JobRequest, { kind: "ingest" }>["doc"];

/**
 * The machine with fake actors; the fake `execute` runs `options.execute` (or writes one key
 * named after the job), then writes the step's ops (logged `write <keys>`, after a pause) and
 * runs its `after`, as the engine's does; `writeFails` makes the write of those jobs throw a
 * StorageError.
 */
function fakes(options: { record?: GroupRecord; execute?: (input: StepInput) => Promise<StepOutput>; writeFails?: (job: GroupJob) => boolean } = {}) {
  const log: string[] = [];
  const running = new Map<string, number>();
  const machine = groupMachine.provide({
    actors: {
      hydrate: fromPromise(async ({ input }: { input: { groupId: string } }) => {
        log.push(`hydrate ${input.groupId}`);
        return { record: options.record, counter: options.record?.nonceReserved ?? 0n };
      }),
      execute: fromPromise(async ({ input }: { input: StepInput }): Promise<StepOutput> => {
        running.set(input.groupId, (running.get(input.groupId) ?? 0) + 1);
        assert.equal(running.get(input.groupId), 1, "one step at a time per group");
        log.push(`execute ${input.job.kind}#${input.step}`);
        await new Promise((r) => setTimeout(r, 2));
        try {
          const out: StepOutput = options.execute ? await options.execute(input) : { ops: [{ sub: "docs", key: input.job.kind, value: new Uint8Array([input.step]) }], result: `${input.job.kind} done` };
          if (out === undefined || (out.ops.length === 0 && out.after === undefined)) return out;
          await new Promise((r) => setTimeout(r, 2));
          if (options.writeFails?.(input.job)) throw new StorageError(ErrorCode.Storage, "writing batch: disk full");
          log.push(`write ${out.ops.map((o) => o.key).join(",")}`);
          out.after?.();
          return out;
        } finally {
          running.set(input.groupId, (running.get(input.groupId) ?? 0) - 1);
        }
      }),
    },
  });
  return { machine, log };
}

function job(request: JobRequest): { job: GroupJob; promise: Promise<unknown> } {
  let reply!: GroupJob["reply"];
  const promise = new Promise((resolve, reject) => (reply = { resolve, reject }));
  return { job: { ...request, reply }, promise };
}

const encrypt: JobRequest = { kind: "encrypt", encrypt: { plaintexts: [new Uint8Array(1)], scheme: "long-term" } };

test("jobs run one at a time, each settled after its batch is written", async () => {
  const { machine, log } = fakes({ record: member });
  const actor = createActor(machine, { input: { groupId: "g1" } }).start();
  const a = job({ kind: "read" });
  const b = job(encrypt);
  void a.promise.then(() => log.push("settled read"));
  void b.promise.then(() => log.push("settled encrypt"));
  actor.send({ type: "job", job: a.job });
  actor.send({ type: "job", job: b.job });
  assert.deepEqual(await Promise.all([a.promise, b.promise]), ["read done", "encrypt done"]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log.filter((l) => !l.startsWith("settled")), ["hydrate g1", "execute read#0", "write read", "execute encrypt#0", "write encrypt"]);
  assert.ok(log.indexOf("write read") < log.indexOf("settled read"), log.join(" | "));
  assert.ok(log.indexOf("write encrypt") < log.indexOf("settled encrypt"), log.join(" | "));
  assert.ok(actor.getSnapshot().matches({ member: "idle" }));
  actor.stop();
});

test("a group that is not a member refuses member jobs with NOT_MEMBER (UNKNOWN_GROUP if never seen)", async () => {
  const unknown = fakes({ record: undefined });
  const u = createActor(unknown.machine, { input: { groupId: "g0" } }).start();
  const e = job(encrypt);
  u.send({ type: "job", job: e.job });
  await assert.rejects(e.promise, { code: "UNKNOWN_GROUP" });
  u.stop();
  const { machine, log } = fakes({ record: { ...emptyGroupRecord(), owner: new Uint8Array(32) } });
  const actor = createActor(machine, { input: { groupId: "g2" } }).start();
  const enc = job(encrypt);
  const commit = job({ kind: "commit", commit: { action: "update" } });
  const read = job({ kind: "read" });
  actor.send({ type: "job", job: enc.job });
  actor.send({ type: "job", job: commit.job });
  actor.send({ type: "job", job: read.job });
  await assert.rejects(enc.promise, { code: "NOT_MEMBER" });
  await assert.rejects(commit.promise, { code: "NOT_MEMBER" });
  assert.equal(await read.promise, "read done");
  assert.ok(!log.includes("execute encrypt#0"));
  assert.ok(actor.getSnapshot().matches({ "awaiting-welcome": "idle" }));
  actor.stop();
});

test("JOINED, COMMIT_APPLIED and REMOVED drive the status states; follow-ups run in `draining`", async () => {
  const states: string[] = [];
  const { machine, log } = fakes({
    record: { ...emptyGroupRecord(), owner: new Uint8Array(32) },
    execute: async (input) => {
      if (input.job.kind !== "ingest") return { ops: [], result: "ok" };
      // step 0 joins, step 1 applies a pending successor, step 2 is removed by the next one, step 3 finds nothing
      if (input.step === 0) return { ops: [{ sub: "docs", key: "k", value: new Uint8Array(1) }], record: { ...member, mlsEpoch: 1n }, event: "JOINED", again: { kind: "drain", watch: "c1" } };
      assert.equal(input.followUp?.kind, "drain");
      if (input.step === 1) return { ops: [], record: { ...member, mlsEpoch: 2n }, event: "COMMIT_APPLIED", again: { kind: "drain", watch: "c1" } };
      if (input.step === 2) return { ops: [], record: { ...member, status: "removed", mlsEpoch: 2n }, event: "REMOVED", again: { kind: "drain" } };
      return { ops: [], result: `finished at step ${input.step}` };
    },
  });
  const actor = createActor(machine, { input: { groupId: "g3" } }).start();
  actor.subscribe((s) => states.push(JSON.stringify(s.value)));
  const j = job({ kind: "ingest", doc, verified: Promise.resolve() });
  actor.send({ type: "job", job: j.job });
  assert.equal(await j.promise, "finished at step 3");
  // the follow-up starts after the step's write
  assert.deepEqual(log, ["hydrate g3", "execute ingest#0", "write k", "execute ingest#1", "execute ingest#2", "execute ingest#3"]);
  const seen = [...new Set(states)];
  for (const s of ['{"awaiting-welcome":"executing"}', '{"member":"draining"}', '{"removed":"draining"}', '{"removed":"idle"}']) assert.ok(seen.includes(s), `${s} in ${seen.join(" ")}`);
  assert.ok(!seen.includes('{"awaiting-welcome":"draining"}'), "JOINED moved the job to member before its follow-up");
  await waitFor(actor, (s) => s.matches({ removed: "idle" }));
  assert.equal(actor.getSnapshot().context.record?.status, "removed");
  // removed: member jobs are refused, reads still run
  const e = job(encrypt);
  actor.send({ type: "job", job: e.job });
  await assert.rejects(e.promise, { code: "NOT_MEMBER" });
  actor.stop();
});

test("the status state follows events, not the record: a step that changes the record without an event keeps the state", async () => {
  const { machine } = fakes({ record: undefined, execute: async () => ({ ops: [], record: { ...member, mlsEpoch: 5n }, counter: 9n, result: "quiet" }) });
  const actor = createActor(machine, { input: { groupId: "g6" } }).start();
  const j = job({ kind: "ingest", doc, verified: Promise.resolve() });
  actor.send({ type: "job", job: j.job });
  assert.equal(await j.promise, "quiet");
  await waitFor(actor, (s) => s.matches({ "awaiting-welcome": "idle" }));
  assert.equal(actor.getSnapshot().context.record?.mlsEpoch, 5n, "the step's record is held");
  assert.equal(actor.getSnapshot().context.counter, 9n, "the step's counter is held");
  actor.stop();
});

test("a failed batch rejects the job with its StorageError, keeps the old record and state, and the next job runs", async () => {
  let ran = false;
  const { machine } = fakes({
    record: member,
    writeFails: (j) => j.kind === "commit",
    execute: async (input) =>
      input.job.kind === "commit"
        ? { ops: [{ sub: "groups", key: "g4", value: new Uint8Array(1) }], record: { ...member, status: "removed", mlsEpoch: 99n }, counter: 50n, event: "REMOVED", result: 1, after: () => (ran = true) }
        : { ops: [], result: actor.getSnapshot().context.record?.mlsEpoch },
  });
  const actor = createActor(machine, { input: { groupId: "g4" } }).start();
  const j = job({ kind: "commit", commit: { action: "update" } });
  const next = job({ kind: "read" });
  actor.send({ type: "job", job: j.job });
  actor.send({ type: "job", job: next.job });
  await assert.rejects(j.promise, (e) => e instanceof StorageError && e.code === "STORAGE_ERROR" && /disk full/.test(e.message));
  assert.equal(await next.promise, 0n, "the next job sees the old record");
  await waitFor(actor, (s) => s.matches({ member: "idle" }));
  assert.equal(actor.getSnapshot().context.record?.mlsEpoch, 0n);
  assert.equal(actor.getSnapshot().context.counter, 7n);
  assert.equal(ran, false, "a failed write runs no `after`");
  actor.stop();
});

test("a failing step rejects only its job", async () => {
  const { machine } = fakes({
    record: member,
    execute: async (input) => {
      if (input.job.kind === "commit") throw new Error("worker said no");
      return { ops: [], result: "fine" };
    },
  });
  const actor = createActor(machine, { input: { groupId: "g5" } }).start();
  const bad = job({ kind: "commit", commit: { action: "rotate" } });
  const good = job({ kind: "read" });
  actor.send({ type: "job", job: bad.job });
  actor.send({ type: "job", job: good.job });
  await assert.rejects(bad.promise, /worker said no/);
  assert.equal(await good.promise, "fine");
  actor.stop();
});

test("the actor registry keeps at most `cap` idle actors and rehydrates evicted ones", async () => {
  const { machine, log } = fakes({ record: member });
  const actors = new GroupActors(machine, 16);
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => actors.run(`g${i}`, { kind: "read" })));
  assert.equal(results.length, 200);
  assert.ok(actors.size <= 16, `live actors ${actors.size}`);
  assert.equal(log.filter((l) => l.startsWith("hydrate")).length, 200);
  await actors.run("g0", { kind: "read" });
  assert.equal(log.filter((l) => l === "hydrate g0").length, 2, "an evicted group is hydrated again");
  await actors.run("g199", { kind: "read" });
  assert.equal(log.filter((l) => l === "hydrate g199").length, 1, "a recent group stays live");
  await actors.close();
  await assert.rejects(actors.run("g1", { kind: "read" }), { code: "CLOSED" });
});

test("a resume of a group whose owner is unknown settles without a step; with the owner known it runs", async () => {
  for (const [record, steps] of [
    [undefined, []],
    [{ ...emptyGroupRecord() }, []],
    [{ ...emptyGroupRecord(), owner: new Uint8Array(32) }, ["execute resume#0"]],
    [member, ["execute resume#0"]],
  ] as const) {
    const { machine, log } = fakes({ ...(record === undefined ? {} : { record }), execute: async () => ({ ops: [] }) });
    const actor = createActor(machine, { input: { groupId: "g8" } }).start();
    const resume = job({ kind: "resume" });
    const read = job({ kind: "read" });
    actor.send({ type: "job", job: resume.job });
    actor.send({ type: "job", job: read.job });
    assert.equal(await resume.promise, undefined);
    await read.promise;
    assert.deepEqual(log, ["hydrate g8", ...steps, "execute read#0"]);
    actor.stop();
  }
});

test("an actor created with `resumeFirst` runs a resume before its first job once hydrated, only when the owner is known", async () => {
  for (const [record, steps] of [
    [undefined, []],
    [{ ...emptyGroupRecord(), owner: new Uint8Array(32) }, ["execute resume#0"]],
    [member, ["execute resume#0"]],
  ] as const) {
    const { machine, log } = fakes({ ...(record === undefined ? {} : { record }), execute: async (input) => ({ ops: [], result: input.job.kind }) });
    const actor = createActor(machine, { input: { groupId: "g10", resumeFirst: true } }).start();
    const read = job({ kind: "read" });
    actor.send({ type: "job", job: read.job });
    assert.equal(await read.promise, "read");
    assert.deepEqual(log, ["hydrate g10", ...steps, "execute read#0"]);
    actor.stop();
  }
});

test("a provider whose step returns no output still settles the job, and the next job runs", async () => {
  const { machine, log } = fakes({ record: member, execute: async (input) => (input.job.kind === "read" ? (undefined as unknown as StepOutput) : { ops: [], result: "next done" }) });
  const actor = createActor(machine, { input: { groupId: "g11" } }).start();
  const broken = job({ kind: "read" });
  const next = job({ kind: "dropPending", key: "q", reason: "test" });
  actor.send({ type: "job", job: broken.job });
  actor.send({ type: "job", job: next.job });
  assert.equal(await broken.promise, undefined);
  assert.equal(await next.promise, "next done");
  assert.deepEqual(log, ["hydrate g11", "execute read#0", "execute dropPending#0"]);
  actor.stop();
});
