/**
 * Dev script for the engine's join at N members (not part of the suite): the library's
 * `joinGroup` and an engine ingesting the group and commit documents, interleaved; with
 * `BASE=<other checkout>/dist[,<another>/dist]` the engines of those checkouts too (before/after in one process).
 * Groups are built in a worker thread (joinWorker.ts, no bare ts-mls group), one per join.
 * `node dist/bench/joinDev.js ab|loop [n] [iterations]` (`loop`: engine joins only, for a
 * CPU profile; `--stats` prints the engine's counters after each join). `ab` prints each side's
 * wall time, process CPU and CPU per thread class (bench/threads.ts) per join.
 *
 * @module
 */
import { threadCpuMs, threadFaults, type ThreadClass } from "./threads.js"; // first: it tells threads apart by the order they started
import { Worker } from "node:worker_threads";
import { loadavg } from "node:os";
import { joinGroup } from "../src/group/index.js";
import { benchPool, EngineNode, ingestApplied } from "./fixtures.js";
import type { JoinInput } from "./join.js";
import { summarise } from "./stats.js";
import { interleaved, type Side } from "./timing.js";

const [mode = "ab", nArg = "1000", itArg = "7"] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const showStats = process.argv.includes("--stats");
const n = Number(nArg);
const iterations = Number(itArg);
const median = (xs: readonly number[]): number => summarise(xs).median;

function buildInputs(engineKeyPackages: Uint8Array[]): Promise<JoinInput[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./joinWorker.js", import.meta.url), { workerData: { n, engineKeyPackages, noBare: true } });
    worker.once("message", (m: JoinInput[]) => resolve(m));
    worker.once("error", reject);
    worker.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`join worker exited with ${code}`))));
  });
}

type Fixtures = typeof import("./fixtures.js");
interface EngineSide {
  label: string;
  nodes: EngineNode[];
  inputs: JoinInput[];
  fixtures: Fixtures;
}

async function engineSide(label: string, fixtures: Fixtures, count: number): Promise<EngineSide> {
  const pool = fixtures.benchPool();
  const nodes: EngineNode[] = [];
  for (let i = 0; i < count; i++) nodes.push(await fixtures.EngineNode.open(pool));
  return { label, nodes, inputs: [], fixtures };
}

const rounds = mode === "loop" ? iterations : iterations + 1;
const engines: EngineSide[] = [await engineSide("engine", { benchPool, EngineNode, ingestApplied } as Fixtures, rounds)];
// BASE: one or more other checkouts' dist folders, comma-separated (their engines run as "engine <folder>")
for (const base of mode === "ab" ? (process.env.BASE ?? "").split(",").filter((b) => b !== "").reverse() : []) {
  engines.unshift(await engineSide(`engine ${base.split("/").slice(-2).join("/")}`, (await import(`${base}/bench/fixtures.js`)) as Fixtures, rounds));
}
const kps: Uint8Array[] = [];
for (let i = 0; i < rounds; i++) for (const e of engines) kps.push(await e.nodes[i]!.keyPackage());
const t0 = performance.now();
const inputs = await buildInputs(kps);
console.error(`built ${inputs.length} groups of ${n} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
inputs.forEach((input, i) => engines[i % engines.length]!.inputs.push(input));

const engineRun = (e: EngineSide) => {
  let k = 0;
  return async () => {
    const i = k++;
    const node = e.nodes[i]!;
    const input = e.inputs[i]!;
    await e.fixtures.ingestApplied(node.engine, [input.engine.groupDoc, input.engine.commitDoc]);
    if (showStats) console.error(e.label, JSON.stringify(node.engine.stats()));
  };
};

if (mode === "loop") {
  const run = engineRun(engines[0]!);
  const times: number[] = [];
  console.log(`loop-start-us ${process.hrtime.bigint() / 1000n}`); // a CPU profile's clock: summarise from here
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  console.log(`engine join: median ${median(times).toFixed(1)} ms  samples ${times.map((x) => x.toFixed(0)).join(",")}  load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
} else {
  let l = 0;
  const libInputs = inputs;
  const sides: Side[] = [{ label: "library", run: () => joinGroup(libInputs[l++]!.library) }, ...engines.map((e) => ({ label: e.label, run: engineRun(e) }))];
  // process CPU time (all threads) of each run: the work done, less bent by other processes' load than wall time
  const cpu = new Map<string, number[]>();
  // CPU per thread class (Linux schedstat, bench/threads.ts): main, pool workers, V8's platform threads, libuv
  const classes: readonly ThreadClass[] = ["main", "workers", "v8", "libuv"];
  const threadCpu = new Map<string, number[]>();
  const faults = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number): number => (m.get(k) ?? m.set(k, []).get(k)!).push(v);
  const withCpu = (side: Side): Side => ({
    ...side,
    run: async () => {
      const start = process.cpuUsage();
      const threads = threadCpuMs();
      const faulted = threadFaults();
      await side.run();
      const after = threadCpuMs();
      const faultedAfter = threadFaults();
      for (const c of classes) push(threadCpu, `${side.label}/${c}`, after[c] - threads[c]);
      for (const c of classes) push(faults, `${side.label}/${c}`, faultedAfter[c] - faulted[c]);
      const used = process.cpuUsage(start);
      push(cpu, side.label, (used.user + used.system) / 1000);
    },
  });
  const results = await interleaved(sides.map(withCpu), { warmup: 1, iterations });
  const base = median(results[0]!.samples);
  for (const r of results) {
    const runs = cpu.get(r.label)!.slice(-r.samples.length);
    console.log(`${r.label}: median ${median(r.samples).toFixed(1)} ms (n=${r.samples.length}), ${(median(r.samples) / base).toFixed(2)}x the library, process CPU median ${median(runs).toFixed(1)} ms (${classes.map((c) => `${c} ${median(threadCpu.get(`${r.label}/${c}`)!.slice(-r.samples.length)).toFixed(1)}`).join(", ")}), page faults (${classes.map((c) => `${c} ${median(faults.get(`${r.label}/${c}`)!.slice(-r.samples.length)).toFixed(0)}`).join(", ")})  samples ${r.samples.map((x) => x.toFixed(0)).join(",")}`);
  }
  // paired per round (the sides of one round ran back to back): robust to load changing between rounds
  for (const r of results.slice(2)) {
    const ratios = r.samples.map((x, i) => (results[1]!.samples[i] as number) / x);
    const cpuOf = (label: string): number[] => cpu.get(label)!.slice(-r.samples.length);
    const cpuRatios = cpuOf(r.label).map((x, i) => (cpuOf(results[1]!.label)[i] as number) / x);
    console.log(`${results[1]!.label} / ${r.label} per round: median ${median(ratios).toFixed(3)}x, process CPU ${median(cpuRatios).toFixed(3)}x (n=${ratios.length})`);
  }
  console.log(`load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
}
for (const e of engines) {
  for (const node of e.nodes) await node.dispose();
  await e.nodes[0]?.pool.destroy();
}
