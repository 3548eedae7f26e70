/**
 * Dev script for the many-groups lane: the engine ingests the shuffled documents of G groups of
 * 3 (bench/groupStream.ts) in 40 chunks, as the many-groups scenario does, from a fixture built
 * once (a LevelDB folder holding the engine's key packages, its identity and the stream), each
 * round on a fresh copy of it. Reports wall ms per group, documents/s, main-thread event-loop
 * utilisation and synced batches. Run two builds alternately (A/B across processes) to compare.
 *
 *   node dist/bench/groupsDev.js --groups 300 --rounds 3 [--fixture /tmp/x] [--chunks 40] [--inflight 1] [--bare 25] [--ab <lever>] [--warmup 8]
 *
 * `--bare K` joins K bare ts-mls groups of 3 on this thread before each chunk, untimed, as the
 * many-groups scenario interleaves its baseline with the chunks.
 * `--inflight N` keeps up to N `ingest` calls in flight (default 1: each chunk awaited, as the
 * many-groups scenario does); `--ab inflight` alternates 2 (on) and 1 (off).
 * `--ab <lever>` alternates rounds with the lever on and off (ABBA order) in this
 * one process, and ends with the medians of both and their ratio (levers: {@link LEVERS}); the
 * first `--warmup` rounds (default 8: four a side) are
 * printed but left out of the medians. `cpuMsPerGroup` is the whole process's CPU (main thread,
 * pool workers, libuv's pool): on 2 busy cores, throughput follows it more than wall time;
 * `threadCpuMsPerGroup` splits it by thread class (main, pool workers, V8's platform threads:
 * GC and concurrent TurboFan compilation, libuv's pool: signature checks, LevelDB writes).
 * `--other <dist folder>` does the same with another build's engine, on that build's own worker
 * pool, as "off" (e.g. the build of the commit before, `npx tsc --outDir distA` there): both
 * module graphs live in this process.
 *
 * @module
 */
import { threadCpuMs, threadFaults, threadStat } from "./threads.js";
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Random } from "../src/cli/random.js";
import type { EngineContext } from "../src/engine/context.js";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { identityFromSecretKey } from "../src/identity.js";
import { bareGroup, benchPool, EngineNode } from "./fixtures.js";
import { join as bareJoin, suiteImpl } from "./mlsHarness.js";
import { packFramed, unpackFramed } from "./framed.js";
import { summarise } from "./stats.js";
import { threeMemberGroup } from "./groupStream.js";

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] as string) : fallback;
};
const groups = Number(arg("--groups", "300"));
const rounds = Number(arg("--rounds", "3"));
const chunks = Number(arg("--chunks", "40"));
const inflight = Number(arg("--inflight", "1"));
const fixture = arg("--fixture", `/tmp/groups5-fixture-${groups}`);
const other = arg("--other", "");
const ab = arg("--ab", other === "" ? "" : "other");
// JIT warm-up lasts ~2,000 groups per module graph (TurboFan still compiles ~150 functions per
// 300 groups after 1,500: functions that run once per group per worker reach it late); with 2
// warm-up rounds one lever (a reverted change of the Sealer) read 0.871x total CPU, with 6 1.021x
const warmup = Number(arg("--warmup", "8"));

/** Turns a lever off on one engine (the old code path), for `--ab`. */
const LEVERS: Record<string, (ctx: EngineContext) => void> = {
  // every pending-chain scan reads the store (an iterator), as before the in-memory positions
  pendingChain: (ctx) => void (ctx.pendingChain.listed = () => undefined),
  // the keyring's shred writes held past the round (close writes them): what the keyring's file
  // writes cost a group at most (session 13)
  keyring: (ctx) => void ((ctx.store as unknown as { shreds: { coalesceMs: number } }).shreds.coalesceMs = 3_600_000),
};
if (ab !== "" && ab !== "other" && ab !== "inflight" && LEVERS[ab] === undefined) throw new Error(`unknown lever ${ab}; known: inflight, ${Object.keys(LEVERS).join(", ")}`);
const median = (xs: readonly number[]): number => summarise(xs).median;


