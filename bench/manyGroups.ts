/**
 * Many groups: one engine materialises G groups of 3 members (an owner, itself, a third
 * member) from a shuffled stream of their documents (group, key package and commit
 * documents), ingested in chunks. Against bare ts-mls `joinGroup` of a 3-member group (a
 * different group every iteration), interleaved chunk by chunk. The engine keeps every group's
 * actor hydrated (liveActors = G). Then each group's one encrypted operation is read with
 * `engine.decryptFields` (a document the engine has not ingested; materialising ingested
 * operations is measured in bench/operations.ts).
 * Reported: documents/s, operations/s, peak RSS of the process (workers included), bytes per
 * group on disk (LevelDB folder after ingest) and main-thread heap per hydrated actor.
 *
 * @module
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Random } from "../src/cli/random.js";
import { bareGroup, benchPool, EngineNode } from "./fixtures.js";
import { ownerOperation, threeMemberGroup } from "./groupStream.js";
import { BARE } from "./membership.js";
import { join as bareJoin, suiteImpl } from "./mlsHarness.js";
import { summarise } from "./stats.js";
import { interleaved } from "./timing.js";
import { figure, type BenchContext, type Figure, type Row, type Scenario } from "./types.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
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

async function streamFor(ctx: BenchContext, node: EngineNode, groups: number): Promise<{ stream: Uint8Array[]; operations: Uint8Array[] }> {
  const docs: Uint8Array[] = [];
  const operations: Uint8Array[] = [];
  for (let g = 0; g < groups; g++) {
    if (g % 100 === 0) ctx.progress.phase(`${groups} groups: writing group ${g}`);
    const { owner, state, documents } = await threeMemberGroup(node);
    operations.push((await ownerOperation(owner, state, `operation of group ${g}`, g, "long-term")).doc.bytes);
    docs.push(...documents);
  }
  return { stream: new Random(groups).shuffle(docs), operations };
}

async function manyGroupsRows(ctx: BenchContext, groups: number): Promise<Row[]> {
  const pool = benchPool();
  const node = await EngineNode.open(pool, { liveActors: groups });
  let stopSampler = (): void => {};
  try {
    const { stream, operations } = await streamFor(ctx, node, groups);
    const chunks = Math.min(CHUNKS, stream.length);
    const size = Math.ceil(stream.length / chunks);
    const slices: Uint8Array[][] = [];
    for (let i = 0; i < stream.length; i += size) slices.push(stream.slice(i, i + size));
    ctx.progress.phase(`${groups} groups: ${slices.length} bare groups for the baseline`);
    const csDefault = await suiteImpl("default");
    const bare: Awaited<ReturnType<typeof bareGroup>>[] = [];
    for (let i = 0; i < slices.length + 1; i++) bare.push(await bareGroup(3));
    // one untimed join each: the same warm-up for both sides
    const warm = bare.pop()!;
    await bareJoin(csDefault, warm.welcome, warm.kps[1]!, warm.owner.ratchetTree);
    const warmNode = await EngineNode.open(pool);
    const warmStream = await streamFor(ctx, warmNode, 1);
    await warmNode.engine.ingest(warmStream.stream);
    await warmNode.dispose();

    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const rssBefore = process.memoryUsage.rss();
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
    stopSampler = () => clearInterval(sampler);
    let b = 0;
    let c = 0;
    let chunk: Uint8Array[] = [];
    let refused = 0;
    ctx.progress.phase(`${groups} groups: ingesting ${stream.length} documents`);
    const [bareJoins, ingest] = await interleaved(
      [
        { label: `${BARE} joinGroup, 3 members`, prepare: () => void b++, run: () => bareJoin(csDefault, bare[b - 1]!.welcome, bare[b - 1]!.kps[1]!, bare[b - 1]!.owner.ratchetTree) },
        {
          label: "engine.ingest chunk",
          prepare: () => (chunk = slices[c++] as Uint8Array[]),
          run: async () => {
            const report = await node.engine.ingest(chunk).catch((e: { report?: { outcomes: string[] } }) => {
              if (e.report === undefined) throw e;
              return e.report;
            });
            refused += report.outcomes.filter((o) => o === "refused").length;
          },
        },
      ],
      { warmup: 0, iterations: slices.length },
      () => ctx.progress.tick(),
    );
    if (refused > 0) throw new Error(`${refused} documents refused`);
    const joined = (await node.engine.groups()).filter((g) => g.status === "member").length;
    if (joined !== groups) throw new Error(`the engine joined ${joined} of ${groups} groups`);

    ctx.progress.phase(`${groups} groups: decrypting ${operations.length} operations`);
    const opSize = Math.ceil(operations.length / Math.min(CHUNKS, operations.length));
    const opSlices: Uint8Array[][] = [];
    for (let i = 0; i < operations.length; i += opSize) opSlices.push(operations.slice(i, i + opSize));
    let o = 0;
    let ops: Uint8Array[] = [];
    let unread = 0;
    const [decrypting] = await interleaved(
      [
        {
          label: "engine.decryptFields",
          prepare: () => (ops = opSlices[o++] as Uint8Array[]),
          run: async () => {
            for (const r of await Promise.all(ops.map((d) => node.engine.decryptFields(d)))) unread += Object.keys(r.errors).length;
          },
        },
      ],
      { warmup: 0, iterations: opSlices.length },
    );
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    if (unread > 0) throw new Error(`${unread} operation fields not readable`);
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const disk = await folderBytes(node.path);
    const live = node.engine.stats().liveGroups;

    const ingestMs = ingest!.samples.reduce((a, x) => a + x, 0);
    const docsPerS = summarise(ingest!.samples.map((ms, i) => ((slices[i]?.length ?? 0) / ms) * 1000));
    const opsPerS = summarise(decrypting!.samples.map((ms, i) => ((opSlices[i]?.length ?? 0) / ms) * 1000));
    const perGroup = summarise(ingest!.samples.map((ms, i) => (ms / (slices[i]?.length ?? 1)) * 3));
    const rate = (label: string, unit: Figure["unit"], spread: typeof docsPerS): Figure => ({ label, unit, spread });
    const extra = {
      groups,
      documents: stream.length,
      totalIngestMs: ingestMs,
      documentsPerSecondOverall: (stream.length / ingestMs) * 1000,
      operationsPerSecondOverall: (operations.length / decrypting!.samples.reduce((a, x) => a + x, 0)) * 1000,
      peakRssBytes: peak,
      rssBeforeBytes: rssBefore,
      diskBytesPerGroup: disk / groups,
      heapBytesPerHydratedActor: (heapAfter - heapBefore) / Math.max(1, live),
      hydratedActors: live,
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
    stopSampler();
    await node.dispose();
    await pool.destroy();
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
