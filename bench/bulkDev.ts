/**
 * Dev loop for the bulk long-term rows: `node dist/bench/bulkDev.js [suites] [sizes] [values] [iterations]`
 * (suites: 128,256,chacha; sizes in bytes). Raw node:crypto (dropping its plaintexts, and keeping
 * them per batch as the engine's caller does) and the engine run interleaved as in the suite; besides wall time it reads each thread's CPU time (/proc/self/task, Linux) so the
 * cost per value on the main thread and off it (workers, GC helpers) shows through the load of a
 * shared machine. "2-core estimate": the raw loop's CPU per value over the engine's wall time
 * on two idle cores, max(main, (main + off) / 2). "off" is split into the pool's workers (threads
 * that appeared when the pool started) and the helpers that were there before it (V8's platform
 * threads: concurrent marking, sweeping, freeing ArrayBuffers; libuv).
 * BULK_DEV_BASE=distA adds the engine of another build (a folder inside the worktree, with its own
 * pool and group) as a fourth side, interleaved round by round, and prints this build's engine
 * over that one's per round (wall, main CPU, off-main CPU, total CPU; medians): an A/B in one
 * process, both sides under the same load.
 *
 * @module
 */
import { loadavg } from "node:os";
import { PerformanceObserver } from "node:perf_hooks";
import { readdirSync, readFileSync } from "node:fs";
import { threadStat } from "./threads.js";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { LongTermCiphersuite, type LongTermCiphersuiteName } from "../src/constants.js";
import { benchPool, EngineNode, ingestApplied, libraryGroup } from "./fixtures.js";
import { longTermSides, SIDE } from "./bulk.js";
import { summarise } from "./stats.js";

const SHORT: Record<string, LongTermCiphersuiteName> = { "128": "PANDA10_AES128GCM", "256": "PANDA10_AES256GCM", chacha: "PANDA10_CHACHA20POLY1305" };
const [suitesArg = "128,256,chacha", sizesArg = "1024,65536", valuesArg = "20000", itArg = "5"] = process.argv.slice(2);
const suites = suitesArg.split(",").map((s) => SHORT[s] ?? (s as LongTermCiphersuiteName));
const sizes = sizesArg.split(",").map(Number);
const values = Number(valuesArg);
const iterations = Number(itArg);
/** Per-thread CPU ms of the last engine round (BULK_DEV_THREADS=1 prints the busiest threads). */
let threads = new Map<string, number>();

/** Threads alive before the pool started: V8's platform threads and libuv's (not the pool's workers). */
const helperThreads = new Set(readdirSync("/proc/self/task"));

/**
 * CPU ms of the main thread, of all the others, and of the helpers among them (schedstat:
 * nanoseconds on a CPU per thread), and minor page faults by the same classes (stat field 10: a
 * fresh page costs ~20 us on this VM under load, as much as several 1 KiB values).
 */
function cpu(): { main: number; off: number; helpers: number; threads: Map<string, number>; faults: [number, number, number] } {
  let main = 0;
  let off = 0;
  let helpers = 0;
  const faults: [number, number, number] = [0, 0, 0];
  const each = new Map<string, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    let stat: string;
    let minflt: number;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8");
      minflt = threadStat(tid).faults;
    } catch {
      continue; // thread ended
    }
    const ms = Number(stat.split(" ")[0]) / 1e6;
    each.set(tid, ms);
    const kind = Number(tid) === process.pid ? 0 : helperThreads.has(tid) ? 2 : 1;
    faults[kind] += minflt;
    if (kind === 0) main += ms;
    else off += ms;
    if (kind === 2) helpers += ms;
  }
  return { main, off, helpers, threads: each, faults };
}

const median = (xs: readonly number[]): number => summarise(xs).median;

/**
 * The main thread's collections (perf_hooks "gc" entries: start time, kind, ms), read per side
 * by time: full collections (mark-compact) and scavenges each side's rounds caused or paid for.
 */
const collections: Array<{ start: number; major: boolean; ms: number }> = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) collections.push({ start: e.startTime, major: ((e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0) === 4, ms: e.duration });
});
gcObserver.observe({ entryTypes: ["gc"] });
/** Full collections, scavenges and their ms that started within [from, to). */
function collectionsIn(from: number, to: number): [number, number, number] {
  let major = 0;
  let minor = 0;
  let ms = 0;
  for (const c of collections) {
    if (c.start < from || c.start >= to) continue;
    if (c.major) major++;
    else minor++;
    ms += c.ms;
  }
  return [major, minor, ms];
}

