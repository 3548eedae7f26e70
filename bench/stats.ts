/**
 * Summary statistics of timing samples. tinybench times every iteration; the suite runs each
 * side in interleaved one-iteration rounds (see timing.ts), so the samples of a side are
 * gathered over rounds and summarised here (tinybench reports no p95).
 *
 * @module
 */
import type { Figure } from "./types.js";

/**
 * A figure's distribution, in its unit (milliseconds for timings).
 *
 * @example
 * ```ts
 * const s: Spread = summarise([10, 12, 11]); // s.median === 11
 * ```
 */
export interface Spread {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly p95: number;
  readonly max: number;
  readonly mean: number;
  /** Sample variance (n - 1). */
  readonly variance: number;
  readonly sd: number;
  /** Relative standard deviation, percent of the mean. */
  readonly rsd: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/**
 * Min, median, p95 (interpolated), max, mean, variance of `samples`.
 *
 * @example
 * ```ts
 * summarise([1, 2, 3, 4]).median; // 2.5
 * ```
 */
export function summarise(samples: readonly number[]): Spread {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const mean = n === 0 ? NaN : s.reduce((a, b) => a + b, 0) / n;
  const variance = n < 2 ? 0 : s.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  const sd = Math.sqrt(variance);
  return {
    n,
    min: s[0] ?? NaN,
    median: quantile(s, 0.5),
    p95: quantile(s, 0.95),
    max: s[n - 1] ?? NaN,
    mean,
    variance,
    sd,
    rsd: mean > 0 ? (100 * sd) / mean : 0,
  };
}

/**
 * A figure of `values` decryptions of `valueBytes` each: time, values per second and MB per second.
 *
 * @example
 * ```ts
 * const figure = throughputFigure("engine.decrypt", spread, samples, 20_000, 1024)
 * ```
 */
export function throughputFigure(label: string, spread: Spread, samples: readonly number[], values: number, valueBytes: number): Figure {
  return {
    label,
    unit: "ms",
    spread,
    throughput: {
      valuesPerS: summarise(samples.map((ms) => (values / ms) * 1000)),
      mbPerS: summarise(samples.map((ms) => (values * valueBytes) / ms / 1000)),
    },
  };
}
