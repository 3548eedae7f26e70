/**
 * Dev script for the owner's commits at N members (not part of the suite): interleaved
 * library vs bare ts-mls 1.6.4 update commits, or create + add N-1, or a profile loop.
 * `node dist/bench/ownerDev.js update|add|loop-update|loop-add|engine-add|engine-update [n] [iterations]`
 * (engine-*: the library and the engine on a two-thread pool, interleaved); `engine-ab` with
 * `BASE=<other checkout>/dist`: that checkout's engine and this one, create + add n - 1;
 * `loop-engine-add`: engine create + add only, with per-phase engine stats (for a CPU profile);
 * `decode-ab`: the decoding the engine's add no longer does, timed on this thread.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { threadCpuMs, type ThreadClass } from "./threads.js";
import { loadavg } from "node:os";
import { addMembers, createGroup, removeMembers, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { bareGroup, bareKeyPackages, benchPool, EngineNode, LT_SUITE, members, type Member } from "./fixtures.js";
import { adds, commit, newGroup, removeLeaf, suiteImpl, type KeyPackagePair } from "./mlsHarness.js";
import { summarise } from "./stats.js";
import { interleaved, type Side } from "./timing.js";
import { nodeHpkeSealHelper } from "../src/mls/crypto/hpke.js";
import { createPool } from "../src/engine/pool.js";

const [mode = "update", nArg = "1000", itArg = "5"] = process.argv.slice(2);
const n = Number(nArg);
const iterations = Number(itArg);
const median = (xs: readonly number[]): number => summarise(xs).median;

async function libGroup(): Promise<{ state: GroupState; fillers: Member[] }> {
  const owner = generateIdentity();
  const state = await createGroup({ identity: owner, groupId: new Uint8Array(randomBytes(32)), ciphersuite: LT_SUITE });
  const fillers = await members(n - 1);
  const added = await addMembers(state, fillers.map((m) => m.keyPackage));
  return { state: added.state, fillers };
}


/** Process CPU time (all threads) of each run of each side, by label: the work done, less bent by other processes' load than wall time. */
const cpu = new Map<string, number[]>();
const classCpu = new Map<string, Record<ThreadClass, number>[]>();
function withCpu(side: Side): Side {
  const runs: number[] = [];
  const classes: Record<ThreadClass, number>[] = [];
  cpu.set(side.label, runs);
  classCpu.set(side.label, classes);
  return {
    ...side,
    run: async () => {
      const start = process.cpuUsage();
      const before = threadCpuMs();
      await side.run();
      const after = threadCpuMs();
      const used = process.cpuUsage(start);
      runs.push((used.user + used.system) / 1000);
      classes.push({ main: after.main - before.main, workers: after.workers - before.workers, v8: after.v8 - before.v8, libuv: after.libuv - before.libuv });
    },
  };
}

