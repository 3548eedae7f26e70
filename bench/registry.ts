/**
 * What a benchmark is, for `bench/run.ts`: a named async function that measures some
 * cases and returns rows of (baseline, candidates) timings. `run.ts` prints them in one
 * table with ratios (baseline time / candidate time, so "4.0x" means four times faster).
 *
 * To add a benchmark: export a `Benchmark` from a file in `bench/` and add it to the
 * `BENCHMARKS` list in `bench/run.ts` (one line).
 *
 * @module
 */

/**
 * Options every benchmark receives.
 *
 * @example
 * ```ts
 * await bench.run({ quick: true, log: (l) => console.error(l) });
 * ```
 */
export interface BenchOptions {
  /** Small sizes and few repetitions: a smoke test that the benchmark runs, not a measurement. */
  readonly quick: boolean;
  /** Progress output (one line per step) goes here; defaults to stderr. */
  readonly log: (line: string) => void;
}

/**
 * One timing: what ran and how long it took, in milliseconds.
 *
 * @example
 * ```ts
 * const m: Measurement = { label: "node", ms: 12.5 };
 * ```
 */
export interface Measurement {
  readonly label: string;
  readonly ms: number;
}

/**
 * One table row: a case at a size, measured with a baseline and one or more candidates.
 *
 * @example
 * ```ts
 * const row: BenchRow = { case: "process commit", size: 1000, baseline: { label: "default", ms: 1000 },
 *   candidates: [{ label: "node", ms: 250 }], target: 4 };
 * ```
 */
export interface BenchRow {
  readonly case: string;
  readonly size?: number | string;
  readonly baseline: Measurement;
  readonly candidates: readonly Measurement[];
  /** Minimum acceptable ratio (baseline / candidate), printed beside the measured one. */
  readonly target?: number;
}

/**
 * A registered benchmark.
 *
 * @example
 * ```ts
 * export const myBench: Benchmark = {
 *   name: "lts-aead",
 *   async run({ quick }) {
 *     return [{ case: "seal 1 KiB", baseline: { label: "noble", ms: 10 }, candidates: [{ label: "node", ms: 1 }] }];
 *   },
 * };
 * ```
 */
export interface Benchmark {
  readonly name: string;
  run(options: BenchOptions): Promise<readonly BenchRow[]>;
}

/**
 * Milliseconds taken by `fn` (wall clock, `performance.now`).
 *
 * @example
 * ```ts
 * const { ms, value } = await timed(() => work());
 * ```
 */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/**
 * Wall-clock and CPU milliseconds taken by `fn`. CPU time is the whole process's user +
 * system time (every thread, so work a library pushes to the libuv thread pool counts):
 * on a machine shared with other jobs it is far steadier than wall-clock time.
 *
 * @example
 * ```ts
 * const { ms, cpuMs, value } = await timedCpu(() => work());
 * ```
 */
export async function timedCpu<T>(fn: () => Promise<T> | T): Promise<{ ms: number; cpuMs: number; value: T }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await fn();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000, value };
}

/**
 * Runs `fn` `times` times and returns the median time and the last value.
 *
 * @example
 * ```ts
 * const { ms } = await median(3, () => processCommit(state, commit));
 * ```
 */
export async function median<T>(times: number, fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const runs: number[] = [];
  let value!: T;
  for (let i = 0; i < Math.max(1, times); i++) {
    const r = await timed(fn);
    runs.push(r.ms);
    value = r.value;
  }
  runs.sort((a, b) => a - b);
  return { ms: runs[Math.floor(runs.length / 2)]!, value };
}

/**
 * Ratio baseline / candidate, the speed-up factor.
 *
 * @example
 * ```ts
 * ratio({ label: "default", ms: 100 }, { label: "node", ms: 25 }); // 4
 * ```
 */
export function ratio(baseline: Measurement, candidate: Measurement): number {
  return candidate.ms > 0 ? baseline.ms / candidate.ms : Number.POSITIVE_INFINITY;
}
