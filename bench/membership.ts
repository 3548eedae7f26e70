/**
 * Membership scenarios at N members, each against bare ts-mls 1.6.4 on its default provider
 * (one thread) in the same run, through the library (src/group) and through the engine
 * (workers and LevelDB included; warm = state cached in the worker, cold = a reopened engine
 * reading the state from the store). Per N, in order: create-plus-add N-1, the owner's add-1,
 * remove-1 and update commits (owner.ts), a receiver's update and remove commits (here), a
 * join from a Welcome (join.ts).
 *
 * Fresh inputs: every receiver iteration processes the next commit of a precomputed chain,
 * every owner add adds a new key package, every remove removes another member, every join
 * joins another group (built in a worker thread, so no key cache of this process has seen it).
 *
 * @module
 */
import type { Piscina } from "piscina";
import type { ClientState } from "ts-mls-bare";
import { processCommit, removeMembers, updateGroup } from "../src/group/index.js";
import { bareGroup, benchPool, chain, EngineNode, ingestApplied, libraryGroup, type BareGroup, type LibraryGroup } from "./fixtures.js";
import { createAddRows, ownerRows, type EngineOwnerGroup } from "./owner.js";
import { joinRows } from "./join.js";
import { applyCommit, commit, removeLeaf, suiteImpl } from "./mlsHarness.js";
import { interleaved, type Side } from "./timing.js";
import { figure, receiverRoundsFor, roundsFor, widenedRoundsFor, type BenchContext, type Row, type Scenario } from "./types.js";

/** Group sizes above this run the receiver rows before the owner rows. */
const RECEIVERS_FIRST_ABOVE = 5000;

/** Labels of the sides, the same in every row. */
export const BARE = "ts-mls 1.6.4 default provider";
export const LIBRARY = "library (src/group)";
export const ENGINE_WARM = "engine warm (state in worker)";
export const ENGINE_COLD = "engine cold (state from store)";

/**
 * What the scenarios at one N share.
 *
 * @example
 * ```ts
 * const w = await buildWorld(1000, pool);
 * ```
 */
export interface World {
  readonly n: number;
  readonly pool: Piscina;
  readonly bare: BareGroup;
  readonly lib: LibraryGroup;
  /** Receiver engine, member of `lib`. */
  readonly rx: EngineNode;
  /** Owner engine; its group is made by the create-plus-add scenario. */
  readonly ownerEngine: EngineNode;
  ownerGroup?: EngineOwnerGroup;
  /** Leaves n-1, n-2, ... the receiver rows removed from the bare group (the owner rows remove below them). */
  bareTopRemoved: number;
}

async function buildWorld(n: number, pool: Piscina): Promise<World> {
  const bare = await bareGroup(n);
  const rx = await EngineNode.open(pool);
  const lib = await libraryGroup(n, [await rx.keyPackage()]);
  await ingestApplied(rx.engine, [lib.groupDoc.bytes, lib.head.bytes]);
  if ((await rx.engine.status(lib.groupDoc.id)) !== "member") throw new Error("the receiver engine did not join");
  const ownerEngine = await EngineNode.open(pool);
  return { n, pool, bare, lib, rx, ownerEngine, bareTopRemoved: 0 };
}

/**
 * Receiver rows: update or remove commits processed by bare ts-mls, the library and the engine.
 *
 * @example
 * ```ts
 * await receiverRows(ctx, world, "update");
 * ```
 */
export async function receiverRows(ctx: BenchContext, w: World, kind: "update" | "remove"): Promise<Row> {
  const rounds = receiverRoundsFor(ctx.config, w.n);
  let need = rounds.warmup + rounds.iterations;
  // removes: the engine removes twice per round (warm, cold) from the same chain
  if (kind === "remove") need = Math.min(need, Math.floor(w.lib.fillers.length / 2), w.n - 2);
  const warmup = Math.min(rounds.warmup, Math.max(0, need - 1));
  const csNode = await suiteImpl("node");
  const csDefault = await suiteImpl("default");
  ctx.progress.phase(`${kind}: commits`);
  const bareCommits: Uint8Array[] = [];
  let bareOwner: ClientState = w.bare.owner;
  for (let i = 0; i < need; i++) {
    const victim = w.n - 1 - w.bareTopRemoved - i; // leaves 0..n-1; owner and receiver are leaves 0-2
    const c = await commit(csNode, bareOwner, kind === "update" ? [] : [removeLeaf(victim)]);
    bareOwner = c.state;
    bareCommits.push(c.commit);
  }
  w.bare.owner = bareOwner;
  if (kind === "remove") w.bareTopRemoved += need;
  const libCommits: Uint8Array[] = [];
  const docs: Uint8Array[] = [];
  for (let i = 0; i < 2 * need; i++) {
    const victim = w.lib.fillers.pop();
    const c = kind === "update" ? await updateGroup(w.lib.state) : await removeMembers(w.lib.state, [victim!.identity.publicKey]);
    if (kind === "update" && victim !== undefined) w.lib.fillers.push(victim);
    w.lib.state = c.state;
    libCommits.push(c.commit);
    docs.push(chain(w.lib, c.commit).bytes);
  }
  let b = 0;
  let l = 0;
  let e = 0;
  let next: Uint8Array = new Uint8Array(0);
  let warmMisses = 0;
  const sides: Side[] = [
    { label: BARE, prepare: () => (next = bareCommits[b++] as Uint8Array), run: async () => void (w.bare.receiver = await applyCommit(csDefault, w.bare.receiver, next)) },
    { label: LIBRARY, prepare: () => (next = libCommits[l++] as Uint8Array), run: async () => void (w.lib.receiver = await processCommit(w.lib.receiver, next)) },
    {
      label: ENGINE_WARM,
      prepare: () => (next = docs[e++] as Uint8Array),
      run: async () => {
        const misses = w.rx.engine.stats().workerMisses;
        await ingestApplied(w.rx.engine, [next]);
        warmMisses += w.rx.engine.stats().workerMisses - misses;
      },
    },
    {
      label: ENGINE_COLD,
      prepare: async () => {
        await w.rx.reopen();
        next = docs[e++] as Uint8Array;
      },
      run: () => ingestApplied(w.rx.engine, [next]),
    },
  ];
  ctx.progress.phase(`receiver ${kind}`);
  const [bare, library, warm, cold] = await interleaved(sides, { warmup, iterations: need - warmup }, () => ctx.progress.tick());
  // the library receiver read one commit per round; it catches up (untimed) for the next scenario
  for (; l < libCommits.length; l++) w.lib.receiver = await processCommit(w.lib.receiver, libCommits[l] as Uint8Array);
  return {
    scenario: `receiver-${kind}`,
    case: `receiver ${kind} commit`,
    n: w.n,
    baseline: figure(BARE, bare!.spread),
    candidates: [figure(LIBRARY, library!.spread), figure(ENGINE_WARM, warm!.spread), figure(ENGINE_COLD, cold!.spread)],
    extra: { warmWorkerMisses: warmMisses },
  };
}

