/**
 * Dev script (not part of the suite): a library receiver's update and remove commits at N
 * members (default 10,000), with the built group cached on disk so it is built once (a
 * 10,000-member group takes minutes). With `--bare` (N <= 1000 only: the bare library builds
 * its own group) bare ts-mls 1.6.4 runs interleaved in the same process and each median is
 * also given as a ratio to it.
 *
 * ```
 * node dist/bench/receiver-large.js [--n 10000] [--rounds 7] [--kind update|remove|both] [--bare] [--cache DIR]
 * node dist/bench/receiver-large.js --n 10000 --rounds 5 --profile /tmp/rx   (writes /tmp/rx-update.cpuprofile ...)
 * node dist/bench/receiver-large.js --n 1000 --engine [--cold] --rounds 9   (a receiver engine beside the library)
 * ```
 *
 * @module
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Session } from "node:inspector/promises";
import { parseArgs } from "node:util";
import type { ClientState } from "ts-mls-bare";
import { decodeGroupState, encodeGroupState, processCommit, removeMembers, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { bareGroup, benchPool, chain, EngineNode, ingestApplied, libraryGroup } from "./fixtures.js";
import { applyCommit, commit, removeLeaf, suiteImpl } from "./mlsHarness.js";
import { interleaved, type Side } from "./timing.js";
import { packFramed, unpackFramed } from "./framed.js";

interface Cached {
  owner: GroupState;
  receiver: GroupState;
  /** Public keys of members the owner may remove (never the receiver). */
  removable: Uint8Array[];
}

