/**
 * Interleaved timing with tinybench. Every side (baseline or candidate) is one tinybench task
 * run for exactly one iteration per round; rounds rotate which side goes first, so load from
 * other processes on the shared machine hits every side alike. `prepare` is tinybench's
 * `beforeEach` hook: it hands the side a fresh input (a new commit, Welcome, key package, a
 * reopened engine) outside the timed region. Warm-up rounds run the same way for every side
 * and are discarded.
 *
 * @module
 */
import { Bench } from "tinybench";
import { summarise, type Spread } from "./stats.js";

/**
 * One side of a comparison.
 *
 * @example
 * ```ts
 * const side: Side = { label: "ts-mls 1.6.4", prepare: () => next(), run: () => processCommit(state, commit) };
 * ```
 */
export interface Side {
  readonly label: string;
  /** Untimed, before each iteration (warm-up included). */
  readonly prepare?: () => unknown;
  /** Timed. */
  readonly run: () => Promise<unknown>;
}

/**
 * Rounds: warm-up ones (discarded) and measured ones.
 *
 * @example
 * ```ts
 * const r: Rounds = { warmup: 1, iterations: 5 };
 * ```
 */
export interface Rounds {
  readonly warmup: number;
  readonly iterations: number;
}

/**
 * Runs every side `warmup + iterations` times, interleaved, and returns the measured
 * milliseconds of each side (warm-up dropped) with their spread, and the warm-up rounds'
 * milliseconds apart (a row may report a cold start from them). `tick` is called after each
 * side's iteration (progress bars).
 *
 * @example
 * ```ts
 * const [base, ours] = await interleaved([baseSide, ourSide], { warmup: 1, iterations: 5 });
 * ```
 */
export async function interleaved(sides: readonly Side[], rounds: Rounds, tick: () => void = () => {}): Promise<Array<{ label: string; samples: number[]; spread: Spread; warmupSamples: number[] }>> {
  const benches = sides.map((side) => {
    const bench = new Bench({ iterations: 1, time: 0, warmup: false, retainSamples: true, throws: true });
    bench.add(side.label, side.run, side.prepare === undefined ? { async: true } : { async: true, beforeEach: async () => void (await side.prepare?.()) });
    return bench;
  });
  const samples: number[][] = sides.map(() => []);
  const warmupSamples: number[][] = sides.map(() => []);
  for (let round = 0; round < rounds.warmup + rounds.iterations; round++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (k + round) % sides.length;
      const bench = benches[i] as Bench;
      bench.reset(); // a completed tinybench task is not run again until reset
      await bench.run();
      const result = bench.tasks[0]?.result;
      if (result?.state !== "completed") {
        const error = result !== undefined && "error" in result ? result.error : undefined;
        throw error instanceof Error ? error : new Error(`${sides[i]?.label}: tinybench task ${result?.state ?? "missing"}`);
      }
      ((round >= rounds.warmup ? samples : warmupSamples)[i] as number[]).push(...(result.latency.samples ?? []));
      tick();
    }
  }
  return sides.map((side, i) => ({ label: side.label, samples: samples[i] as number[], spread: summarise(samples[i] as number[]), warmupSamples: warmupSamples[i] as number[] }));
}
