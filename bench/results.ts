/**
 * The results file of a run: `bench/results/<date>-<commit>.json`, with the machine (CPUs,
 * model, memory, load average at start and end), Node, dependency versions, the
 * configuration and every row with its spread. Rewritten after every row, so an interrupted
 * run keeps what it measured (`complete: false`).
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import type { BenchConfig, Row } from "./types.js";

/**
 * A saved run.
 *
 * @example
 * ```ts
 * const r: BenchResults = JSON.parse(readFileSync(file, "utf8"));
 * ```
 */
export interface BenchResults {
  readonly version: 1;
  readonly started: string;
  finished?: string;
  complete: boolean;
  readonly commit: string;
  readonly dirty: boolean;
  readonly config: BenchConfig;
  readonly machine: {
    readonly cpus: number;
    readonly model: string;
    readonly memoryBytes: number;
    readonly freeMemoryBytesAtStart: number;
    readonly loadAverageAtStart: readonly number[];
    loadAverageAtEnd?: readonly number[];
    readonly platform: string;
  };
  readonly node: string;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly rows: Row[];
  readonly errors: Array<{ scenario: string; error: string }>;
}

const DEPENDENCIES = ["ts-mls", "tinybench", "@noble/ciphers", "@noble/curves", "@noble/hashes", "piscina", "level", "classic-level", "cborg", "xstate", "vega", "vega-lite"];

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

function versions(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of DEPENDENCIES) {
    try {
      out[name] = (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
    } catch {
      out[name] = "absent";
    }
  }
  return out;
}

/**
 * Starts a results record for this run.
 *
 * @example
 * ```ts
 * const results = newResults(config, process.cwd());
 * ```
 */
export function newResults(config: BenchConfig, root: string): BenchResults {
  const cpu = cpus();
  return {
    version: 1,
    started: new Date().toISOString(),
    complete: false,
    commit: git(["rev-parse", "--short", "HEAD"]) || "unknown",
    dirty: git(["status", "--porcelain", "--untracked-files=no"]).length > 0,
    config,
    machine: {
      cpus: cpu.length,
      model: cpu[0]?.model ?? "unknown",
      memoryBytes: totalmem(),
      freeMemoryBytesAtStart: freemem(),
      loadAverageAtStart: loadavg(),
      platform: `${process.platform} ${process.arch}`,
    },
    node: process.version,
    dependencies: versions(root),
    rows: [],
    errors: [],
  };
}

/**
 * File name of a run: `<date>T<time>Z-<commit>.json` (sorts by time).
 *
 * @example
 * ```ts
 * resultsFile("bench/results", results); // "bench/results/2026-12-01T09-30-00Z-d77eb4a.json"
 * ```
 */
export function resultsFile(dir: string, results: BenchResults): string {
  const stamp = results.started.replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
  return join(dir, `${stamp}-${results.commit}.json`);
}

/**
 * Writes the record (atomically: temporary file, then rename).
 *
 * @example
 * ```ts
 * saveResults(file, results);
 * ```
 */
export function saveResults(file: string, results: BenchResults): void {
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(results, null, 1)}\n`);
  renameSync(`${file}.tmp`, file);
}
