/**
 * Many groups: one engine materialises G groups of 3 members (an owner, itself, a third
 * member) from a shuffled stream of their documents (group, key package and commit
 * documents), ingested in chunks. Against bare ts-mls `joinGroup` of a 3-member group (a
 * different group every iteration), interleaved chunk by chunk, after {@link WARMUP_GROUPS} untimed
 * joins on each side (the engine's through engines of their own on the same pool, each ingesting
 * the measured stream on a copy of the fixture's database and closed before the measured one
 * starts: a close clears its states from the workers). The engine keeps every group's
 * actor hydrated (liveActors = G, no byte bound); the worker caches keep their defaults. Then
 * each group's one encrypted operation is read with `engine.decryptFields` (a document the
 * engine has not ingested; materialising ingested operations is measured in bench/operations.ts).
 *
 * What the memory figures count. The scenario runs in a process of its own (bench/scenarioProcess.ts);
 * the groups, their documents and operations are made in a child of it
 * (bench/manyGroupsFixture.ts) and read from files one chunk at a time, so the process
 * measured holds: Node itself, the engine (main thread: actors, in-memory books, LevelDB), its
 * two pool workers (same process: their heaps and cached MLS states), the bare baseline's 41
 * small groups and one chunk of input. `peakRssBytes` is the process's RSS sampled every 20 ms
 * from just before the first chunk to the end of the decryption; `rssBeforeBytes` is the RSS at
 * that start (engine open, workers up, nothing ingested), and `peakRssBytesPerGroup` the
 * difference per group. `before*` and `after*` break the memory down (after a main-thread GC):
 * main heap, external and array-buffer bytes, the workers' heaps and their cached states.
 * Reported: documents/s, operations/s, those memory figures, bytes per group on disk (LevelDB
 * folder after ingest) and main-thread heap per hydrated actor.
 *
 * @module
 */
import { cp, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { bareGroup, benchPool } from "./fixtures.js";
import { buildManyGroupsFixture, type ManyGroupsFixture } from "./manyGroupsFixture.js";
import { BARE } from "./membership.js";
import { memoryBreakdown, rssSampler } from "./memory.js";
import { join as bareJoin, suiteImpl } from "./mlsHarness.js";
import { summarise } from "./stats.js";
import { interleaved } from "./timing.js";
import { figure, type BenchContext, type Figure, type Row, type Scenario } from "./types.js";

const CHUNKS = 40;

async function folderBytes(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    // a file may go between listing and stat (LevelDB compaction, the keyring's temporary file)
    total += entry.isDirectory() ? await folderBytes(p) : ((await stat(p).catch(() => undefined))?.size ?? 0);
  }
  return total;
}

const prefixed = (prefix: string, figures: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(figures).map(([k, v]) => [`${prefix}${k[0]!.toUpperCase()}${k.slice(1)}`, v]));

/**
 * Groups each side joins, untimed, before the measured ones (a quick run's default; fewer with
 * fewer groups, one in a tiny run with `--warmup 0`). The scenario opens a pool of its own, whose
 * threads compile the join's code from nothing, while the baseline runs on the main thread that
 * earlier scenarios warmed. Measured (session 15, `--only many-groups`, load ~2, two runs each):
 * engine per group 4.09 / 4.05 ms after 1 warm-up join, 3.87 / 3.74 after 500, 3.09 / 3.74 after
 * 2000: V8's warm-up is a small part of the figure, and 500 takes ~10 s. The bare side joins one
 * group as often, its code warms alike. Session 30, with the engine's own work much smaller
 * (groupsDev, 1000 groups a round, one process, quiet): 3.20, 2.13, 1.76, 1.70, 1.61 ms a group
 * over its first five rounds, the V8 threads' CPU (TurboFan) 2.32, 1.33, 0.74, 0.57, 0.51 ms a
 * group: the warm-up now lasts thousands of groups and after 500 the figure measured it (2.84 ms
 * in a quiet run of the scenario; 2.40 after 2000). With the baseline's joins interleaved as here
 * (groupsDev `--bare 25`): 3.15, 3.01, 2.12, 2.21, 1.88, 1.52, 1.53 ms over seven rounds of 1000. So
 * 5000, the engine's through passes over the measured stream (no warm-up groups to make: the
 * cost is the joins themselves, ~50 s of them on the bare side), at most 5 per measured group.
 */
const WARMUP_GROUPS = 5000;

