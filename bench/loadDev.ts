/**
 * Dev script for reading a stored MLS state back (not part of the suite): a library receiver of
 * N members follows K remove commits from the end of the tree (each shortens it, as in the
 * receiver benchmarks), staged incrementally as the engine's worker does, so the parts hold the
 * current epoch and up to 16 retained ones. Then `loadGroupState` reads the same parts again
 * and again; with `BASE=<other checkout>/dist[,...]` those builds' loaders take turns with this
 * one in the same process, on the same parts (before/after). Prints each side's median and p10
 * (ms) after the warm-up rounds and, for two sides, the median of their per-round ratios.
 * A CPU profile of one side: `node --cpu-prof dist/bench/loadDev.js 10000 20`.
 *
 * `node dist/bench/loadDev.js [n] [commits] [rounds]` (defaults 1000, 20, 40; building 10,000
 * members takes about a minute)
 *
 * @module
 */
import { loadavg } from "node:os";
import { removeMembers, processCommit } from "../src/group/index.js";
import { loadGroupState, stageGroupState } from "../src/engine/store/stateCodec.js";
import type { PersistMeta } from "../src/mls/storage.js";
import { libraryGroup } from "./fixtures.js";
import { summarise } from "./stats.js";

const [nArg = "1000", kArg = "20", roundsArg = "40"] = process.argv.slice(2);
const n = Number(nArg);
const commits = Number(kArg);
const rounds = Number(roundsArg);
const WARMUP = 6;

type Loader = typeof loadGroupState;
const sides: Array<{ label: string; load: Loader; times: number[] }> = [{ label: "this build", load: loadGroupState, times: [] }];
for (const base of (process.env.BASE ?? "").split(",").filter((b) => b !== "")) {
  const codec = (await import(`${base}/src/engine/store/stateCodec.js`)) as { loadGroupState: Loader };
  sides.push({ label: base.split("/").slice(-2).join("/"), load: codec.loadGroupState, times: [] });
}

const started = performance.now();
const lib = await libraryGroup(n, []);
let rx = lib.receiver;
const store = new Map<string, Uint8Array>();
let meta: PersistMeta | undefined;
const stage = (): void => {
  const staged = stageGroupState(rx, meta);
  for (const [key, value] of staged.parts) value === null ? store.delete(key) : store.set(key, value);
  meta = staged.meta;
};
stage();
for (let i = 0; i < commits; i++) {
  const victim = lib.fillers.pop();
  if (victim === undefined) break;
  const c = await removeMembers(lib.state, [victim.identity.publicKey]);
  lib.state = c.state;
  rx = await processCommit(rx, c.commit);
  stage();
}
const parts = [...store];
const bytes = parts.reduce((sum, [, value]) => sum + value.length, 0);
console.error(`built ${n} members and ${commits} commits in ${((performance.now() - started) / 1000).toFixed(1)} s: ${parts.length} parts, ${bytes} bytes, ${rx.mls.historicalReceiverData.size} retained epochs`);

for (let r = 0; r < rounds + WARMUP; r++) {
  // alternate the order each round, so neither side always runs after the other's garbage
  for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
    const t = performance.now();
    side.load(parts, 0n);
    if (r >= WARMUP) side.times.push(performance.now() - t);
  }
}
for (const side of sides) {
  const s = summarise(side.times);
  const sorted = [...side.times].sort((a, b) => a - b);
  console.log(`${side.label}: median ${s.median.toFixed(2)} ms, p10 ${(sorted[Math.floor(sorted.length / 10)] ?? 0).toFixed(2)} ms (n=${sorted.length})`);
}
if (sides.length === 2) {
  const [a, b] = sides as [(typeof sides)[0], (typeof sides)[0]];
  const ratios = a.times.map((t, i) => t / (b.times[i] as number));
  console.log(`${a.label} / ${b.label}: median of per-round ratios ${summarise(ratios).median.toFixed(3)}`);
}
console.log(`load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
