/**
 * Join from a Welcome at N members: bare ts-mls `joinGroup` (ratchet tree handed over out of
 * band), the library's `joinGroup` (tree from the Welcome's extension) and an engine ingesting
 * the group and commit documents (a new engine per iteration on a shared, warmed-up pool).
 * Every iteration joins another group, built in a worker thread (joinWorker.ts).
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import type { ClientState } from "ts-mls-bare";
import { joinGroup } from "../src/group/index.js";
import type { Identity } from "../src/identity.js";
import { EngineNode, ingestApplied } from "./fixtures.js";
import { BARE, LIBRARY, type World } from "./membership.js";
import { join as bareJoin, suiteImpl, type KeyPackagePair } from "./mlsHarness.js";
import { interleaved } from "./timing.js";
import { figure, joinRoundsFor, type BenchContext, type Row } from "./types.js";

/**
 * One join iteration's inputs (from the worker).
 *
 * @example
 * ```ts
 * const input: JoinInput = inputs[0];
 * ```
 */
export interface JoinInput {
  readonly library: { owner: Uint8Array; commit: Uint8Array; identity: Identity; secret: Uint8Array };
  readonly engine: { groupDoc: Uint8Array; commitDoc: Uint8Array; groupId: Uint8Array };
  readonly bare: { welcome: Uint8Array; tree: ClientState["ratchetTree"]; kp: KeyPackagePair };
}

function buildInputs(n: number, engineKeyPackages: Uint8Array[]): Promise<JoinInput[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./joinWorker.js", import.meta.url), { workerData: { n, engineKeyPackages } });
    worker.once("message", (m: JoinInput[]) => resolve(m));
    worker.once("error", reject);
    worker.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`join worker exited with ${code}`))));
  });
}

/**
 * The join row at N.
 *
 * @example
 * ```ts
 * const row = await joinRows(ctx, world);
 * ```
 */
export async function joinRows(ctx: BenchContext, w: World): Promise<Row> {
  const rounds = joinRoundsFor(ctx.config, w.n);
  const need = rounds.warmup + rounds.iterations;
  const csDefault = await suiteImpl("default");
  const joiners: EngineNode[] = [];
  try {
    const kps: Uint8Array[] = [];
    for (let i = 0; i < need; i++) {
      const node = await EngineNode.open(w.pool);
      joiners.push(node);
      kps.push(await node.keyPackage());
    }
    ctx.progress.phase(`N=${w.n}: join: building ${need} groups in a worker`);
    const inputs = await buildInputs(w.n, kps);
    let b = 0;
    let l = 0;
    let e = 0;
    let input: JoinInput | undefined;
    let node: EngineNode | undefined;
    const results = await interleaved(
      [
        { label: BARE, prepare: () => (input = inputs[b++]), run: () => bareJoin(csDefault, input!.bare.welcome, input!.bare.kp, input!.bare.tree) },
        { label: LIBRARY, prepare: () => (input = inputs[l++]), run: () => joinGroup(input!.library) },
        {
          label: "engine (new engine, ingest)",
          prepare: () => {
            input = inputs[e];
            node = joiners[e++];
          },
          run: () => ingestApplied(node!.engine, [input!.engine.groupDoc, input!.engine.commitDoc]),
        },
      ],
      rounds,
      () => ctx.progress.tick(),
    );
    for (let i = 0; i < e; i++) {
      if ((await joiners[i]!.engine.status(inputs[i]!.engine.groupId)) !== "member") throw new Error("an engine joiner did not join");
    }
    const first = (i: number): Record<string, number> => (rounds.warmup === 0 ? {} : { [i === 1 ? "libraryFirstJoinMs" : "engineFirstJoinMs"]: results[i]!.warmupSamples[0] as number });
    return {
      scenario: "join",
      case: "join from a Welcome",
      n: w.n,
      baseline: figure(BARE, results[0]!.spread),
      candidates: results.slice(1).map((r) => figure(r.label, r.spread)),
      note: "each iteration joins another group, built in a worker thread; the first warm-up join of each side is reported apart (cold code)",
      extra: { warmupRounds: rounds.warmup, ...first(1), ...first(2) },
    };
  } finally {
    for (const j of joiners) await j.dispose();
  }
}
