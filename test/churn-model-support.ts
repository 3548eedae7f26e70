/**
 * Shared parts of the seeded churn model tests (library and engine): which seeds and how many
 * steps to run, the action history, and a failure report that names seed, step and history so
 * the run can be repeated exactly (the choices come from the seeded generator; key material
 * stays random, but no choice depends on it).
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretGroupError } from "../src/errors.js";
import { Random } from "../src/cli/random.js";
import type { SchemeName } from "../src/constants.js";

export { Random };

/** Seeds and steps per seed of one run. */
export interface ChurnConfig {
  readonly seeds: number[];
  readonly steps: number;
}

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return n;
}

/**
 * The run's seeds and steps: CHURN_SEED (one seed), CHURN_SEEDS (how many consecutive seeds,
 * from CHURN_SEED or the first default seed), CHURN_STEPS (steps per seed).
 *
 * @example
 * ```ts
 * const { seeds, steps } = churnConfig({ seeds: [1, 2, 3], steps: 500 })
 * ```
 */
export function churnConfig(defaults: ChurnConfig): ChurnConfig {
  const seed = envInt("CHURN_SEED");
  const count = envInt("CHURN_SEEDS");
  const steps = envInt("CHURN_STEPS") ?? defaults.steps;
  const first = seed ?? (defaults.seeds[0] as number);
  if (count !== undefined) return { seeds: Array.from({ length: count }, (_, i) => first + i), steps };
  return { seeds: seed === undefined ? defaults.seeds : [seed], steps };
}

/** What a run checked, summed over its steps. */
export interface ChurnStats {
  steps: number;
  commits: number;
  joins: number;
  /** Messages sent. */
  messages: number;
  /** Decryptions that had to succeed and did, with the right plaintext. */
  reads: number;
  /** Decryptions that had to fail and did, with the expected code. */
  refusals: number;
  /** Member states compared with the owner's (epochs, members, exporter). */
  agreements: number;
}

/** Zeroed stats. @example `const stats = newStats()` */
export function newStats(): ChurnStats {
  return { steps: 0, commits: 0, joins: 0, messages: 0, reads: 0, refusals: 0, agreements: 0 };
}

/** The actions of one seed, one line per step or event. */
export class History {
  readonly lines: string[] = [];
  step = 0;

  /** Records an event of the current step. */
  add(text: string): void {
    this.lines.push(`#${this.step} ${text}`);
  }
}

/**
 * Runs one seed; on failure rethrows an error naming seed, step, the way to repeat the run,
 * the last actions, and a file with the whole history.
 *
 * @example
 * ```ts
 * await runSeed("library", 7, 500, async (rng, history) => { ... })
 * ```
 */
export async function runSeed<T>(name: string, seed: number, steps: number, body: (rng: Random, history: History) => Promise<T>): Promise<T> {
  const history = new History();
  try {
    return await body(new Random(seed), history);
  } catch (e) {
    const file = join(tmpdir(), `churn-${name}-seed-${seed}.log`);
    writeFileSync(file, history.lines.join("\n") + "\n");
    const code = e instanceof SecretGroupError ? `${e.code} ` : "";
    const cause = e instanceof Error ? code + (e.stack ?? e.message).split("\n").slice(0, 8).join("\n") : String(e);
    const tail = history.lines.slice(-60).join("\n");
    throw new Error(
      `churn model (${name}) failed at seed ${seed}, step ${history.step} of ${steps}\n` +
        `repeat: CHURN_SEED=${seed} CHURN_STEPS=${history.step + 1} node --test dist/test/churn-model-${name}.test.js\n` +
        `cause: ${cause}\n` +
        `history (${history.lines.length} lines, whole history in ${file}), last 60:\n${tail}`,
      { cause: e },
    );
  }
}

/**
 * Asserts that `fn` fails with a SecretGroupError (or an engine `Error` with a `code`) of `code`.
 *
 * @example
 * ```ts
 * await expectCode(() => decrypt(state, msg), "UNKNOWN_EPOCH", "removed reads later message")
 * ```
 */
export async function expectCode(fn: () => Promise<unknown>, code: string, what: string): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  if (caught === undefined) throw new Error(`${what}: expected ${code}, but it succeeded`);
  checkCode(caught, code, what);
}

/** Throws unless `value` is an Error carrying `code`. @example `checkCode(result, "NOT_MEMBER", "removed")` */
export function checkCode(value: unknown, code: string, what: string): void {
  const got = (value as { code?: unknown } | null)?.code;
  if (!(value instanceof Error) || got !== code) {
    throw new Error(`${what}: expected ${code}, got ${value instanceof Error ? `${String(got)}: ${value.message}` : "a plaintext"}`);
  }
}

/** Lowercase hex of a key, short form for histories. @example `short(pk)` */
export function short(bytes: Uint8Array): string {
  return Buffer.from(bytes.subarray(0, 4)).toString("hex");
}

/** A message the churn models sent, with what the model knows of it. `S` is the model's seat. */
export interface ChurnMessage<S> {
  readonly id: number;
  readonly scheme: SchemeName;
  readonly sender: S;
  readonly mlsEpoch: bigint;
  readonly ltEpoch: bigint;
  readonly plaintext: Uint8Array;
  readonly aad: Uint8Array;
  readonly bytes: Uint8Array;
}
