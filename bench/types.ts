/**
 * What the suite measures and records: rows of figures (baseline first), the run's
 * configuration and the context every scenario receives.
 *
 * @module
 */
import type { Spread } from "./stats.js";

/**
 * One measured side: its label and its spread in `unit`.
 *
 * @example
 * ```ts
 * const f: Figure = { label: "ts-mls 1.6.4 default", unit: "ms", spread: summarise([5, 6]) };
 * ```
 */
export interface Figure {
  readonly label: string;
  readonly unit: "ms" | "bytes" | "documents/s" | "operations/s";
  readonly spread: Spread;
  /** Throughput derived from the timing spread (`values` per iteration of `valueBytes`). */
  readonly throughput?: { readonly valuesPerS: Spread; readonly mbPerS: Spread };
}

/**
 * A table row: a case of a scenario at a size, its baseline and its candidates. The ratio of a
 * candidate is baseline median / candidate median (above 1: the candidate is faster).
 *
 * @example
 * ```ts
 * const row: Row = { scenario: "receiver-update", case: "receiver update commit", n: 1000, baseline, candidates: [library] };
 * ```
 */
export interface Row {
  readonly scenario: string;
  readonly case: string;
  /** Group size (members) or group count. */
  readonly n?: number;
  /** Value size in bytes (bulk decryption). */
  readonly valueBytes?: number;
  /** Values per iteration (bulk decryption). */
  readonly values?: number;
  readonly baseline?: Figure;
  readonly candidates: readonly Figure[];
  /** Other numbers of the row (bytes per group, peak RSS, ...). */
  readonly extra?: Readonly<Record<string, number>>;
  readonly note?: string;
}

/**
 * The run's configuration (quick defaults, `--full`, or tiny sizes for the smoke test).
 *
 * @example
 * ```ts
 * const c: BenchConfig = quickConfig();
 * ```
 */
export interface BenchConfig {
  readonly mode: "quick" | "full" | "custom";
  /** Group sizes of the membership scenarios. */
  readonly sizes: readonly number[];
  /** Long-term values per iteration, per value size. */
  readonly bulkValues: Readonly<Record<number, number>>;
  /** Sender-ratchet values per iteration (1 KiB each). */
  readonly srValues: number;
  /** Group counts of the many-groups scenario. */
  readonly groupCounts: readonly number[];
  /** Rounds override (smoke test); otherwise chosen per size. */
  readonly iterations?: number;
  readonly warmup?: number;
  /** Scenarios to run (default all). */
  readonly only?: readonly string[];
}

/**
 * Progress of one scenario (a cli-progress bar, or nothing in a test).
 *
 * @example
 * ```ts
 * ctx.progress.start(10, "building"); ctx.progress.tick(); ctx.progress.stop();
 * ```
 */
export interface Progress {
  start(total: number, phase: string): void;
  phase(phase: string): void;
  tick(steps?: number): void;
  stop(): void;
}

/**
 * What a scenario receives.
 *
 * @example
 * ```ts
 * await scenario.run({ config, progress, log: console.error, emit: (row) => rows.push(row) });
 * ```
 */
export interface BenchContext {
  readonly config: BenchConfig;
  readonly progress: Progress;
  readonly log: (line: string) => void;
  /** Each row as soon as it is measured (the runner saves results incrementally). */
  readonly emit: (row: Row) => void;
}

/**
 * A scenario of the suite.
 *
 * @example
 * ```ts
 * export const bulk: Scenario = { name: "bulk", title: "bulk decryption", run: async (ctx) => { ... } };
 * ```
 */
export interface Scenario {
  readonly name: string;
  readonly title: string;
  /** Names of the rows' `scenario` field it produces (the smoke test checks each appears). */
  readonly produces: readonly string[];
  /** Run in a process of its own (bench/scenarioProcess.ts): its figures of the whole process count nothing the scenarios before it left. */
  readonly ownProcess?: boolean;
  run(ctx: BenchContext): Promise<void>;
}

/**
 * Rounds for a membership scenario at `n` members (smaller groups: more rounds, fewer in quick
 * mode; above 1000 members: 2 rounds, no warm-up round since building the group has warmed every
 * code path; above 5000 members 1 round: on the 2 shared cores one round of every row at 10,000
 * members takes most of an hour; the results record every figure's sample count).
 *
 * @example
 * ```ts
 * roundsFor(fullConfig, 1000); // { warmup: 1, iterations: 3 }
 * roundsFor(fullConfig, 10_000); // { warmup: 0, iterations: 1 }
 * ```
 */
export function roundsFor(config: BenchConfig, n: number): { warmup: number; iterations: number } {
  const quick = config.mode !== "full";
  const base =
    n <= 100
      ? { warmup: quick ? 1 : 2, iterations: quick ? 5 : 8 }
      : n <= 1000
        ? { warmup: 1, iterations: quick ? 2 : 3 }
        : { warmup: 0, iterations: n > 5000 ? 1 : 2 };
  return { warmup: config.warmup ?? base.warmup, iterations: config.iterations ?? base.iterations };
}

