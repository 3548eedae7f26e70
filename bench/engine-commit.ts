/**
 * Engine receiving a commit in a large group, persistence included, against the bare library
 * `processCommit` in the same run (issue 4 target: engine <= 1.25 x library, i.e. ratio
 * library/engine >= 0.8). Two members of the same group receive the same update commits from
 * the owner: one through `processCommit` on an in-memory state, one through
 * `SecretGroupEngine.ingest` (signed document in, worker task on the cached state, incremental
 * parts and group record written to LevelDB in one batch). Rounds alternate which side goes
 * first. Also reports what shipping the whole state would cost (encode + decode).
 *
 * Run alone: `node dist/bench/engine-commit.js [members] [rounds]`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { addMembers, createGroup, decodeGroupState, encodeGroupState, joinGroup, processCommit, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { decodeSecretGroupCommit } from "../src/commit.js";
import { decodeDocument, readKeyPackage, secretGroupCommitDocument, secretGroupDocument } from "../src/documents/index.js";
import { SecretGroupEngine } from "../src/engine/engine.js";
import type { Benchmark, BenchRow } from "./registry.js";

const medianOf = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/**
 * Measures both receivers at `members` members over `rounds` commits.
 *
 * @example
 * ```ts
 * const rows = await measureEngineCommit(1000, 5, console.error)
 * ```
 */
export async function measureEngineCommit(members: number, rounds: number, log: (line: string) => void): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), "sg-bench-engine-"));
  const owner = generateIdentity();
  const lib = generateIdentity();
  const engine = await SecretGroupEngine.open({ path: dir, identity: generateIdentity(), threads: 1 });
  try {
    const groupDoc = secretGroupDocument(owner, { ciphersuite: "PANDA10_AES256GCM" });
    let ownerState: GroupState = await createGroup({ identity: owner, groupId: groupDoc.id, ciphersuite: "PANDA10_AES256GCM" });
    log(`engine-commit: ${members - 3} filler key packages`);
    const libKp = await createKeyPackage(lib);
    const engineKpDoc = (await engine.publishKeyPackage()).documents[0] as Uint8Array;
    const engineKp = readKeyPackage(decodeDocument(engineKpDoc)).keyPackage;
    const fillers: Uint8Array[] = [];
    for (let i = 0; i < members - 3; i++) fillers.push((await createKeyPackage(generateIdentity())).keyPackage);
    log(`engine-commit: adding ${members - 1} members`);
    const added = await addMembers(ownerState, [libKp.keyPackage, engineKp, ...fillers]);
    ownerState = added.state;
    let head = secretGroupCommitDocument(owner, { secretGroup: groupDoc.id, commit: decodeSecretGroupCommit(added.commit) });
    let libState = await joinGroup({ identity: lib, secret: libKp.secret, owner: owner.publicKey, commit: added.commit });
    await engine.ingest([groupDoc.bytes, head.bytes]);
    if ((await engine.status(groupDoc.id)) !== "member") throw new Error("engine did not join");

    const libMs: number[] = [];
    const engineMs: number[] = [];
    const workMs: number[] = [];
    const stageMs: number[] = [];
    const persistMs: number[] = [];
    const indexMs: number[] = [];
    for (let round = 0; round < rounds + 1; round++) {
      const next = await updateGroup(ownerState);
      ownerState = next.state;
      const doc = secretGroupCommitDocument(owner, { secretGroup: groupDoc.id, previousCommit: head.id, commit: decodeSecretGroupCommit(next.commit) });
      head = doc;
      const runLib = async (): Promise<void> => {
        const t = performance.now();
        libState = await processCommit(libState, next.commit);
        libMs.push(performance.now() - t);
      };
      const runEngine = async (): Promise<void> => {
        const before = engine.stats();
        const t = performance.now();
        const report = await engine.ingest([doc.bytes]);
        engineMs.push(performance.now() - t);
        const after = engine.stats();
        workMs.push(after.workMs - before.workMs);
        stageMs.push(after.stageMs - before.stageMs);
        persistMs.push(after.persistMs - before.persistMs);
        indexMs.push(after.indexMs - before.indexMs);
        if (after.workerMisses !== before.workerMisses) throw new Error("engine: worker cache miss during the benchmark");
        if (report.outcomes[0] !== "applied") throw new Error(`engine: ${report.outcomes[0]}`);
      };
      if (round % 2 === 0) {
        await runLib();
        await runEngine();
      } else {
        await runEngine();
        await runLib();
      }
      // round 0 warms up both sides (the engine's worker decodes nothing: the join cached it)
      if (round === 0) for (const xs of [libMs, engineMs, workMs, stageMs, persistMs, indexMs]) xs.length = 0;
      log(
        round === 0
          ? "engine-commit: round 0 (warm-up)"
          : `engine-commit: round ${round}: library ${libMs.at(-1)?.toFixed(0)} ms; engine ${engineMs.at(-1)?.toFixed(0)} ms = worker processCommit ${workMs.at(-1)?.toFixed(0)} + stage ${stageMs.at(-1)?.toFixed(1)} + batch ${persistMs.at(-1)?.toFixed(1)} + index ${indexMs.at(-1)?.toFixed(1)} + rest`,
      );
    }
    const enc = performance.now();
    const bytes = encodeGroupState(libState);
    const encMs = performance.now() - enc;
    const dec = performance.now();
    decodeGroupState(bytes);
    const decMs = performance.now() - dec;
    log(`engine-commit: whole state ${bytes.length} bytes, encode ${encMs.toFixed(0)} ms, decode ${decMs.toFixed(0)} ms`);
    return [
      {
        case: "receive commit (persisted)",
        size: members,
        baseline: { label: "library processCommit", ms: medianOf(libMs) },
        candidates: [{ label: "engine.ingest", ms: medianOf(engineMs) }],
        target: 0.8,
      },
      {
        case: "  of which: worker library call",
        size: members,
        baseline: { label: "library processCommit", ms: medianOf(libMs) },
        candidates: [{ label: "worker processCommit", ms: medianOf(workMs) }],
      },
      {
        case: "  of which: persistence",
        size: members,
        baseline: { label: "library processCommit", ms: medianOf(libMs) },
        candidates: [
          { label: "stage parts (worker)", ms: medianOf(stageMs) },
          { label: "LevelDB batch", ms: medianOf(persistMs) },
          { label: "materialisation index (main)", ms: medianOf(indexMs) },
        ],
      },
      {
        case: "whole-state round trip",
        size: `${members} (${(bytes.length / 1e6).toFixed(2)} MB)`,
        baseline: { label: "library processCommit", ms: medianOf(libMs) },
        candidates: [{ label: "encode+decode", ms: encMs + decMs }],
      },
    ];
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The registered benchmark (`--quick`: 50 members, 2 rounds). @example `await engineCommitBenchmark.run({ quick: true, log: console.error })` */
export const engineCommitBenchmark: Benchmark = {
  name: "engine-commit",
  run: ({ quick, log }) => measureEngineCommit(quick ? 50 : 1000, quick ? 2 : 9, log),
};

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const members = Number(process.argv[2] ?? 1000);
  const rounds = Number(process.argv[3] ?? 9);
  const rows = await measureEngineCommit(members, rounds, (l) => process.stderr.write(`${l}\n`));
  for (const r of rows) {
    for (const c of r.candidates) {
      process.stdout.write(`${r.case} @ ${r.size}: ${r.baseline.label} ${r.baseline.ms.toFixed(1)} ms, ${c.label} ${c.ms.toFixed(1)} ms (${(c.ms / r.baseline.ms).toFixed(2)}x)\n`);
    }
  }
}
