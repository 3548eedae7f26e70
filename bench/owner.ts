/**
 * The owner's commits at N members: create-plus-add of N-1, add-1, remove-1 and update, by bare
 * ts-mls (default provider), the library and the engine (warm and cold). Bare and library
 * add/remove start every iteration from the same state with a new key package or another
 * member; updates chain (each from the previous one's state, as an owner's do). The engine's
 * group is the last one its create-plus-add iterations made.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import type { ClientState } from "ts-mls-bare";
import { addMembers, createGroup, removeMembers, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { bareKeyPackages, LT_SUITE, members, type Member } from "./fixtures.js";
import { BARE, ENGINE_COLD, ENGINE_WARM, LIBRARY, type World } from "./membership.js";
import { adds, bareAddCommitFails, commit, newGroup, removeLeaf, suiteImpl, type KeyPackagePair } from "./mlsHarness.js";
import { interleaved, type Side } from "./timing.js";
import { figure, roundsFor, widenedRoundsFor, type BenchContext, type Row } from "./types.js";

/**
 * A group the owner engine made, with its added members in order.
 *
 * @example
 * ```ts
 * const g: EngineOwnerGroup = { groupId, members };
 * ```
 */
export interface EngineOwnerGroup {
  readonly groupId: Uint8Array;
  readonly members: Member[];
}

/**
 * Create-plus-add of N-1 members: fresh key packages per iteration for every side.
 *
 * @example
 * ```ts
 * const row = await createAddRows(ctx, world);
 * ```
 */
export async function createAddRows(ctx: BenchContext, w: World): Promise<Row> {
  const rounds = roundsFor(ctx.config, w.n);
  const need = rounds.warmup + rounds.iterations;
  const csDefault = await suiteImpl("default");
  // the bare side is left out (and the row says why) where bare ts-mls cannot write the commit
  const bareFails = bareAddCommitFails(w.bare.kps[0]!.publicPackage, w.n - 1);
  const barePools: KeyPackagePair[][] = [];
  const libPools: Member[][] = [];
  const enginePools: Member[][] = [];
  for (let i = 0; i < need; i++) {
    ctx.progress.phase(`N=${w.n}: create + add: key packages ${i + 1}/${need}`);
    if (bareFails === undefined) barePools.push(await bareKeyPackages(w.n - 1));
    // library (main thread) and engine (worker threads: other key caches) share the same packages
    const pool = await members(w.n - 1);
    libPools.push(pool);
    enginePools.push(pool);
  }
  let bareKps: KeyPackagePair[] = [];
  let libKps: Member[] = [];
  let engineKps: Member[] = [];
  const bareSide: Side = {
    label: BARE,
    prepare: () => (bareKps = barePools.shift() as KeyPackagePair[]),
    run: async () => commit(csDefault, await newGroup(csDefault), adds(bareKps.map((k) => k.publicPackage))),
  };
  const sides: Side[] = [
    {
      label: LIBRARY,
      prepare: () => (libKps = libPools.shift() as Member[]),
      run: async () => {
        const owner = generateIdentity();
        const state = await createGroup({ identity: owner, groupId: new Uint8Array(randomBytes(32)), ciphersuite: LT_SUITE });
        await addMembers(state, libKps.map((m) => m.keyPackage));
      },
    },
    {
      label: "engine (create + addMembers)",
      prepare: () => (engineKps = enginePools.shift() as Member[]),
      run: async () => {
        const created = await w.ownerEngine.engine.createGroup({ ciphersuite: LT_SUITE });
        await w.ownerEngine.engine.addMembers(created.groupId as Uint8Array, engineKps.map((m) => m.document));
        w.ownerGroup = { groupId: created.groupId as Uint8Array, members: engineKps };
      },
    },
  ];
  const results = await interleaved(bareFails === undefined ? [bareSide, ...sides] : sides, rounds, () => ctx.progress.tick());
  const [library, engine] = results.slice(-2);
  const bare = bareFails === undefined ? results[0] : undefined;
  return {
    scenario: "create-add",
    case: `create + add ${w.n - 1} members in one commit`,
    n: w.n,
    ...(bare === undefined ? {} : { baseline: figure(BARE, bare.spread) }),
    candidates: [figure(LIBRARY, library!.spread), figure("engine (create + addMembers)", engine!.spread)],
    ...(bareFails === undefined ? {} : { note: `baseline not measured: ${bareFails}` }),
  };
}

