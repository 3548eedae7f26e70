/**
 * `secret-group vectors <file.json>`: MLS passive-client test vectors (the format of
 * `../shared/mls-vectors/`) through the engine's own path: the join and every epoch run as
 * worker tasks, the state is persisted incrementally to LevelDB after each and reloaded from
 * it for the next, and each epoch authenticator is compared. One line per case, then
 * `N passed, M failed`.
 *
 * @module
 */
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Piscina } from "piscina";
import { ErrorCode, UsageError } from "../errors.js";
import type { PassiveClientVector } from "../mls/passiveClient.js";
import { createPool, runTask } from "../engine/pool.js";
import { EngineStore } from "../engine/store/store.js";
import { Sublevel } from "../engine/store/sublevels.js";
import type { VectorStep } from "../engine/worker/vectorTasks.js";

/** Where `runVectorsCommand` writes its lines. @example `{ out: process.stdout }` */
export interface VectorsOptions {
  readonly out: { write(text: string): unknown };
  /** Worker threads (default 2). */
  readonly threads?: number;
  /** A pool to use instead of a new one. */
  readonly pool?: Piscina;
}

async function runCase(pool: Piscina, store: EngineStore, vector: PassiveClientVector, prefix: string): Promise<string> {
  const persist = (parts: VectorStep["parts"]): Promise<void> =>
    store.batch(parts.map(([key, value]) => ({ sub: Sublevel.State, key: prefix + key, value })));
  const joined = await runTask<VectorStep>(pool, { op: "vectorJoin", vector }, prefix);
  if (joined.authenticator !== vector.initial_epoch_authenticator.toLowerCase()) {
    throw new Error(`initial epoch authenticator ${joined.authenticator} differs from ${vector.initial_epoch_authenticator}`);
  }
  await persist(joined.parts);
  for (let index = 0; index < vector.epochs.length; index++) {
    const stored = (await store.scan(Sublevel.State, prefix, "vector state")).map(([k, v]) => [k.slice(prefix.length), v] as const);
    const step = await runTask<VectorStep>(pool, { op: "vectorEpoch", vector, index, parts: stored }, prefix);
    const expected = (vector.epochs[index]?.epoch_authenticator ?? "").toLowerCase();
    if (step.authenticator !== expected) throw new Error(`epoch ${index + 1}: authenticator ${step.authenticator} differs from ${expected}`);
    await persist(step.parts);
  }
  return `${vector.epochs.length + 1} epoch authenticators match`;
}

/**
 * Runs every vector of `file`; returns how many failed (the CLI exits 1 when > 0).
 *
 * @example
 * ```ts
 * const failed = await runVectorsCommand("../shared/mls-vectors/passive-client-welcome.json", { out: process.stdout })
 * ```
 */
export async function runVectorsCommand(file: string, options: VectorsOptions): Promise<number> {
  let vectors: PassiveClientVector[];
  try {
    vectors = JSON.parse(await readFile(file, "utf8")) as PassiveClientVector[];
  } catch (e) {
    throw new UsageError(ErrorCode.InvalidArgument, `cannot read vectors from ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(vectors)) throw new UsageError(ErrorCode.InvalidArgument, `${file} is not a JSON array of passive-client vectors`);
  const dir = await mkdtemp(join(tmpdir(), "sg-vectors-"));
  const store = await EngineStore.open(dir, randomBytes(32), randomBytes(32));
  const pool = options.pool ?? createPool({ threads: options.threads ?? 2 });
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const skipReasons = new Map<number, string | null>();
  try {
    for (const [i, vector] of vectors.entries()) {
      const name = `case ${i + 1} (ciphersuite ${vector?.cipher_suite})`;
      if (!skipReasons.has(vector.cipher_suite)) {
        skipReasons.set(vector.cipher_suite, await runTask<string | null>(pool, { op: "vectorSkip", cipherSuite: vector.cipher_suite }).catch(() => null));
      }
      const reason = skipReasons.get(vector.cipher_suite);
      if (typeof reason === "string") {
        skipped++;
        options.out.write(`skip ${name}: ciphersuite unsupported here: ${reason}\n`);
        continue;
      }
      try {
        const detail = await runCase(pool, store, vector, `v${i}/`);
        passed++;
        options.out.write(`ok   ${name}: ${detail}\n`);
      } catch (e) {
        failed++;
        options.out.write(`FAIL ${name}: ${(e as Error).message}\n`);
      }
    }
  } finally {
    if (options.pool === undefined) await pool.destroy();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
  if (skipped > 0) options.out.write(`${skipped} skipped (ciphersuite not available in this build)\n`);
  options.out.write(`${passed} passed, ${failed} failed\n`);
  return failed;
}
