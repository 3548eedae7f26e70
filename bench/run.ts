/**
 * `npm run bench` entry (`node dist/bench/run.js [--quick] [--only name,...]`): runs every
 * registered benchmark in one process and prints one table, with the speed-up ratio
 * (baseline ms / candidate ms) of each candidate and the target where one is set.
 *
 * Register a benchmark by adding it to `BENCHMARKS` below (one line).
 *
 * @module
 */
import Table from "cli-table3";
import { fileURLToPath } from "node:url";
import { ratio, type Benchmark, type BenchRow } from "./registry.js";
import { providerBenchmark } from "./provider.bench.js";
import { protocolCommitBenchmark } from "./protocol-commit.js";
import { bulkDecryptBenchmark } from "./bulk-decrypt.js";
import { engineCommitBenchmark } from "./engine-commit.js";

/**
 * Every benchmark `npm run bench` runs, in order. Add yours here.
 *
 * @example
 * ```ts
 * BENCHMARKS.map((b) => b.name); // ["mls-provider", ...]
 * ```
 */
export const BENCHMARKS: readonly Benchmark[] = [
  providerBenchmark,
  protocolCommitBenchmark,
  engineCommitBenchmark,
  bulkDecryptBenchmark,
];

/**
 * A benchmark's rows, or the error it failed with.
 *
 * @example
 * ```ts
 * const [o]: BenchOutcome[] = await runBenchmarks([providerBenchmark], { quick: true, log: () => {} });
 * ```
 */
export interface BenchOutcome {
  readonly name: string;
  readonly rows: readonly BenchRow[];
  readonly error?: string;
}

/**
 * Runs benchmarks one after another (never concurrently: they would skew each other).
 *
 * @example
 * ```ts
 * const outcomes = await runBenchmarks(BENCHMARKS, { quick: true, log: () => {} });
 * ```
 */
export async function runBenchmarks(
  benchmarks: readonly Benchmark[],
  options: { quick: boolean; log: (line: string) => void },
): Promise<BenchOutcome[]> {
  const outcomes: BenchOutcome[] = [];
  for (const b of benchmarks) {
    options.log(`running ${b.name}${options.quick ? " (quick)" : ""}`);
    try {
      outcomes.push({ name: b.name, rows: await b.run(options) });
    } catch (e) {
      outcomes.push({ name: b.name, rows: [], error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  }
  return outcomes;
}

function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/**
 * Renders outcomes as one text table: benchmark, case, size, baseline, candidates, ratios.
 *
 * @example
 * ```ts
 * console.log(formatTable(outcomes));
 * ```
 */
export function formatTable(outcomes: readonly BenchOutcome[]): string {
  const table = new Table({
    head: ["benchmark", "case", "size", "baseline ms", "candidate ms", "ratio", "target"],
    style: { head: [], border: [], compact: true },
  });
  for (const o of outcomes) {
    if (o.error !== undefined) {
      table.push([o.name, `FAILED: ${o.error.split("\n")[0]}`, "", "", "", "", ""]);
      continue;
    }
    for (const row of o.rows) {
      for (const c of row.candidates) {
        const r = ratio(row.baseline, c);
        const verdict = row.target === undefined ? "" : `>= ${row.target}x ${r >= row.target ? "met" : "MISSED"}`;
        table.push([
          o.name,
          row.case,
          String(row.size ?? ""),
          `${fmtMs(row.baseline.ms)} (${row.baseline.label})`,
          `${fmtMs(c.ms)} (${c.label})`,
          `${r.toFixed(2)}x`,
          verdict,
        ]);
      }
    }
  }
  return table.toString();
}

async function main(argv: readonly string[]): Promise<number> {
  const quick = argv.includes("--quick");
  const onlyAt = argv.indexOf("--only");
  const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? "").split(",").filter((s) => s.length > 0) : [];
  const selected = only.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => only.includes(b.name));
  const started = performance.now();
  const outcomes = await runBenchmarks(selected, { quick, log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`${formatTable(outcomes)}\n`);
  process.stdout.write(`node ${process.version}, total ${((performance.now() - started) / 1000).toFixed(1)} s${quick ? ", quick mode (not a measurement)" : ""}\n`);
  for (const o of outcomes) if (o.error !== undefined) process.stderr.write(`${o.name} failed:\n${o.error}\n`);
  return outcomes.some((o) => o.error !== undefined) ? 1 : 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
