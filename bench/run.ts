/**
 * `npm run bench` (quick), `npm run bench -- --full`, `secret-group bench`: runs the scenarios
 * in one process (those marked `ownProcess` each in a process of its own), one progress bar per scenario on stderr, then prints the summary table and
 * the issue-11 targets with their measured ratios, and saves `bench/results/<date>-<commit>.json`.
 *
 * Options: `--quick` (the default), `--full`; `--only bulk,membership,many-groups,operations,membership-large`; tiny runs (the smoke test):
 * `--sizes 6,8 --values 200 --sr-values 50 --groups 4 --iterations 1 --warmup 0`;
 * `--out <dir>` (results folder, default bench/results).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";
import cliProgress from "cli-progress";
import { bulk } from "./bulk.js";
import { manyGroups } from "./manyGroups.js";
import { operations } from "./operations.js";
import { membership, membershipLarge } from "./membership.js";
import { newResults, resultsFile, saveResults, type BenchResults } from "./results.js";
import { runInOwnProcess } from "./scenarioProcess.js";
import { formatTable, formatTargets } from "./table.js";
import type { BenchConfig, Progress, Row, Scenario } from "./types.js";

/** Every scenario, in run order (groups above 1000 members last: an interrupted full run keeps the rest). @example `SCENARIOS.map((s) => s.name)` */
export const SCENARIOS: readonly Scenario[] = [bulk, membership, manyGroups, operations, membershipLarge];

/** Repository root (dist/bench/run.js -> ../..). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Configuration from command-line arguments.
 *
 * @example
 * ```ts
 * parseConfig(["--full"]).sizes; // [10, 100, 1000, 5000, 10000]
 * ```
 */
export function parseConfig(argv: readonly string[]): BenchConfig {
  const value = (name: string): string | undefined => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const list = (name: string): number[] | undefined => value(name)?.split(",").map(Number).filter((n) => Number.isFinite(n) && n > 0);
  const num = (name: string): number | undefined => (value(name) === undefined ? undefined : Number(value(name)));
  const known = new Set(["--full", "--quick", "--only", "--sizes", "--values", "--sr-values", "--groups", "--iterations", "--warmup", "--out"]);
  for (const a of argv) if (a.startsWith("--") && !known.has(a)) throw new Error(`unknown option ${a} (options: ${[...known].join(" ")})`);
  const full = argv.includes("--full");
  const values = num("--values");
  const custom = ["--sizes", "--values", "--sr-values", "--groups", "--iterations", "--warmup"].some((f) => argv.includes(f));
  const iterations = num("--iterations");
  const warmup = num("--warmup");
  const only = value("--only")?.split(",");
  return {
    // --full with --sizes (or --groups, ...) keeps full mode's rounds: a full run may be split by size
    mode: full ? "full" : custom ? "custom" : "quick",
    sizes: list("--sizes") ?? (full ? [10, 100, 1000, 5000, 10_000] : [10, 100, 1000]),
    bulkValues: values !== undefined ? { 64: values, 1024: values, 65536: values } : full ? { 64: 100_000, 1024: 100_000, 65536: 10_000 } : { 64: 20_000, 1024: 20_000, 65536: 2_000 },
    srValues: num("--sr-values") ?? 10_000,
    groupCounts: list("--groups") ?? (full ? [1000, 10_000] : [1000]),
    ...(iterations === undefined ? {} : { iterations }),
    ...(warmup === undefined ? {} : { warmup }),
    ...(only === undefined ? {} : { only }),
  };
}

function progressFor(name: string, log: (line: string) => void, quiet: boolean): Progress {
  if (quiet) return { start: () => {}, phase: () => {}, tick: () => {}, stop: () => {} };
  if (!process.stderr.isTTY) {
    let last = "";
    let done = 0;
    return {
      start: (total, phase) => log(`${new Date().toISOString()} [${name}] ${(last = phase)} (0/${(done = 0, total)})`),
      phase: (phase) => void (phase !== last && log(`${new Date().toISOString()} [${name}] ${(last = phase)} (${done} steps done)`)),
      tick: (steps = 1) => void (done += steps),
      stop: () => log(`[${name}] done`),
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${name.padEnd(11)} [{bar}] {value}/{total} {phase}`, stream: process.stderr, clearOnComplete: false, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total, phase) => bar.start(total, 0, { phase }),
    phase: (phase) => bar.update({ phase }),
    tick: (steps = 1) => bar.increment(steps),
    stop: () => bar.stop(),
  };
}

/**
 * Runs the configured scenarios; saves results after every row. Returns the results.
 *
 * @example
 * ```ts
 * const results = await runSuite(parseConfig(["--sizes", "6"]), { out: dir, quiet: true });
 * ```
 */
export async function runSuite(config: BenchConfig, options: { out?: string; quiet?: boolean; log?: (line: string) => void } = {}): Promise<{ results: BenchResults; file: string }> {
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const results = newResults(config, ROOT);
  const file = resultsFile(options.out ?? join(ROOT, "bench", "results"), results);
  const selected = config.only === undefined ? SCENARIOS : SCENARIOS.filter((s) => config.only?.includes(s.name));
  saveResults(file, results);
  for (const scenario of selected) {
    const progress = progressFor(scenario.name, log, options.quiet === true);
    try {
      const ctx = {
        config,
        progress,
        log,
        emit: (row: Row) => {
          results.rows.push(row);
          saveResults(file, results);
        },
      };
      await (scenario.ownProcess === true ? runInOwnProcess(scenario.name, ctx) : scenario.run(ctx));
    } catch (e) {
      progress.stop();
      results.errors.push({ scenario: scenario.name, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      saveResults(file, results);
    }
  }
  results.finished = new Date().toISOString();
  results.machine.loadAverageAtEnd = (await import("node:os")).loadavg();
  results.complete = results.errors.length === 0;
  saveResults(file, results);
  return { results, file };
}

/**
 * Command-line entry (also `secret-group bench`): returns the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await main(["--full"]);
 * ```
 */
export async function main(argv: readonly string[]): Promise<number> {
  const config = parseConfig(argv);
  const started = performance.now();
  const { results, file } = await runSuite(config, argv.includes("--out") ? { out: resolve(argv[argv.indexOf("--out") + 1] as string) } : {});
  process.stdout.write(`${formatTable(results.rows)}\n\n${formatTargets(results.rows)}\n`);
  const load = (l: readonly number[] | undefined) => (l ?? []).map((x) => x.toFixed(2)).join(" ");
  process.stdout.write(
    `${config.mode} mode, ${((performance.now() - started) / 1000).toFixed(0)} s, node ${process.version}, ${results.machine.cpus} x ${results.machine.model}, load average ${load(results.machine.loadAverageAtStart)} at start, ${load(results.machine.loadAverageAtEnd)} at end\nresults: ${file}\n`,
  );
  for (const e of results.errors) process.stderr.write(`${e.scenario} failed:\n${e.error}\n`);
  return results.errors.length > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