/** The main thread's CPU milliseconds (Linux: its /proc task entry, in clock ticks of 10 ms). */
function mainThreadCpuMs(): number {
  return threadStat(String(process.pid)).ticks * 10;
}

async function buildFixture(pool: ReturnType<typeof benchPool>): Promise<void> {
  await rm(fixture, { recursive: true, force: true });
  await mkdir(fixture, { recursive: true });
  const node = await EngineNode.open(pool);
  const docs: Uint8Array[] = [];
  for (let g = 0; g < groups; g++) docs.push(...(await threeMemberGroup(node)).documents);
  await node.engine.close();
  await cp(node.path, join(fixture, "db"), { recursive: true });
  await rm(node.path, { recursive: true, force: true });
  await writeFile(join(fixture, "identity.bin"), node.identity.secretKey);
  await writeFile(join(fixture, "stream.bin"), packFramed(new Random(groups).shuffle(docs)));
}

// `--bare K`: K bare ts-mls joins of a 3-member group before each chunk, as the scenario interleaves its baseline (untimed here)
const bareEvery = Number(arg("--bare", "0"));

async function main(): Promise<void> {
  const pool = benchPool();
  const csDefault = bareEvery > 0 ? await suiteImpl("default") : undefined;
  const bare = bareEvery > 0 ? await bareGroup(3) : undefined;
  let otherPool = pool;
  try {
    if (!(await stat(join(fixture, "stream.bin")).catch(() => undefined))) await buildFixture(pool);
    const identity = identityFromSecretKey(await readFile(join(fixture, "identity.bin")));
    const stream = unpackFramed(await readFile(join(fixture, "stream.bin"))).map((b) => b.slice());
    const size = Math.ceil(stream.length / chunks);
    const otherDir = other.startsWith("/") ? other : join(process.cwd(), other);
    const OtherEngine =
      other === "" ? SecretGroupEngine : ((await import(new URL(`file://${join(otherDir, "src/engine/engine.js")}`).href)) as { SecretGroupEngine: typeof SecretGroupEngine }).SecretGroupEngine;
    // the other build's engine on the other build's workers: its worker code is part of the comparison
    otherPool = other === "" ? pool : ((await import(new URL(`file://${join(otherDir, "bench/fixtures.js")}`).href)) as { benchPool: typeof benchPool }).benchPool();
    const results: Record<"on" | "off", { ms: number[]; main: number[]; cpu: number[]; threads: Record<string, number>[] }> = {
      on: { ms: [], main: [], cpu: [], threads: [] },
      off: { ms: [], main: [], cpu: [], threads: [] },
    };
    for (let r = 0; r < rounds; r++) {
      const path = await mkdtemp(join(tmpdir(), "groups5-dev-"));
      await cp(join(fixture, "db"), path, { recursive: true });
      // ABBA order: a drift over the rounds (warm-up, load) weighs on both sides alike
      const lever = ab === "" || r % 4 === 0 || r % 4 === 3 ? "on" : "off";
      const engine = await (lever === "off" ? OtherEngine : SecretGroupEngine).open({ path, identity, pool: lever === "off" ? otherPool : pool, liveActors: groups });
      if (lever === "off" && ab !== "other" && ab !== "inflight") LEVERS[ab]!((engine as unknown as { ctx: EngineContext }).ctx);
      const elu0 = performance.eventLoopUtilization();
      const cpu0 = process.cpuUsage();
      const main0 = mainThreadCpuMs();
      const threads0 = threadCpuMs();
      const faults0 = threadFaults();
      const startUs = process.hrtime.bigint() / 1000n; // a CPU profile's clock: summarise a round from here
      let bareMs = 0;
      const t0 = performance.now();
      // `--ab inflight`: the lever on keeps two calls in flight, off awaits each
      const depth = ab === "inflight" ? (lever === "on" ? 2 : 1) : inflight;
      const inFlight = new Set<Promise<unknown>>();
      for (let i = 0; i < stream.length; i += size) {
        if (bareEvery > 0) {
          // untimed: the many-groups scenario interleaves the baseline's joins with the chunks
          const p0 = performance.now();
          for (let j = 0; j < bareEvery; j++) await bareJoin(csDefault!, bare!.welcome, bare!.kps[1]!, bare!.owner.ratchetTree);
          bareMs += performance.now() - p0;
        }
        const call = engine.ingest(stream.slice(i, i + size)).finally(() => inFlight.delete(call));
        inFlight.add(call);
        if (inFlight.size >= depth) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      const ms = performance.now() - t0 - bareMs;
      const elu = performance.eventLoopUtilization(elu0);
      const mainMs = mainThreadCpuMs() - main0;
      const cpu = process.cpuUsage(cpu0);
      const threads1 = threadCpuMs();
      const faults1 = threadFaults();
      const threads = Object.fromEntries(Object.entries(threads1).map(([k, v]) => [k, +((v - threads0[k as keyof typeof threads0]) / groups).toFixed(3)]));
      const joined = (await engine.groups()).filter((g) => g.status === "member").length;
      const s = engine.stats() as unknown as Record<string, unknown>;
      await engine.close();
      await rm(path, { recursive: true, force: true });
      if (joined !== groups) throw new Error(`joined ${joined} of ${groups}`);
      if (r >= warmup || ab === "") {
        results[lever].ms.push(ms / groups);
        results[lever].main.push(mainMs / groups);
        results[lever].cpu.push((cpu.user + cpu.system) / 1000 / groups);
        results[lever].threads.push(threads);
      }
      console.log(
        JSON.stringify({
          round: r,
          startUs: Number(startUs),
          ...(ab === "" ? {} : { [ab]: lever }),
          msPerGroup: +(ms / groups).toFixed(3),
          docsPerS: Math.round((stream.length / ms) * 1000),
          mainBusy: +elu.utilization.toFixed(3),
          mainCpuMsPerGroup: +(mainMs / groups).toFixed(3),
          cpuMsPerGroup: +((cpu.user + cpu.system) / 1000 / groups).toFixed(3),
          threadCpuMsPerGroup: threads,
          // minor page faults a group by thread class (~10 us each on this VM: bench/threads.ts)
          faultsPerGroup: Object.fromEntries(Object.entries(faults1).map(([k, v]) => [k, +((v - faults0[k as keyof typeof faults0]) / groups).toFixed(1)])),
          syncedWrites: s["syncedWrites"],
          perGroup: Object.fromEntries(["batches", "stateTasks", "workerMisses", "workMs", "stageMs", "persistMs", "indexMs"].map((k) => [k, +(Number(s[k]) / groups).toFixed(3)])),
          load: (await import("node:os")).loadavg().map((x) => +x.toFixed(2)),
        }),
      );
    }
    if (ab !== "") {
      const m = (k: "on" | "off", f: "ms" | "main" | "cpu"): number => +median(results[k][f]).toFixed(3);
      console.log(
        JSON.stringify({
          lever: ab,
          n: [results.on.ms.length, results.off.ms.length],
          msPerGroup: { on: m("on", "ms"), off: m("off", "ms"), ratio: +(m("on", "ms") / m("off", "ms")).toFixed(3) },
          mainCpuMsPerGroup: { on: m("on", "main"), off: m("off", "main"), ratio: +(m("on", "main") / m("off", "main")).toFixed(3) },
          cpuMsPerGroup: { on: m("on", "cpu"), off: m("off", "cpu"), ratio: +(m("on", "cpu") / m("off", "cpu")).toFixed(3) },
          threadCpuMsPerGroup: Object.fromEntries(
            ["main", "workers", "v8", "libuv"].map((c) => {
              const on = +median(results.on.threads.map((t) => t[c]!)).toFixed(3);
              const off = +median(results.off.threads.map((t) => t[c]!)).toFixed(3);
              return [c, { on, off, ratio: +(on / off).toFixed(3) }];
            }),
          ),
        }),
      );
    }
  } finally {
    await pool.destroy();
    if (otherPool !== pool) await otherPool.destroy();
  }
}

await main();
