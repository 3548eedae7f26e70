/**
 * Dev script for a receiver engine's commit at N members, warm (not part of the suite): the
 * library's `processCommit` and engines ingesting the same chain of commit documents,
 * interleaved; with `BASE=<other checkout>/dist[,...]` the engines of those checkouts too
 * (before/after in one process). Per engine side it prints the median of the engine's counters
 * per commit (worker work, staging, persist, index) and the process CPU time (all threads) per
 * commit, steadier than wall time on a loaded machine.
 * `node dist/bench/recvDev.js ab|loop [n] [iterations] [update|remove|mixed] [--cold] [--series]` (`loop`: one engine only,
 * for a CPU profile, with each thread's CPU time and minor page faults per commit from /proc on
 * Linux; `--cold` reopens it before each commit (in `ab` mode, each engine before its own), `--series` prints every commit's time; `mixed`: update and
 * remove commits alternate in one chain, and each side's remove is also given as the median of
 * its per-pair ratios to the update before it, measured in the same process and rounds;
 * `--prewarm G,M`: each engine first joins G groups of 100 and ingests M update commits of each,
 * so that its pool threads' code has run before the measured group's commits).
 *
 * @module
 */
import { readdirSync } from "node:fs";
import { threadStat } from "./threads.js";
import { loadavg } from "node:os";
import { processCommit, removeMembers, updateGroup } from "../src/group/index.js";
import { benchPool, chain, EngineNode, ingestApplied, libraryGroup } from "./fixtures.js";
import { summarise } from "./stats.js";
import { interleaved, type Side } from "./timing.js";

const [mode = "ab", nArg = "1000", itArg = "15", kind = "update"] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const n = Number(nArg);
const iterations = Number(itArg);
const median = (xs: readonly number[]): number => summarise(xs).median;
/** `--cold`: the engine is reopened before each commit (the bench's "engine cold" side). */
const cold = process.argv.includes("--cold");

type Fixtures = typeof import("./fixtures.js");
interface EngineSide {
  readonly label: string;
  readonly node: EngineNode;
  readonly fixtures: Fixtures;
  readonly counters: Record<string, number[]>;
}

async function engineSide(label: string, fixtures: Fixtures): Promise<EngineSide> {
  return { label, node: await fixtures.EngineNode.open(fixtures.benchPool()), fixtures, counters: {} };
}