async function cachedGroup(n: number, dir: string): Promise<Cached> {
  const file = join(dir, `receiver-large-${n}.bin`);
  try {
    const [ownerBytes, receiverBytes, ...removable] = unpackFramed(new Uint8Array(await readFile(file)));
    if (ownerBytes === undefined || receiverBytes === undefined) throw new RangeError(`${file}: not a fixture`);
    const owner = decodeGroupState(ownerBytes, { provider: "node" });
    const receiver = decodeGroupState(receiverBytes, { provider: "node" });
    console.log(`fixture: ${file}`);
    return { owner, receiver, removable };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const started = Date.now();
  console.log(`building a ${n}-member group (cached in ${file})...`);
  const g = await libraryGroup(n, []);
  const removable = g.fillers.map((f) => f.identity.publicKey);
  const out = packFramed([encodeGroupState(g.state), encodeGroupState(g.receiver), ...removable]);
  await mkdir(dir, { recursive: true });
  await writeFile(file, out);
  console.log(`built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { owner: { ...g.state, provider: "node" }, receiver: { ...g.receiver, provider: "node" }, removable };
}

/** Library vs a warm receiver engine on a freshly built group (not cached: engines need their own key package in it). */
async function engineRun(n: number, rounds: number, warmup: number, profile: string | undefined, cold: boolean): Promise<void> {
  const pool = benchPool();
  const rx = await EngineNode.open(pool);
  try {
    const lib = await libraryGroup(n, [await rx.keyPackage()]);
    await ingestApplied(rx.engine, [lib.groupDoc.bytes, lib.head.bytes]);
    for (const kind of ["update", "remove"] as const) {
      const libCommits: Uint8Array[] = [];
      const docs: Uint8Array[] = [];
      for (let i = 0; i < (cold ? 4 : 2) * (warmup + rounds); i++) {
        const c = kind === "update" ? await updateGroup(lib.state) : await removeMembers(lib.state, [lib.fillers.pop()!.identity.publicKey]);
        lib.state = c.state;
        libCommits.push(c.commit);
        docs.push(chain(lib, c.commit).bytes);
      }
      let l = 0;
      let e = 0;
      let next: Uint8Array = new Uint8Array(0);
      const sides: Side[] = [
        { label: "library", prepare: () => (next = libCommits[(l += 2) - 2] as Uint8Array), run: async () => {
          lib.receiver = await processCommit(lib.receiver, next);
          lib.receiver = await processCommit(lib.receiver, libCommits[l - 1] as Uint8Array);
        } },
        { label: "engine warm", prepare: () => (next = docs[(e += 2) - 2] as Uint8Array), run: async () => {
          await ingestApplied(rx.engine, [next]);
          await ingestApplied(rx.engine, [docs[e - 1] as Uint8Array]);
        } },
      ];
      if (cold) {
        // a reopened engine (state read from the store into the worker), then a warm one: the pair's difference is the cold cost
        sides.push({ label: "engine cold", prepare: async () => {
          await rx.reopen();
          next = docs[(e += 2) - 2] as Uint8Array;
        }, run: async () => {
          await ingestApplied(rx.engine, [next]);
          await ingestApplied(rx.engine, [docs[e - 1] as Uint8Array]);
        } });
      }
      const before = { ...rx.engine.stats() };
      const session = profile === undefined ? undefined : new Session();
      if (session !== undefined) {
        session.connect();
        await session.post("Profiler.enable");
        await session.post("Profiler.start");
      }
      const [library, engine, coldEngine] = await interleaved(sides, { warmup, iterations: rounds });
      // the library receiver follows the whole chain (the cold side used commits of its own)
      while (l < libCommits.length) lib.receiver = await processCommit(lib.receiver, libCommits[l++] as Uint8Array);
      if (session !== undefined) {
        const { profile: cpu } = await session.post("Profiler.stop");
        await writeFile(`${profile}-engine-${kind}.cpuprofile`, JSON.stringify(cpu));
        session.disconnect();
      }
      // the engine's own counters over the run (warm-up included), per commit: worker library time, staging, batch writes
      const after = rx.engine.stats();
      const commits = (cold ? 4 : 2) * (warmup + rounds);
      // (a reopened engine starts its counters again: none with --cold)
      const per = (k: "workMs" | "stageMs" | "persistMs"): string => (cold ? "-" : ((after[k] - before[k]) / commits).toFixed(1));
      console.log(`N=${n} receiver ${kind} (two commits a sample, per commit): library ${(library!.spread.median / 2).toFixed(1)} ms, engine warm ${(engine!.spread.median / 2).toFixed(1)} ms${coldEngine === undefined ? "" : `, engine cold ${coldEngine.spread.median.toFixed(1)} ms + warm`} (samples ${rounds}; mean per commit: worker ${per("workMs")}, stage ${per("stageMs")}, persist ${per("persistMs")} ms) | misses ${after.workerMisses} | load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
    }
  } finally {
    await rx.dispose();
    await pool.destroy();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: "string", default: "10000" },
      rounds: { type: "string", default: "7" },
      warmup: { type: "string", default: "1" },
      kind: { type: "string", default: "both" },
      bare: { type: "boolean", default: false },
      // N <= 1000: a receiver engine (warm: state held in its worker) interleaved with the library
      engine: { type: "boolean", default: false },
      // with --engine: a reopened engine's pair of commits too (the first reads the state from the store)
      cold: { type: "boolean", default: false },
      cache: { type: "string", default: join(tmpdir(), "sg-receiver-large") },
      // a CPU profile of the timed rounds only (the commits' creation is left out)
      profile: { type: "string" },
    },
  });
  const n = Number(values.n);
  const rounds = Number(values.rounds);
  const warmup = Number(values.warmup);
  if (values.engine) return engineRun(n, rounds, warmup, values.profile, values.cold);
  const g = await cachedGroup(n, values.cache);
  // the library's default provider (node:crypto), as the bench's library side
  let receiver: GroupState = g.receiver;
  let owner = g.owner;
  const bare = values.bare ? await bareGroup(n) : undefined;
  const csNode = await suiteImpl("node");
  const csDefault = await suiteImpl("default");
  let bareRemoved = 0;
  const kinds = values.kind === "both" ? (["update", "remove"] as const) : ([values.kind as "update" | "remove"] as const);
  for (const kind of kinds) {
    const need = warmup + rounds;
    const libCommits: Uint8Array[] = [];
    for (let i = 0; i < need; i++) {
      const c = kind === "update" ? await updateGroup(owner) : await removeMembers(owner, [g.removable.pop() as Uint8Array]);
      owner = c.state;
      libCommits.push(c.commit);
    }
    const bareCommits: Uint8Array[] = [];
    if (bare !== undefined) {
      let bo: ClientState = bare.owner;
      for (let i = 0; i < need; i++) {
        const c = await commit(csNode, bo, kind === "update" ? [] : [removeLeaf(n - 1 - bareRemoved++)]);
        bo = c.state;
        bareCommits.push(c.commit);
      }
      bare.owner = bo;
    }
    let l = 0;
    let b = 0;
    let next: Uint8Array = new Uint8Array(0);
    const sides: Side[] = [{ label: "library", prepare: () => (next = libCommits[l++] as Uint8Array), run: async () => void (receiver = await processCommit(receiver, next)) }];
    if (bare !== undefined) {
      sides.push({ label: "bare", prepare: () => (next = bareCommits[b++] as Uint8Array), run: async () => void (bare.receiver = await applyCommit(csDefault, bare.receiver, next)) });
    }
    const session = values.profile === undefined ? undefined : new Session();
    if (session !== undefined) {
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.start");
    }
    const results = await interleaved(sides, { warmup, iterations: rounds });
    if (session !== undefined) {
      const { profile } = await session.post("Profiler.stop");
      await writeFile(`${values.profile}-${kind}.cpuprofile`, JSON.stringify(profile));
      session.disconnect();
    }
    const lib = results[0]!;
    let line = `N=${n} receiver ${kind}: library median ${lib.spread.median.toFixed(1)} ms (samples ${lib.samples.length}, ${lib.samples.map((s) => s.toFixed(1)).join(" ")})`;
    if (bare !== undefined) {
      const base = results[1]!;
      line += ` | bare median ${base.spread.median.toFixed(1)} ms -> ${(base.spread.median / lib.spread.median).toFixed(1)}x`;
    }
    console.log(`${line} | load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  }
}

await main();