/**
 * Every membership scenario at every configured N, one progress bar per N.
 *
 * @example
 * ```ts
 * await membership.run(ctx);
 * ```
 */
export const membership: Scenario = membershipAt("membership", (n) => n <= 1000);

/**
 * The membership scenarios above 1000 members (run last: the longest).
 *
 * @example
 * ```ts
 * await membershipLarge.run(ctx);
 * ```
 */
export const membershipLarge: Scenario = membershipAt("membership-large", (n) => n > 1000);

function membershipAt(name: string, sizes: (n: number) => boolean): Scenario {
  return {
  name,
  title: "membership commits and joins",
  produces: ["create-add", "owner-add", "owner-remove", "owner-update", "receiver-update", "receiver-remove", "join"],
  async run(ctx) {
    const failures: string[] = [];
    // one pool for every size, as an application keeps one: the engine's code then runs in pool
    // threads that the smaller sizes' rows warmed, as the library's and bare ts-mls's code runs
    // on the main thread those rows warmed. A pool per size made the engine alone start each
    // size cold (session 30: its warm receiver commit at 1000 members read 17-21 ms in the
    // suite's rounds after 16 warm-up rounds, ~6-8 ms once its thread's code had settled)
    const pool = benchPool();
    try {
      for (const n of ctx.config.sizes.filter(sizes)) {
        const rounds = roundsFor(ctx.config, n);
        const need = rounds.warmup + rounds.iterations;
        const rx = receiverRoundsFor(ctx.config, n);
        const owner = widenedRoundsFor(ctx.config, n);
        // a tick per side and round: create + add's 3 sides, the 3 owner kinds of 4 sides, 2 receiver kinds of 4 sides and the join's 3 take their own rounds
        ctx.progress.start(need * 3 + 3 * 4 * (owner.warmup + owner.iterations) + (2 * 4 + 3) * (rx.warmup + rx.iterations), `N=${n}: building groups`);
        let world: World | undefined;
        try {
          world = await buildWorld(n, pool);
          const w = world;
          // a failing row does not cost the rows after it (a full run takes an hour): its error is
          // logged, the next row runs, and the scenario fails at the end with every error
          const run = async (what: string, rows: () => Promise<Row | Row[]>): Promise<void> => {
            ctx.progress.phase(`N=${n}: ${what}`);
            try {
              const out = await rows();
              for (const row of Array.isArray(out) ? out : [out]) ctx.emit(row);
            } catch (e) {
              failures.push(`N=${n} ${what}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
              ctx.log(`[${name}] N=${n} ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
            }
          };
          const receivers = async () => {
            await run("receiver update", () => receiverRows(ctx, w, "update"));
            await run("receiver remove", () => receiverRows(ctx, w, "remove"));
          };
          // above 5000 members the receiver rows go first: if a run must be stopped, the receiver
          // figure at 10,000 members (issue 11's target) is in; the owner rows then start from
          // the group less the members the receiver rows removed (one or two of 10,000)
          if (n > RECEIVERS_FIRST_ABOVE) await receivers();
          await run("create + add", () => createAddRows(ctx, w));
          await run("owner commits", () => ownerRows(ctx, w));
          if (n <= RECEIVERS_FIRST_ABOVE) await receivers();
          await run("join", () => joinRows(ctx, w));
        } finally {
          await world?.rx.dispose();
          await world?.ownerEngine.dispose();
          ctx.progress.stop();
        }
      }
    } finally {
      await pool.destroy();
    }
    if (failures.length > 0) throw new Error(failures.join("\n"));
  },
};
}
