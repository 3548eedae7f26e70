/**
 * Materialised operations (issue 10): one engine materialises G groups of 3 members (an owner,
 * itself, a third member) with K encrypted operations each (both schemes, written by the
 * owner), all from one shuffled stream of group, key package, commit and operation documents,
 * ingested in chunks. Nobody calls decrypt: an operation that arrives before its group's commit
 * waits pending and is decrypted when the commit is applied. Reported: operations materialised
 * per second (operations over the whole stream's ingest time, joins included), documents per
 * second, peak RSS of the process (workers included). Every operation is read back with
 * `engine.read` afterwards (untimed); one unread fails the run.
 *
 * @module
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { SchemeName } from "../src/constants.js";
import { toHex } from "../src/bytes.js";
import { Random } from "../src/cli/random.js";
import { benchPool, EngineNode } from "./fixtures.js";
import { ownerOperation, threeMemberGroup } from "./groupStream.js";
import { summarise } from "./stats.js";
import { interleaved } from "./timing.js";
import type { BenchContext, Row, Scenario } from "./types.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const CHUNKS = 40;
/** Operations per group. */
export const OPERATIONS_PER_GROUP = 10;

async function streamFor(ctx: BenchContext, node: EngineNode, groups: number): Promise<{ stream: Uint8Array[]; operations: Map<string, string> }> {
  const docs: Uint8Array[] = [];
  const operations = new Map<string, string>();
  for (let g = 0; g < groups; g++) {
    if (g % 100 === 0) ctx.progress.phase(`${groups} groups: writing group ${g}`);
    const group = await threeMemberGroup(node);
    let state = group.state;
    for (let k = 0; k < OPERATIONS_PER_GROUP; k++) {
      const scheme: SchemeName = k % 2 === 0 ? "long-term" : "sender-ratchet";
      const body = `operation ${k} of group ${g}`;
      const written = await ownerOperation(group.owner, state, body, k, scheme);
      state = written.state;
      operations.set(toHex(written.doc.id), body);
      docs.push(written.doc.bytes);
    }
    docs.push(...group.documents);
  }
  return { stream: new Random(groups).shuffle(docs), operations };
}

async function operationRows(ctx: BenchContext, groups: number): Promise<Row> {
  const pool = benchPool();
  const node = await EngineNode.open(pool, { liveActors: groups });
  let stopSampler = (): void => {};
  try {
    const { stream, operations } = await streamFor(ctx, node, groups);
    const chunks = Math.min(CHUNKS, stream.length);
    const size = Math.ceil(stream.length / chunks);
    const slices: Uint8Array[][] = [];
    for (let i = 0; i < stream.length; i += size) slices.push(stream.slice(i, i + size));
    // warm-up: one group materialised on a throwaway engine
    const warmNode = await EngineNode.open(pool);
    await warmNode.engine.ingest((await streamFor(ctx, warmNode, 1)).stream);
    await warmNode.dispose();

    gc();
    const rssBefore = process.memoryUsage.rss();
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
    stopSampler = () => clearInterval(sampler);
    let c = 0;
    let chunk: Uint8Array[] = [];
    ctx.progress.phase(`${groups} groups: ingesting ${stream.length} documents (${operations.size} operations)`);
    const [ingest] = await interleaved(
      [{ label: "engine.ingest chunk", prepare: () => (chunk = slices[c++] as Uint8Array[]), run: () => node.engine.ingest(chunk).then(() => undefined) }],
      { warmup: 0, iterations: slices.length },
      () => ctx.progress.tick(),
    );
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    ctx.progress.phase(`${groups} groups: reading ${operations.size} operations back`);
    let unread = 0;
    for (const [id, body] of operations) if ((await node.engine.read(id))?.fields["body"] !== body) unread++;
    if (unread > 0) throw new Error(`${unread} of ${operations.size} operations not materialised`);
    const ingestMs = ingest!.samples.reduce((a, x) => a + x, 0);
    const opsShare = operations.size / stream.length;
    return {
      scenario: "materialise-operations",
      case: `materialise ${groups} groups of 3 with ${OPERATIONS_PER_GROUP} operations each from one shuffled stream`,
      n: groups,
      candidates: [
        {
          label: "engine.ingest operations/s (per chunk, operations' share of its documents)",
          unit: "operations/s",
          spread: summarise(ingest!.samples.map((ms, i) => (((slices[i]?.length ?? 0) * opsShare) / ms) * 1000)),
        },
      ],
      extra: {
        groups,
        operations: operations.size,
        documents: stream.length,
        totalIngestMs: ingestMs,
        operationsPerSecondOverall: (operations.size / ingestMs) * 1000,
        documentsPerSecondOverall: (stream.length / ingestMs) * 1000,
        peakRssBytes: peak,
        rssBeforeBytes: rssBefore,
        dropped: Object.values(node.engine.stats().dropped).reduce((a, b) => a + b, 0),
        persistMs: node.engine.stats().persistMs,
        workMs: node.engine.stats().workMs,
        batches: node.engine.stats().batches,
        stateTasks: node.engine.stats().stateTasks,
      },
      note: "nobody calls decrypt: operations before their group's commit wait pending and are decrypted when it is applied; half the operations are sender-ratchet (each read is an fsynced batch)",
    };
  } finally {
    stopSampler();
    await node.dispose();
    await pool.destroy();
  }
}

/**
 * The materialised-operations scenario (`--only operations`).
 *
 * @example
 * ```ts
 * await operations.run(ctx);
 * ```
 */
export const operations: Scenario = {
  name: "operations",
  title: "materialised operations",
  produces: ["materialise-operations"],
  // its peak RSS counts nothing the scenarios before it left (scenarioProcess.ts; session 30: 1163 MiB in the runner's process)
  ownProcess: true,
  async run(ctx) {
    for (const groups of ctx.config.groupCounts.slice(0, 1)) {
      ctx.progress.start(Math.min(CHUNKS, groups * (3 + OPERATIONS_PER_GROUP)), `${groups} groups with operations: building`);
      try {
        ctx.emit(await operationRows(ctx, groups));
      } finally {
        ctx.progress.stop();
      }
    }
  },
};