function report(results: Awaited<ReturnType<typeof interleaved>>): void {
  for (const r of results) {
    const runs = cpu.get(r.label)?.slice(-r.samples.length);
    if (runs !== undefined && runs.length > 0) console.log(`${r.label}: process CPU median ${median(runs).toFixed(1)} ms (n=${runs.length})`);
    const classes = classCpu.get(r.label)?.slice(-r.samples.length);
    if (classes !== undefined && classes.length > 0) {
      const of = (k: ThreadClass) => median(classes.map((c) => c[k])).toFixed(1);
      console.log(`${r.label}: thread CPU medians main ${of("main")} workers ${of("workers")} libuv ${of("libuv")} v8 ${of("v8")} ms`);
    }
  }
  const base = median(results[0]!.samples);
  for (const r of results) console.log(`${r.label}: median ${median(r.samples).toFixed(1)} ms (n=${r.samples.length}) ratio to ${results[0]!.label} ${(base / median(r.samples)).toFixed(2)}x  samples ${r.samples.map((x) => x.toFixed(0)).join(",")}`);
  // paired per round (the sides of one round ran back to back): robust to load changing between rounds
  for (const r of results.slice(2)) {
    const ratios = r.samples.map((x, i) => (results[1]!.samples[i] as number) / x);
    console.log(`${results[1]!.label} / ${r.label} per round: median ${median(ratios).toFixed(2)}x (n=${ratios.length})`);
  }
  console.log(`load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
}

type GroupApi = typeof import("../src/group/index.js");
const ours: GroupApi = { addMembers, createGroup, removeMembers, updateGroup } as GroupApi;

/** One set of n - 1 key packages per round (and one spare) for the bare side and for ours. */
async function addPools(): Promise<{ pools: KeyPackagePair[][]; libPools: Member[][] }> {
  const pools: KeyPackagePair[][] = [];
  const libPools: Member[][] = [];
  for (let i = 0; i < iterations + 1; i++) {
    pools.push(await bareKeyPackages(n - 1));
    libPools.push(await members(n - 1));
  }
  return { pools, libPools };
}

async function groupWith(api: GroupApi, size: number): Promise<{ state: GroupState; fillers: Member[] }> {
  const state = await api.createGroup({ identity: generateIdentity(), groupId: new Uint8Array(randomBytes(32)), ciphersuite: LT_SUITE });
  const fillers = await members(size - 1);
  return { state: (await api.addMembers(state, fillers.map((m) => m.keyPackage))).state, fillers };
}

if (mode === "ab-update" || mode === "ab-add") {
  // before (BASE: another checkout's dist/src/group/index.js) and after, with bare, interleaved
  const base = (await import(process.env.BASE ?? "/tmp/owner-base/dist/src/group/index.js")) as GroupApi;
  const cs = await suiteImpl("default");
  let sides: Side[];
  if (mode === "ab-update") {
    const bare = await bareGroup(n);
    console.error(`bare group ${performance.now().toFixed(0)}`);
    let bareOwner = bare.owner;
    let before = (await groupWith(base, n)).state;
    console.error(`before group ${performance.now().toFixed(0)}`);
    let after = (await groupWith(ours, n)).state;
    console.error(`after group ${performance.now().toFixed(0)}`);
    sides = [
      { label: "bare 1.6.4", run: async () => void (bareOwner = (await commit(cs, bareOwner)).state) },
      { label: "before", run: async () => void (before = (await base.updateGroup(before)).state) },
      { label: "after", run: async () => void (after = (await updateGroup(after)).state) },
    ];
  } else {
    const { pools, libPools } = await addPools();
    let bk: KeyPackagePair[] = [];
    let lk: Member[] = [];
    const addWith = (api: GroupApi) => async () => {
      const state = await api.createGroup({ identity: generateIdentity(), groupId: new Uint8Array(randomBytes(32)), ciphersuite: LT_SUITE });
      await api.addMembers(state, lk.map((m) => m.keyPackage));
    };
    let uses = 0;
    const nextLib = () => {
      if (uses++ % 2 === 0) lk = libPools.shift()!; // before and after add the same key packages
    };
    sides = [
      { label: "bare 1.6.4", prepare: () => (bk = pools.shift()!), run: async () => commit(cs, await newGroup(cs), adds(bk.map((k) => k.publicPackage))) },
      { label: "before", prepare: nextLib, run: addWith(base) },
      { label: "after", prepare: nextLib, run: addWith(ours) },
    ];
  }
  report(await interleaved(sides.map(withCpu), { warmup: 1, iterations }));
} else if (mode === "update" || mode === "remove") {
  const cs = await suiteImpl("default");
  const bare = await bareGroup(n);
  const lib = await libGroup();
  let bareOwner = bare.owner;
  let libState = lib.state;
  const sides: Side[] =
    mode === "update"
      ? [
          { label: "bare 1.6.4", run: async () => void (bareOwner = (await commit(cs, bareOwner)).state) },
          { label: "library", run: async () => void (libState = (await updateGroup(libState)).state) },
        ]
      : [
          { label: "bare 1.6.4", run: () => commit(cs, bareOwner, [removeLeaf(5)]) },
          { label: "library", run: () => removeMembers(libState, [lib.fillers[5]!.identity.publicKey]) },
        ];
  report(await interleaved(sides, { warmup: 1, iterations }));
} else if (mode === "add") {
  const cs = await suiteImpl("default");
  const { pools, libPools } = await addPools();
  let bk: KeyPackagePair[] = [];
  let lk: Member[] = [];
  report(
    await interleaved(
      [
        { label: "bare 1.6.4", prepare: () => (bk = pools.shift()!), run: async () => commit(cs, await newGroup(cs), adds(bk.map((k) => k.publicPackage))) },
        {
          label: "library",
          prepare: () => (lk = libPools.shift()!),
          run: async () => {
            const state = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(randomBytes(32)), ciphersuite: LT_SUITE });
            await addMembers(state, lk.map((m) => m.keyPackage));
          },
        },
      ],
      { warmup: 1, iterations },
    ),
  );
} else if (mode === "engine-add" || mode === "engine-update") {
  const pool = benchPool();
  const node = await EngineNode.open(pool);
  let sides: Side[];
  if (mode === "engine-add") {
    const { libPools } = await addPools();
    let lk: Member[] = [];
    let uses = 0;
    const next = () => {
      if (uses++ % 2 === 0) lk = libPools.shift()!; // both sides add the same key packages
    };
    sides = [
      {
        label: "library",
        prepare: next,
        run: async () => {
          const state = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(randomBytes(32)), ciphersuite: LT_SUITE });
          await addMembers(state, lk.map((m) => m.keyPackage));
        },
      },
      {
        label: "engine",
        prepare: next,
        run: async () => {
          const created = await node.engine.createGroup({ ciphersuite: LT_SUITE });
          await node.engine.addMembers(created.groupId as Uint8Array, lk.map((m) => m.document));
        },
      },
    ];
  } else {
    let libState = (await libGroup()).state;
    const created = await node.engine.createGroup({ ciphersuite: LT_SUITE });
    const gid = created.groupId as Uint8Array;
    await node.engine.addMembers(gid, (await members(n - 1)).map((m) => m.document));
    sides = [
      { label: "library", run: async () => void (libState = (await updateGroup(libState)).state) },
      { label: "engine warm", run: () => node.engine.updateGroup(gid) },
    ];
  }
  console.log(`start-us ${process.hrtime.bigint() / 1000n}`);
  report(await interleaved(sides.map(withCpu), { warmup: 1, iterations }));
  await node.dispose();
  await pool.destroy();
} else if (mode === "loop-update") {
  let { state } = await libGroup();
  console.log(`loop-start-us ${process.hrtime.bigint() / 1000n}`);
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    state = (await updateGroup(state)).state;
    times.push(performance.now() - t);
  }
  console.log(`library update: median ${median(times).toFixed(1)} ms ${times.map((x) => x.toFixed(0)).join(",")}; helper batches ${nodeHpkeSealHelper.answered}`);
} else if (mode === "engine-ab" || mode === "engine-yg") {
  // before (BASE: another checkout's dist folder, its engine on its own pool) and after, create + add n - 1, same key packages;
  // engine-yg: this build on V8's default young generation (before) and on YG MiB (after)
  type Fixtures = typeof import("./fixtures.js");
  const baseFixtures = (await import(`${mode === "engine-yg" ? ".." : (process.env.BASE ?? "/tmp/owner-base/dist")}/bench/fixtures.js`)) as Fixtures;
  const basePool = baseFixtures.benchPool();
  const baseNode = await baseFixtures.EngineNode.open(basePool);
  const pool = mode === "engine-yg" ? createPool({ threads: 2, youngGenerationMb: Number(process.env.YG ?? 64) }) : benchPool();
  const node = await EngineNode.open(pool);
  const libPools: Member[][] = [];
  for (let i = 0; i < iterations + 1; i++) libPools.push(await members(n - 1));
  let lk: Member[] = [];
  let uses = 0;
  const next = () => {
    if (uses++ % 2 === 0) lk = libPools.shift()!; // both sides add the same key packages
  };
  const addWith = (e: { engine: EngineNode["engine"] }) => async () => {
    const created = await e.engine.createGroup({ ciphersuite: LT_SUITE });
    await e.engine.addMembers(created.groupId as Uint8Array, lk.map((m) => m.document));
  };
  const sides: Side[] = [
    { label: "before", prepare: next, run: addWith(baseNode) },
    { label: "after", prepare: next, run: addWith(node) },
  ];
  const results = await interleaved(sides.map(withCpu), { warmup: 1, iterations });
  report(results);
  const ratios = results[1]!.samples.map((x, i) => (results[0]!.samples[i] as number) / x);
  console.log(`before / after per round: median ${median(ratios).toFixed(3)}x (n=${ratios.length}) ${ratios.map((r) => r.toFixed(2)).join(",")}`);
  await node.dispose();
  await baseNode.dispose();
  await pool.destroy();
  await basePool.destroy();
} else if (mode === "decode-ab") {
  // the decoding an engine add of n - 1 members no longer does, timed interleaved on this thread:
  // the worker's inspectCommit of the add commit, and the KeyPackageRef hashes of keyPackageInfo
  const { keyPackageInfo } = await import("../src/keyPackage.js");
  const { decodeAddableKeyPackage } = await import("../src/mls/keyPackage.js");
  const { inspectCommit } = await import("../src/group/index.js");
  const { addMembersInspected } = await import("../src/group/commit.js");
  const fillers = await members(n - 1);
  const kps = fillers.map((m) => m.keyPackage);
  const state = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(randomBytes(32)), ciphersuite: LT_SUITE });
  const added = await addMembersInspected(state, kps);
  const sides: Side[] = [
    { label: "inspectCommit (removed from the worker)", run: async () => void inspectCommit(added.result.parts) },
    { label: "keyPackageInfo x n-1 (main, before)", run: async () => kps.forEach((k) => keyPackageInfo(k)) },
    { label: "decodeAddableKeyPackage x n-1 (main, after)", run: async () => kps.forEach((k) => decodeAddableKeyPackage(k)) },
  ];
  const results = await interleaved(sides, { warmup: 2, iterations });
  for (const r of results) console.log(`${r.label}: median ${median(r.samples).toFixed(1)} ms (n=${r.samples.length})`);
  console.log(`load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
} else if (mode === "loop-engine-add") {
  // engine create + add only, for a CPU profile (summarise from loop-start-us)
  const pool = benchPool();
  const node = await EngineNode.open(pool);
  const pools: Member[][] = [];
  for (let i = 0; i < iterations + 1; i++) pools.push(await members(n - 1));
  const times: number[] = [];
  for (let i = 0; i <= iterations; i++) {
    if (i === 1) console.log(`loop-start-us ${process.hrtime.bigint() / 1000n}`);
    const t = performance.now();
    const startUs = process.hrtime.bigint() / 1000n;
    const created = await node.engine.createGroup({ ciphersuite: LT_SUITE });
    const before = node.engine.stats();
    const ta = performance.now();
    await node.engine.addMembers(created.groupId as Uint8Array, pools[i]!.map((m) => m.document));
    const after = node.engine.stats();
    if (i > 0) times.push(performance.now() - t);
    const d = (k: "workMs" | "stageMs" | "persistMs" | "indexMs") => (after[k] - before[k]).toFixed(0);
    console.error(`iteration ${i} us ${startUs} ${process.hrtime.bigint() / 1000n} create ${(ta - t).toFixed(0)} add ${(performance.now() - ta).toFixed(0)} work ${d("workMs")} stage ${d("stageMs")} persist ${d("persistMs")} index ${d("indexMs")} misses ${after.workerMisses}`);
  }
  console.log(`engine create+add: median ${median(times).toFixed(1)} ms ${times.map((x) => x.toFixed(0)).join(",")} load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  await node.dispose();
  await pool.destroy();
} else if (mode === "loop-add") {
  const pools: Member[][] = [];
  for (let i = 0; i < iterations; i++) pools.push(await members(n - 1));
  console.log(`loop-start-us ${process.hrtime.bigint() / 1000n}`);
  const times: number[] = [];
  for (const pool of pools) {
    const t = performance.now();
    const state = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(randomBytes(32)), ciphersuite: LT_SUITE });
    await addMembers(state, pool.map((m) => m.keyPackage));
    times.push(performance.now() - t);
  }
  console.log(`library create+add: median ${median(times).toFixed(1)} ms ${times.map((x) => x.toFixed(0)).join(",")}`);
}