const engines: EngineSide[] = [await engineSide("engine", { benchPool, EngineNode, ingestApplied } as Fixtures)];
for (const base of mode === "ab" ? (process.env.BASE ?? "").split(",").filter((b) => b !== "").reverse() : []) {
  engines.unshift(await engineSide(`engine ${base.split("/").slice(-2).join("/")}`, (await import(`${base}/bench/fixtures.js`)) as Fixtures));
}
// `--prewarm G,M`: before the measured group, each engine joins G groups of 100 and ingests M
// update commits of each (its pool threads' JIT warmed on small groups)
const prewarm = (() => {
  const i = process.argv.indexOf("--prewarm");
  return i < 0 ? undefined : (process.argv[i + 1] as string).split(",").map(Number);
})();
if (prewarm !== undefined) {
  const [g = 4, m = 40] = prewarm;
  const tw = performance.now();
  for (let j = 0; j < g; j++) {
    const wkps: Uint8Array[] = [];
    for (const e of engines) wkps.push(await e.node.keyPackage());
    const wg = await libraryGroup(100, wkps);
    for (const e of engines) await e.fixtures.ingestApplied(e.node.engine, [wg.groupDoc.bytes, wg.head.bytes]);
    const wdocs: Uint8Array[] = [];
    for (let i = 0; i < m; i++) {
      const c = await updateGroup(wg.state);
      wg.state = c.state;
      wg.receiver = await processCommit(wg.receiver, c.commit);
      wdocs.push(chain(wg, c.commit).bytes);
    }
    for (const d of wdocs) for (const e of engines) await e.fixtures.ingestApplied(e.node.engine, [d]);
  }
  console.error(`prewarmed on ${g} groups of 100 x ${m} commits in ${((performance.now() - tw) / 1000).toFixed(1)} s`);
}
const kps: Uint8Array[] = [];
for (const e of engines) kps.push(await e.node.keyPackage());
const t0 = performance.now();
const lib = await libraryGroup(n, kps);
for (const e of engines) await e.fixtures.ingestApplied(e.node.engine, [lib.groupDoc.bytes, lib.head.bytes]);
const rounds = iterations + 2;
const libCommits: Uint8Array[] = [];
const docs: Uint8Array[] = [];
const kindOf = (i: number): "update" | "remove" => (kind === "mixed" ? (i % 2 === 0 ? "update" : "remove") : kind === "remove" ? "remove" : "update");
for (let i = 0; i < rounds; i++) {
  const victim = lib.fillers.pop();
  const c = kindOf(i) === "update" ? await updateGroup(lib.state) : await removeMembers(lib.state, [victim!.identity.publicKey]);
  if (kindOf(i) === "update" && victim !== undefined) lib.fillers.push(victim);
  lib.state = c.state;
  libCommits.push(c.commit);
  docs.push(chain(lib, c.commit).bytes);
}
console.error(`built a group of ${n} and ${rounds} ${kind} commits in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

/** CPU clock ticks (user + system) of every thread of this process, by thread id, with its name (Linux /proc only; empty elsewhere). */
function threadTicks(): Map<string, { name: string; ticks: number; faults: number }> {
  const out = new Map<string, { name: string; ticks: number; faults: number }>();
  try {
    for (const tid of readdirSync("/proc/self/task")) out.set(tid, threadStat(tid));
  } catch {
    // not Linux: no per-thread figures
  }
  return out;
}

/** Each counter's median per commit after the first `skip` commits (ab mode's warm-up rounds), as one line. */
const counterMedians = (e: EngineSide, skip: number): string => Object.entries(e.counters).map(([c, xs]) => `${c} ${median(xs.slice(skip)).toFixed(2)}`).join(", ");

const COUNTERS = ["workMs", "stageMs", "persistMs", "indexMs", "batches"] as const;
const engineRun = (e: EngineSide) => {
  let k = 0;
  return async () => {
    const before = e.node.engine.stats() as unknown as Record<string, number>;
    const cpu = process.cpuUsage();
    const t = performance.now();
    await e.fixtures.ingestApplied(e.node.engine, [docs[k++]!]);
    const total = performance.now() - t;
    const used = process.cpuUsage(cpu);
    // CPU of every thread of the process (main and pool workers): steadier than wall time on a loaded machine
    (e.counters["cpuMs"] ??= []).push((used.user + used.system) / 1000);
    const after = e.node.engine.stats() as unknown as Record<string, number>;
    for (const c of COUNTERS) (e.counters[c] ??= []).push((after[c] ?? 0) - (before[c] ?? 0));
    (e.counters["main+other"] ??= []).push(total - ((after.workMs ?? 0) - (before.workMs ?? 0)) - ((after.stageMs ?? 0) - (before.stageMs ?? 0)) - ((after.persistMs ?? 0) - (before.persistMs ?? 0)));
  };
};

if (mode === "loop") {
  const run = engineRun(engines[0]!);
  const times: number[] = [];
  const threadsBefore = threadTicks();
  console.log(`loop-start-us ${process.hrtime.bigint() / 1000n}`);
  for (let i = 0; i < rounds; i++) {
    if (cold) await engines[0]!.node.reopen(); // untimed: the commit then loads the state from the store
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  console.log(`loop-end-us ${process.hrtime.bigint() / 1000n}`);
  const threadsAfter = threadTicks();
  const byName = new Map<string, { ticks: number; faults: number }>();
  for (const [tid, t] of threadsAfter) {
    const name = tid === String(process.pid) ? "main" : `${t.name}#${tid}`;
    const before = threadsBefore.get(tid);
    byName.set(name, { ticks: t.ticks - (before?.ticks ?? 0), faults: t.faults - (before?.faults ?? 0) });
  }
  // clock ticks (usually 10 ms each) per thread name over the loop, as ms per commit; minor page faults per commit
  const busy = [...byName].filter(([, t]) => t.ticks > 0 || t.faults > 0);
  console.log(`thread CPU ms per commit: ${busy.map(([name, t]) => `${name} ${((t.ticks * 10) / rounds).toFixed(2)}`).join(", ")}`);
  console.log(`minor page faults per commit: ${busy.map(([name, t]) => `${name} ${(t.faults / rounds).toFixed(1)}`).join(", ")}`);
  if (process.argv.includes("--series")) {
    console.log(`series ${times.map((t) => t.toFixed(1)).join(" ")}`);
    for (const c of ["workMs", "persistMs", "main+other", "cpuMs"]) console.log(`  ${c} ${(engines[0]!.counters[c] ?? []).map((t) => t.toFixed(1)).join(" ")}`);
  }
  // the pool worker's first commits of a kind run before its JIT and young generation have settled
  const half = Math.floor(times.length / 2);
  console.log(`engine per commit (median): ${counterMedians(engines[0]!, 0)}`);
  console.log(`engine ${kind}: median ${median(times).toFixed(2)} ms (n=${times.length}; first half ${median(times.slice(0, half)).toFixed(2)}, second half ${median(times.slice(half)).toFixed(2)})  load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
} else {
  let l = 0;
  let receiver = lib.receiver;
  // --cold: each engine reopened before its commit, untimed (so the sides alternate cold commits in one process)
  const sides: Side[] = [
    { label: "library", run: async () => void (receiver = await processCommit(receiver, libCommits[l++]!)) },
    ...engines.map((e) => ({ label: e.label, ...(cold ? { prepare: () => e.node.reopen() } : {}), run: engineRun(e) })),
  ];
  const results = await interleaved(sides, { warmup: 2, iterations });
  const base = median(results[0]!.samples);
  for (const r of results) console.log(`${r.label}: median ${median(r.samples).toFixed(2)} ms (n=${r.samples.length}), ${(median(r.samples) / base).toFixed(2)}x the library`);
  if (process.argv.includes("--series")) for (const r of results) console.log(`series ${r.label}: ${r.samples.map((t) => t.toFixed(1)).join(" ")}`);
  if (kind === "mixed") {
    // the 2 warm-up rounds keep sample s on commit s + 2: even samples are updates, odd ones removes
    for (const r of results) {
      const updates = r.samples.filter((_, s) => s % 2 === 0);
      const removes = r.samples.filter((_, s) => s % 2 === 1);
      const pairs = removes.map((x, j) => x / updates[j]!);
      console.log(`  ${r.label}: update median ${median(updates).toFixed(2)} ms, remove median ${median(removes).toFixed(2)} ms (n ${removes.length}); remove/update, median of per-pair ratios ${median(pairs).toFixed(3)}`);
    }
  }
  if (results.length > 2) {
    const first = results[1]!.samples;
    const firstCpu = engines[0]!.counters["cpuMs"]!;
    for (const [k, r] of results.slice(2).entries()) {
      const cpu = engines[k + 1]!.counters["cpuMs"]!;
      console.log(`${r.label} / ${results[1]!.label}: median of per-round ratios, wall ${median(r.samples.map((s, i) => s / first[i]!)).toFixed(3)}, cpu ${median(cpu.slice(2).map((c, i) => c / firstCpu[i + 2]!)).toFixed(3)}`);
    }
  }
  for (const e of engines) {
    console.log(`  ${e.label} per commit (median): ${counterMedians(e, 2)}`);
  }
  console.log(`load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
}
for (const e of engines) {
  await e.node.dispose();
  await e.node.pool.destroy();
}