/**
 * Rounds of the rows whose single samples swing most: the receiver rows and the join row. As
 * {@link roundsFor}, but a quick run at 101-1000 members takes 2 warm-up and 6 measured rounds
 * instead of 1 and 2. With n 2 one slow sample (a GC or JIT pause of a warm worker) decided the
 * row: session 8's quick run read the engine's receiver remove as the mean of 13.0 and 26.5 ms,
 * session 10's the library join as the mean of 98.6 and 419.5 ms and the engine join as that of
 * 155.8 and 402.2 ms. The extra rounds cost mostly the bare side's time (~1 s each at 1000) and,
 * for the join, building one more group of N per round.
 *
 * @example
 * ```ts
 * const { warmup, iterations } = widenedRoundsFor(ctx.config, 1000); // quick: 2 and 6
 * ```
 */
export function widenedRoundsFor(config: BenchConfig, n: number): { warmup: number; iterations: number } {
  const base = roundsFor({ ...config, warmup: undefined, iterations: undefined }, n);
  const widened = config.mode !== "full" && n > 100 && n <= 1000 ? { warmup: 2, iterations: 6 } : base;
  return { warmup: config.warmup ?? widened.warmup, iterations: config.iterations ?? widened.iterations };
}

/**
 * A timing figure from interleaved samples.
 *
 * @example
 * ```ts
 * figure("library", spread);
 * ```
 */
export function figure(label: string, spread: Spread): Figure {
  return { label, unit: "ms", spread };
}

/**
 * Warm-up joins up to 1000 members, unless the run sets its own: the engine's joins run in the
 * pool's threads, each of which compiles the join's code on its own, and an engine join at 1000
 * members fell from ~530 ms to ~105-135 ms over its first dozen joins while V8 optimised fewer
 * and fewer functions per join (`--trace-opt`, session 15: 130, 112, 82, 86, 72, 78, 54, 56,
 * 18, 22, 30, 26, 6, 8, 6, 8); the library's joins, on the main thread that earlier rows warmed,
 * settle after one or two. With 2 warm-up rounds the row measured the workers' warm-up.
 */
const JOIN_WARMUP_UP_TO_1000 = 12;

/**
 * Rounds of the join row: {@link widenedRoundsFor}, with {@link JOIN_WARMUP_UP_TO_1000} warm-up
 * rounds up to 1000 members unless the run sets `--warmup`.
 *
 * @example
 * ```ts
 * joinRoundsFor(quickConfig, 1000); // { warmup: 12, iterations: 6 }
 * ```
 */

export function joinRoundsFor(config: BenchConfig, n: number): { warmup: number; iterations: number } {
  return warmedUp(config, n, JOIN_WARMUP_UP_TO_1000, n <= 1000);
}

/** {@link widenedRoundsFor} with at least `warmup` warm-up rounds where `applies`, unless the run sets `--warmup`. */
function warmedUp(config: BenchConfig, n: number, warmup: number, applies: boolean): { warmup: number; iterations: number } {
  const widened = widenedRoundsFor(config, n);
  return applies && config.warmup === undefined ? { ...widened, warmup: Math.max(widened.warmup, warmup) } : widened;
}

/**
 * Warm-up rounds of the receiver rows at 101-1000 members, unless the run sets its own: the
 * engine's commits run in a pool thread whose processCommit code only a join has run, and its
 * commits at 1000 members kept falling over their first 16-20 (recvDev `loop 1000 40 --series`,
 * session 20: update 37, 31, 29, 25, ..., 12-16 ms; remove 30, 24, 29, 18, ..., 10-13 ms; the
 * second half of 80 commits read 6.0 / 8.0 ms against 10.1 / 12.5 for the first). With 2 warm-up
 * rounds the rows measured that warm-up. At 100 members the rows keep their rounds: 16 more
 * rounds of removes would take 32 of its members.
 */
const RECEIVER_WARMUP_UP_TO_1000 = 16;

/**
 * Measured rounds of the receiver rows at 101-1000 members, unless the run sets `--iterations`:
 * a commit there is 3-20 ms beside a baseline of ~0.85 s, so a round costs the bare side's
 * second and little else, and with 6 samples one or two slow commits (a pool worker's scavenge, a
 * LevelDB flush) decided the engine's medians: session 34's quick run read its cold update as
 * 17.5 ms, the median of 6 samples from 14.0 to 75.1 ms (rsd 87%), against 13.7 ms over 100
 * commits of recvDev the same hour.
 */
const RECEIVER_ITERATIONS_UP_TO_1000 = 12;

/**
 * Rounds of the receiver rows: {@link widenedRoundsFor}, with {@link RECEIVER_WARMUP_UP_TO_1000}
 * warm-up rounds and {@link RECEIVER_ITERATIONS_UP_TO_1000} measured ones at 101-1000 members
 * unless the run sets `--warmup` or `--iterations`.
 *
 * @example
 * ```ts
 * receiverRoundsFor(quickConfig, 1000); // { warmup: 16, iterations: 12 }
 * ```
 */
export function receiverRoundsFor(config: BenchConfig, n: number): { warmup: number; iterations: number } {
  const applies = n > 100 && n <= 1000;
  const rounds = warmedUp(config, n, RECEIVER_WARMUP_UP_TO_1000, applies);
  return applies && config.iterations === undefined ? { ...rounds, iterations: Math.max(rounds.iterations, RECEIVER_ITERATIONS_UP_TO_1000) } : rounds;
}