/**
 * Warms the pool's threads and this thread: engines of their own ingest the measured stream, each
 * on a fresh copy of the fixture's database (same identity and key packages; the measured engine,
 * a new engine id, shares no cached state with them: a closed engine's states leave the workers),
 * pass after pass until `count` groups' documents went in. Resolves with each pass's ms a group.
 */
async function warmUpEngine(ctx: BenchContext, pool: ReturnType<typeof benchPool>, fixture: ManyGroupsFixture, dir: string, groups: number, count: number): Promise<number[]> {
  const perPass: number[] = [];
  const perChunk = fixture.documents / fixture.chunks / 3;
  for (let done = 0, pass = 0; done < count; pass++) {
    const path = join(dir, `warm-up-${pass}`);
    await cp(fixture.db, path, { recursive: true });
    const engine = await SecretGroupEngine.open({ path, identity: fixture.identity, pool, liveActors: groups });
    try {
      ctx.progress.phase(`${groups} groups: warm-up, ${done} of ${count} groups ingested`);
      // the chunks likely to hold the groups still wanted, then one more at a time until they joined
      // (a chunk holds some groups' documents only: they are shuffled)
      const t0 = performance.now();
      let joined = 0;
      for (let c = 0; c < fixture.chunks && joined < count - done; ) {
        const upTo = Math.min(fixture.chunks, c + Math.max(1, Math.ceil((count - done - joined) / perChunk)));
        for (; c < upTo; c++) await engine.ingest(await fixture.stream(c));
        joined = (await engine.groups()).filter((g) => g.status === "member").length;
      }
      if (joined === 0) throw new Error("a warm-up engine joined no group of the whole stream");
      perPass.push((performance.now() - t0) / joined);
      done += joined;
    } finally {
      await engine.close();
      await rm(path, { recursive: true, force: true });
    }
  }
  return perPass;
}