/**
 * The owner's add-1, remove-1 and update commits.
 *
 * @example
 * ```ts
 * const rows = await ownerRows(ctx, world);
 * ```
 */
export async function ownerRows(ctx: BenchContext, w: World): Promise<Row[]> {
  const group = w.ownerGroup;
  if (group === undefined) throw new Error("the owner engine has no group (create + add did not run)");
  // widened like the receiver rows: with 2 measured rounds one slow sample decided a row (session
  // 20's quick run read the engine's owner update as the mean of 111 and 373 ms)
  const rounds = widenedRoundsFor(ctx.config, w.n);
  const need = rounds.warmup + rounds.iterations;
  const csDefault = await suiteImpl("default");
  const engine = w.ownerEngine;
  const gid = group.groupId;
  const rows: Row[] = [];
  const tick = () => ctx.progress.tick();
  const engineSides = (run: () => Promise<unknown>): Side[] => [
    { label: ENGINE_WARM, run },
    { label: ENGINE_COLD, prepare: () => engine.reopen(), run },
  ];
  const row = (kind: string, what: string, results: Awaited<ReturnType<typeof interleaved>>): Row => ({
    scenario: `owner-${kind}`,
    case: what,
    n: w.n,
    baseline: figure(BARE, results[0]!.spread),
    candidates: results.slice(1).map((r) => figure(r.label, r.spread)),
  });

  // add-1: a new key package every iteration
  ctx.progress.phase(`N=${w.n}: owner add-1`);
  const bareKps = await bareKeyPackages(need);
  const libKps = await members(need);
  const engineKps = await members(2 * need);
  let bk: KeyPackagePair | undefined;
  let lk: Member | undefined;
  let ek: Member | undefined;
  rows.push(
    row(
      "add",
      "owner adds 1 member",
      await interleaved(
        [
          { label: BARE, prepare: () => (bk = bareKps.pop()), run: () => commit(csDefault, w.bare.owner, adds([bk!.publicPackage])) },
          { label: LIBRARY, prepare: () => (lk = libKps.pop()), run: () => addMembers(w.lib.state, [lk!.keyPackage]) },
          ...engineSides(() => engine.engine.addMembers(gid, [(ek = engineKps.pop())!.document])),
        ],
        rounds,
        tick,
      ),
    ),
  );
  if (ek === undefined) throw new Error("no engine add ran");

  // remove-1: another member every iteration (the engine's group shrinks by one each time)
  ctx.progress.phase(`N=${w.n}: owner remove-1`);
  const removable = Math.min(need, Math.floor((group.members.length - 1) / 2), w.lib.fillers.length, w.n - 2);
  const removeRounds = { warmup: Math.min(rounds.warmup, Math.max(0, removable - 1)), iterations: removable - Math.min(rounds.warmup, Math.max(0, removable - 1)) };
  let victim = 0;
  let libVictim = 0;
  rows.push(
    row(
      "remove",
      "owner removes 1 member",
      await interleaved(
        [
          { label: BARE, prepare: () => victim++, run: () => commit(csDefault, w.bare.owner, [removeLeaf(w.n - w.bareTopRemoved - victim)]) },
          { label: LIBRARY, prepare: () => libVictim++, run: () => removeMembers(w.lib.state, [w.lib.fillers[w.lib.fillers.length - libVictim]!.identity.publicKey]) },
          ...engineSides(() => engine.engine.removeMembers(gid, [group.members.pop()!.identity.publicKey])),
        ],
        removeRounds,
        tick,
      ),
    ),
  );

  // update: chained, from the previous update's state
  ctx.progress.phase(`N=${w.n}: owner update`);
  let bareState: ClientState = w.bare.owner;
  let libState: GroupState = w.lib.state;
  rows.push(
    row(
      "update",
      "owner update commit",
      await interleaved(
        [
          { label: BARE, run: async () => void (bareState = (await commit(csDefault, bareState)).state) },
          { label: LIBRARY, run: async () => void (libState = (await updateGroup(libState)).state) },
          ...engineSides(() => engine.engine.updateGroup(gid)),
        ],
        rounds,
        tick,
      ),
    ),
  );
  return rows;
}
