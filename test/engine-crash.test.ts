/**
 * Crash safety: a child process (test/crash-child.ts) runs three engines through a seeded
 * script (commits, key packages, joins, both schemes, ingests, decryptions) and is killed with
 * SIGKILL at random points, half at a random time after it is ready, half exactly before or
 * after one of its synced store batches; it is restarted after each kill and resumes from its
 * durable position. The end state must equal an uninterrupted run's of the same script (status,
 * epochs, members, messages read), no document or message may be lost, and no (key, nonce)
 * pair may appear twice among everything published over all runs.
 *
 * `CRASH_KILLS` (default 20) sets the number of kills, `CRASH_SEED` the seed (printed on
 * failure), `CRASH_STEPS` the script length (default 6 per kill, at least 70: the kills cover
 * two or three steps each, the rest runs after the last kill), `CRASH_SABOTAGE` breaks the engine
 * on purpose in the child (`outbox-after-state`, `reservation-unsynced`): the test must fail.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { toHex } from "../src/bytes.js";
import { generateIdentity } from "../src/identity.js";
import { ROLES, files, makeScript, position, readLines } from "./crash-support.js";
import type { Role, Script, Step, Summary } from "./crash-support.js";
import { rng } from "./prng.js";

const CHILD = fileURLToPath(new URL("./crash-child.js", import.meta.url));
const KILLS = Number(process.env["CRASH_KILLS"] ?? 20);
const STEPS = Number(process.env["CRASH_STEPS"] ?? Math.max(70, 6 * KILLS));
const SEED = Number(process.env["CRASH_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
const SABOTAGE = process.env["CRASH_SABOTAGE"];

interface Plan {
  readonly killAtBatch?: number;
  readonly killBefore?: boolean;
  readonly killAtStep?: number;
  readonly stopAt?: number;
  readonly sabotage?: string;
}

/** Runs the child once; resolves with how it ended. `killAfterMs` kills it that long after `ready`. */
function runChild(dir: string, mode: "run" | "final", plan: Plan, killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [dir, mode], { env: { ...process.env, CRASH_PLAN: JSON.stringify(plan) }, stdio: ["ignore", "ignore", "pipe", "ipc"] });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    let timer: NodeJS.Timeout | undefined;
    child.on("message", (m) => {
      if (m === "ready" && killAfterMs !== undefined) timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

async function finish(dir: string, plan: Plan, what: string): Promise<void> {
  const end = await runChild(dir, "run", plan);
  assert.equal(end.code, 0, `${what}: ${end.stderr}`);
}

async function summarise(dir: string, plan: Plan, what: string): Promise<Summary> {
  const end = await runChild(dir, "final", plan);
  assert.equal(end.code, 0, `${what} final pass: ${end.stderr}`);
  return JSON.parse(readFileSync(files(dir).summary, "utf8")) as Summary;
}

function newRun(script: Script): string {
  const dir = mkdtempSync(join(tmpdir(), "sg-crash-"));
  writeFileSync(files(dir).script, JSON.stringify(script));
  return dir;
}

const duplicates = (xs: readonly string[]): string[] => xs.filter((x, i) => xs.indexOf(x) !== i);

/** Every role ends as in the uninterrupted run: same state, and every message read (or lost with a kill while it decrypted). */
function assertSameRoles(script: Script, kills: ReadonlyArray<{ at: number }>, expected: Summary, actual: Summary, where: string): void {
  for (const role of ROLES) {
    const { readable, replays, ...state } = actual.roles[role];
    const { readable: expectedReadable, replays: expectedReplays, ...expectedState } = expected.roles[role];
    assert.deepEqual(state, expectedState, `${where}: ${role}'s state`);
    assert.deepEqual(expectedReplays, [], `uninterrupted run: ${role} found spent keys`);
    // a text read and lost with the kill of its decrypt step stays unreadable (its key is
    // spent, durably): allowed only for a role killed while decrypting
    const killedReading = kills.some((k) => script.steps[k.at]?.kind === "decrypt" && (script.steps[k.at] as { who: Role }).who === role);
    if (!killedReading) assert.deepEqual(replays, [], `${where}: ${role} lost texts without a kill while decrypting`);
    assert.deepEqual([...new Set([...readable, ...replays])].sort((a, b) => a - b), expectedReadable, `${where}: messages ${role} read`);
  }
}

test(`killed with SIGKILL at ${KILLS} random points, the engines end as an uninterrupted run, lose nothing and never reuse a nonce`, { timeout: 30 * 60_000 }, async (t) => {
  const secretKeys = Object.fromEntries(ROLES.map((r) => [r, toHex(generateIdentity().secretKey)])) as Record<Role, string>;
  const script = makeScript(SEED, STEPS, secretKeys);
  const sabotage = SABOTAGE === undefined ? {} : { sabotage: SABOTAGE };
  const context = `seed ${SEED} (CRASH_SEED=${SEED} CRASH_KILLS=${KILLS} CRASH_STEPS=${STEPS} to repeat)`;
  t.diagnostic(context);
  const clean = newRun(script);
  const crashed = newRun(script);
  try {
    // the uninterrupted run goes on beside the killed one (the processes mostly wait on fsync)
    const started = performance.now();
    let cleanMs = 0;
    const uninterrupted = (async () => {
      await finish(clean, sabotage, "uninterrupted run");
      const summary = await summarise(clean, sabotage, "uninterrupted run");
      cleanMs = performance.now() - started;
      return summary;
    })();
    uninterrupted.catch(() => undefined);

    const r = rng(SEED ^ 0x5eed);
    const kills: Array<{ at: number; how: string }> = [];
    let finished = false;
    while (kills.length < KILLS) {
      const timed = kills.length % 2 === 0;
      // at the latest as step killAtStep starts: two steps left for each kill still to come, so a
      // fast run cannot reach the script's end before its last kill
      const killAtStep = script.steps.length - 2 * (KILLS - kills.length);
      const plan: Plan = { ...sabotage, killAtStep, ...(timed ? {} : { killAtBatch: 1 + r.int(5), killBefore: r.next() < 0.3 }) };
      const killAfterMs = timed ? r.int(400) : undefined;
      const end = await runChild(crashed, "run", plan, killAfterMs);
      if (end.signal === "SIGKILL") {
        kills.push({ at: position(crashed), how: timed ? `${killAfterMs} ms after ready` : `${plan.killBefore === true ? "before" : "after"} synced batch ${plan.killAtBatch}` });
        continue;
      }
      assert.equal(end.code, 0, `${context}: the child failed after ${kills.length} kills: ${end.stderr}`);
      finished = true;
      break;
    }
    assert.ok(kills.length >= KILLS, `${context}: the script ended after ${kills.length} kills (lengthen CRASH_STEPS)`);
    if (!finished) await finish(crashed, sabotage, `${context}: after the kills`);
    const actual = await summarise(crashed, sabotage, context);
    const expected = await uninterrupted;
    t.diagnostic(`${kills.length} kills at steps ${kills.map((k) => k.at).join(",")} of ${script.steps.length}; uninterrupted run ${(cleanMs / 1000).toFixed(1)} s`);
    const where = `${context}; kills: ${JSON.stringify(kills)}`;

    assertSameRoles(script, kills, expected, actual, where);
    // nothing lost: every created document and message was published
    assert.deepEqual(actual.documents, expected.documents, `${where}: published documents by schema`);
    const encrypting = script.steps.flatMap((s, i) => (s.kind === "encrypt" ? [i] : []));
    assert.deepEqual(actual.messages, encrypting, `${where}: a message of every encrypting step`);
    assert.deepEqual(expected.messages, encrypting);
    // no (key, nonce) twice, over every published message of every run
    for (const summary of [expected, actual]) {
      assert.equal(summary.unchecked, 0, `${where}: sender data not opened`);
      assert.deepEqual(duplicates(summary.longTermNonces), [], `${where}: a long-term (group, epoch, nonce) used twice`);
      assert.deepEqual(duplicates(summary.ratchetKeys), [], `${where}: a sender-ratchet (group, epoch, leaf, generation) used twice`);
    }
    assert.ok(actual.longTermNonces.length > 0 && actual.ratchetKeys.length > 0, "both schemes were used");
  } finally {
    rmSync(clean, { recursive: true, force: true });
    rmSync(crashed, { recursive: true, force: true });
  }
});

test("a text lost with a kill after its decryption's batch is still accounted for once the reader was removed and added again (its epoch gone)", { timeout: 5 * 60_000 }, async () => {
  const secretKeys = Object.fromEntries(ROLES.map((r) => [r, toHex(generateIdentity().secretKey)])) as Record<Role, string>;
  const steps: Step[] = [
    { kind: "keyPackage", who: "alice" },
    { kind: "create" },
    { kind: "add", who: "alice", epoch: 1 },
    { kind: "ingest", who: "alice" },
    { kind: "keyPackage", who: "bob" },
    { kind: "add", who: "bob", epoch: 2 },
    { kind: "ingest", who: "bob" },
    { kind: "encrypt", who: "owner", scheme: "sender-ratchet" },
    { kind: "decrypt", who: "bob" },
    { kind: "remove", who: "bob", epoch: 3 },
    { kind: "keyPackage", who: "bob" },
    { kind: "add", who: "bob", epoch: 4 },
    { kind: "ingest", who: "bob" },
    { kind: "encrypt", who: "alice", scheme: "long-term" },
  ];
  const script: Script = { seed: 0, secretKeys, nonceBlock: 3, steps };
  const reading = 8;
  const clean = newRun(script);
  const crashed = newRun(script);
  try {
    const uninterrupted = finish(clean, {}, "uninterrupted run").then(() => summarise(clean, {}, "uninterrupted run"));
    uninterrupted.catch(() => undefined);
    // run up to bob's decrypt, then kill it just after the decryption's batch (its first synced one)
    assert.equal((await runChild(crashed, "run", { stopAt: reading })).code, 0);
    const killed = await runChild(crashed, "run", { killAtBatch: 1 });
    assert.equal(killed.signal, "SIGKILL", `the kill: ${killed.stderr}`);
    assert.equal(position(crashed), reading);
    assert.deepEqual(readLines(files(crashed).reads("bob")), [], "bob's text of message 7 was lost with the kill");
    await finish(crashed, {}, "after the kill");
    const actual = await summarise(crashed, {}, "after the kill");
    const expected = await uninterrupted;
    assert.ok(expected.roles.bob.readable.includes(7), "bob reads message 7 in the uninterrupted run");
    assert.deepEqual(actual.roles.bob.replays, [7], "the spent key of message 7 was seen (during the run: in the final pass its epoch is gone)");
    assertSameRoles(script, [{ at: reading }], expected, actual, "kill after bob's decryption batch");
  } finally {
    rmSync(clean, { recursive: true, force: true });
    rmSync(crashed, { recursive: true, force: true });
  }
});