async function manyGroupsRows(ctx: BenchContext, groups: number): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), "sg-many-groups-"));
  const pool = benchPool();
  let engine: SecretGroupEngine | undefined;
  let sampler: { stop: () => number } | undefined;
  try {
    const fixture = await buildManyGroupsFixture(dir, groups, CHUNKS, (g) => ctx.progress.phase(`${groups} groups: writing group ${g} (child process)`));
    // every group stays hydrated (the target's "10,000 groups hydrated"): no count or byte bound evicts an actor
    engine = await SecretGroupEngine.open({ path: fixture.db, identity: fixture.identity, pool, liveActors: groups, liveActorBytes: Number.MAX_SAFE_INTEGER });
    const slices = fixture.chunks;
    ctx.progress.phase(`${groups} groups: ${slices} bare groups for the baseline`);
    const csDefault = await suiteImpl("default");
    const bare: Awaited<ReturnType<typeof bareGroup>>[] = [];
    for (let i = 0; i < slices + 1; i++) bare.push(await bareGroup(3));
    // the same number of untimed joins on each side before the measured ones (see WARMUP_GROUPS)
    const warm = bare.pop()!;
    // at most 5 per measured group: a small custom run stays small
    const warmGroups = ctx.config.warmup === 0 ? 1 : Math.min(WARMUP_GROUPS, 5 * groups);
    for (let i = 0; i < warmGroups; i++) await bareJoin(csDefault, warm.welcome, warm.kps[1]!, warm.owner.ratchetTree);
    const warmUpMsPerGroup = await warmUpEngine(ctx, pool, fixture, dir, groups, warmGroups);

    const before = await memoryBreakdown(pool);
    const heapBefore = before.mainHeapBytes!;
    sampler = rssSampler();
    const sizes: number[] = [];
    let b = 0;
    let c = 0;
    let chunk: Uint8Array[] = [];
    let refused = 0;
    const live = engine;
    ctx.progress.phase(`${groups} groups: ingesting ${fixture.documents} documents`);
    const [bareJoins, ingest] = await interleaved(
      [
        { label: `${BARE} joinGroup, 3 members`, prepare: () => void b++, run: () => bareJoin(csDefault, bare[b - 1]!.welcome, bare[b - 1]!.kps[1]!, bare[b - 1]!.owner.ratchetTree) },
        {
          label: "engine.ingest chunk",
          prepare: async () => {
            chunk = await fixture.stream(c++);
            sizes.push(chunk.length);
          },
          run: async () => {
            const report = await live.ingest(chunk).catch((e: { report?: { outcomes: string[] } }) => {
              if (e.report === undefined) throw e;
              return e.report;
            });
            refused += report.outcomes.filter((o) => o === "refused").length;
          },
        },
      ],
      { warmup: 0, iterations: slices },
      () => ctx.progress.tick(),
    );
    chunk = [];
    if (refused > 0) throw new Error(`${refused} documents refused`);
    const joined = (await live.groups()).filter((g) => g.status === "member").length;
    if (joined !== groups) throw new Error(`the engine joined ${joined} of ${groups} groups`);

    ctx.progress.phase(`${groups} groups: decrypting ${groups} operations`);
    const opSizes: number[] = [];
    let o = 0;
    let ops: Uint8Array[] = [];
    let unread = 0;
    const [decrypting] = await interleaved(
      [
        {
          label: "engine.decryptFields",
          prepare: async () => {
            ops = await fixture.operations(o++);
            opSizes.push(ops.length);
          },
          run: async () => {
            for (const r of await Promise.all(ops.map((d) => live.decryptFields(d)))) unread += Object.keys(r.errors).length;
          },
        },
      ],
      { warmup: 0, iterations: fixture.operationChunks },
    );
    ops = [];
    const peak = sampler.stop();
    if (unread > 0) throw new Error(`${unread} operation fields not readable`);
    const after = await memoryBreakdown(pool);
    const heapAfter = after.mainHeapBytes!;
    const disk = await folderBytes(fixture.db);
    const hydrated = live.stats().liveGroups;

    const ingestMs = ingest!.samples.reduce((a, x) => a + x, 0);
    const docsPerS = summarise(ingest!.samples.map((ms, i) => ((sizes[i] ?? 0) / ms) * 1000));
    const opsPerS = summarise(decrypting!.samples.map((ms, i) => ((opSizes[i] ?? 0) / ms) * 1000));
    const perGroup = summarise(ingest!.samples.map((ms, i) => (ms / (sizes[i] ?? 1)) * 3));
    const rate = (label: string, unit: Figure["unit"], spread: typeof docsPerS): Figure => ({ label, unit, spread });
    const extra = {
      groups,
      warmupGroups: warmGroups,
      // the engine's ms a group in its first and last warm-up pass (the first: a fresh pool's
      // threads and this thread compiling the engine's code; both include reading the stream's files)
      warmupFirstPassMsPerGroup: warmUpMsPerGroup[0] ?? 0,
      warmupLastPassMsPerGroup: warmUpMsPerGroup.at(-1) ?? 0,
      documents: fixture.documents,
      totalIngestMs: ingestMs,
      documentsPerSecondOverall: (fixture.documents / ingestMs) * 1000,
      operationsPerSecondOverall: (groups / decrypting!.samples.reduce((a, x) => a + x, 0)) * 1000,
      peakRssBytes: peak,
      rssBeforeBytes: before.rssBytes!,
      peakRssBytesPerGroup: (peak - before.rssBytes!) / groups,
      diskBytesPerGroup: disk / groups,
      heapBytesPerHydratedActor: (heapAfter - heapBefore) / Math.max(1, hydrated),
      hydratedActors: hydrated,
      ...prefixed("before", before),
      ...prefixed("after", after),
    };
    return [
      {
        scenario: "many-groups",
        case: `materialise ${groups} groups of 3 from a shuffled stream`,
        n: groups,
        candidates: [rate("engine.ingest documents/s (per chunk)", "documents/s", docsPerS), rate("engine.decryptFields operations/s (per chunk)", "operations/s", opsPerS)],
        extra,
        note: "operations = decryptFields of each group's encrypted operation, not ingested (ingested operations: the materialise-operations row)",
      },
      {
        scenario: "many-groups-join",
        case: `per group joined, ${groups} groups of 3 (engine: chunk time per document x 3 documents)`,
        n: groups,
        baseline: figure(bareJoins!.label, bareJoins!.spread),
        candidates: [figure("engine ingest per group", perGroup)],
      },
    ];
  } finally {
    sampler?.stop();
    await engine?.close();
    await pool.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The many-groups scenario.
 *
 * @example
 * ```ts
 * await manyGroups.run(ctx);
 * ```
 */
export const manyGroups: Scenario = {
  name: "many-groups",
  title: "many groups",
  produces: ["many-groups", "many-groups-join"],
  // its memory and its engine's thread count nothing the scenarios before it left (scenarioProcess.ts)
  ownProcess: true,
  async run(ctx) {
    for (const groups of ctx.config.groupCounts) {
      ctx.progress.start(2 * Math.min(CHUNKS, groups * 3), `${groups} groups: building`);
      try {
        for (const row of await manyGroupsRows(ctx, groups)) ctx.emit(row);
      } finally {
        ctx.progress.stop();
      }
    }
  },
};