/** The other build's bench modules (BULK_DEV_BASE), for a fourth side. */
type BaseBuild = { fixtures: typeof import("./fixtures.js"); bulk: typeof import("./bulk.js") };
const baseDir = process.env.BULK_DEV_BASE;
const base: BaseBuild | undefined =
  baseDir === undefined
    ? undefined
    : {
        fixtures: (await import(pathToFileURL(resolve(baseDir, "bench/fixtures.js")).href)) as BaseBuild["fixtures"],
        bulk: (await import(pathToFileURL(resolve(baseDir, "bench/bulk.js")).href)) as BaseBuild["bulk"],
      };
const basePool = base?.fixtures.benchPool();

const pool = benchPool();
try {
  for (const suite of suites) {
    if (!(suite in LongTermCiphersuite)) throw new Error(`unknown suite ${suite}`);
    const node = await EngineNode.open(pool);
    const baseNode = base === undefined || basePool === undefined ? undefined : await base.fixtures.EngineNode.open(basePool);
    try {
      const g = await libraryGroup(3, [await node.keyPackage()], suite);
      await ingestApplied(node.engine, [g.groupDoc.bytes, g.head.bytes]);
      const bg = base === undefined || baseNode === undefined ? undefined : await base.fixtures.libraryGroup(3, [await baseNode.keyPackage()], suite);
      if (bg !== undefined && baseNode !== undefined && base !== undefined) await base.fixtures.ingestApplied(baseNode.engine, [bg.groupDoc.bytes, bg.head.bytes]);
      for (const size of sizes) {
        // 0 raw (dropping its plaintexts), 1 the engine, 2 raw keeping them per batch, 3 the other build's engine
        const all = longTermSides(suite, node, g.state, size, values).sides;
        const sides = [all[SIDE.raw], all[SIDE.engine], all[SIDE.kept]];
        if (base !== undefined && baseNode !== undefined && bg !== undefined) sides.push(base.bulk.longTermSides(suite, baseNode as never, bg.state as never, size, values).sides[base.bulk.SIDE.engine]);
        const load = loadavg()[0] as number;
        const wall: number[][] = [[], [], [], []];
        const main: number[][] = [[], [], [], []];
        const off: number[][] = [[], [], [], []];
        const helpers: number[][] = [[], [], [], []];
        const faults: number[][] = [[], [], [], []];
        // per side and round: when it ran (for the collections observed in it)
        const spans: Array<Array<[number, number]>> = [[], [], [], []];
        // the engine's page faults by thread class: main, pool workers, helpers
        const engineFaults: number[][] = [[], [], []];
        // BULK_DEV_SIDES=engine: the engine alone (for a CPU profile of its main thread)
        const only = process.env.BULK_DEV_SIDES === "engine" ? [1] : sides.length > 3 ? [0, 1, 2, 3] : [0, 1, 2];
        for (let round = 0; round < 1 + iterations; round++) {
          // with a base build: raw, kept, then the two engines in turns, so each engine follows the
          // kept loop (and the other engine) as often: a side pays for its predecessor's garbage
          const order = only.length === 4 ? (round % 2 === 0 ? [0, 2, 1, 3] : [0, 2, 3, 1]) : undefined;
          for (let k = 0; k < only.length; k++) {
            const i = (order === undefined ? only[(k + round) % only.length] : order[k]) as number;
            const f0 = process.resourceUsage().minorPageFault;
            const c0 = cpu();
            const t0 = performance.now();
            await sides[i]!.run();
            const t = performance.now() - t0;
            const c1 = cpu();
            if (round === 0) continue;
            wall[i]!.push(t);
            spans[i]!.push([t0, t0 + t]);
            main[i]!.push(c1.main - c0.main);
            off[i]!.push(c1.off - c0.off);
            helpers[i]!.push(c1.helpers - c0.helpers);
            faults[i]!.push(process.resourceUsage().minorPageFault - f0);
            if (i === 1) for (let kind = 0; kind < 3; kind++) engineFaults[kind]!.push(c1.faults[kind]! - c0.faults[kind]!);
            if (i === 1) threads = new Map([...c1.threads].map(([tid, ms]) => [tid, ms - (c0.threads.get(tid) ?? 0)]));
          }
        }
        const us = (ms: number) => ((ms * 1000) / values).toFixed(2);
        // the observer's entries arrive after the fact: one turn of the loop first
        await new Promise((r) => setTimeout(r, 50));
        const gcOf = (i: number): string => {
          const per = spans[i]!.map(([a, b]) => collectionsIn(a, b));
          return `${median(per.map((p) => p[0]))} full / ${median(per.map((p) => p[1]))} scavenges, ${median(per.map((p) => p[2])).toFixed(0)} ms`;
        };
        const [rw, ew] = [median(wall[0]!), median(wall[1]!)];
        const [rm, em, eo] = [median(main[0]!), median(main[1]!), median(off[1]!)];
        // per round: the raw loop's CPU over the engine's (adjacent in time, so alike in load)
        const paired = (f: (k: number) => number) => median(wall[1]!.map((_, k) => f(k)));
        const mainShare = paired((k) => main[1]![k]! / main[0]![k]!);
        const offShare = paired((k) => off[1]![k]! / main[0]![k]!);
        const helperShare = paired((k) => helpers[1]![k]! / main[0]![k]!);
        const rawHelperShare = paired((k) => helpers[0]![k]! / main[0]![k]!);
        const estimate = 1 / Math.max(mainShare, (mainShare + offShare) / 2);
        process.stdout.write(
          `${suite.padEnd(25)} ${String(size).padStart(5)} B x${values}: wall raw ${rw.toFixed(0)} engine ${ew.toFixed(0)} ms = ${paired((k) => wall[0]![k]! / wall[1]![k]!).toFixed(2)}x | CPU us/value raw ${us(rm)} (off ${us(median(off[0]!))}), engine main ${us(em)} off ${us(eo)} | per raw: main ${mainShare.toFixed(2)} off ${offShare.toFixed(2)} (workers ${(offShare - helperShare).toFixed(2)}, helpers ${helperShare.toFixed(2)}; raw's helpers ${rawHelperShare.toFixed(2)}) -> 2-core estimate ${estimate.toFixed(2)}x | page faults/value raw ${(median(faults[0]!) / values).toFixed(2)} engine ${(median(faults[1]!) / values).toFixed(2)} (main ${(median(engineFaults[0]!) / values).toFixed(3)}, workers ${(median(engineFaults[1]!) / values).toFixed(3)}, helpers ${(median(engineFaults[2]!) / values).toFixed(3)}) (n=${iterations}, load ${load.toFixed(1)})\n`,
        );
        if (sides.length > 3) {
          const ab = (f: (k: number) => number) => median(wall[1]!.map((_, k) => f(k))).toFixed(3);
          const total = (i: number, k: number) => main[i]![k]! + off[i]![k]!;
          process.stdout.write(
            `  AB this/base engine, median of per-round ratios (n=${iterations}): wall ${ab((k) => wall[1]![k]! / wall[3]![k]!)} main CPU ${ab((k) => main[1]![k]! / main[3]![k]!)} off CPU ${ab((k) => off[1]![k]! / off[3]![k]!)} total CPU ${ab((k) => total(1, k) / total(3, k))} | base: wall ${median(wall[3]!).toFixed(0)} ms, main ${us(median(main[3]!))} off ${us(median(off[3]!))} us/value, per raw main ${paired((k) => main[3]![k]! / main[0]![k]!).toFixed(2)} off ${paired((k) => off[3]![k]! / main[0]![k]!).toFixed(2)}\n`,
          );
        }
        if (only.length > 1) {
          const kept = paired((k) => wall[2]![k]! / wall[1]![k]!);
          process.stdout.write(
            `  kept-plaintexts raw loop: wall ${median(wall[2]!).toFixed(0)} ms, engine ${kept.toFixed(2)}x of it | CPU us/value ${us(median(main[2]!))} (off ${us(median(off[2]!))}, helpers ${us(median(helpers[2]!))}), ${paired((k) => main[2]![k]! / main[0]![k]!).toFixed(2)}x the dropping loop's | page faults/value ${(median(faults[2]!) / values).toFixed(2)}\n`,
          );
        }
        process.stdout.write(`  main-thread collections per round (medians): raw ${gcOf(0)} | engine ${gcOf(1)}${only.length > 1 ? ` | kept ${gcOf(2)}` : ""}${sides.length > 3 ? ` | base engine ${gcOf(3)}` : ""}\n`);
        if (process.env.BULK_DEV_THREADS === "1") {
          const busiest = [...threads].sort((a, b) => b[1] - a[1]).slice(0, 8);
          const name = (tid: string): string => {
            if (Number(tid) === process.pid) return "main";
            try {
              return `${readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim()}#${tid}`;
            } catch {
              return tid;
            }
          };
          process.stdout.write(`  last engine round, CPU us/value by thread: ${busiest.map(([tid, ms]) => `${name(tid)} ${((ms * 1000) / values).toFixed(2)}`).join(", ")}\n`);
        }
      }
    } finally {
      await node.dispose();
      await baseNode?.dispose();
    }
  }
} finally {
  gcObserver.disconnect();
  await pool.destroy();
  await basePool?.destroy();
}
