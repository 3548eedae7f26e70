/**
 * `npm run bench:report [-- results.json ...]`: turns the newest results (or the files given,
 * merged: a later file's row replaces an earlier one of the same scenario, case and size)
 * into SVG charts in bench/charts/, regenerates bench/RESULTS.md with the tables and rewrites the
 * README's benchmark block (between its `bench:start` / `bench:end` markers) from the same rows.
 *
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { renderSvg, rssVsGroups, throughputBars, timeVsN } from "./charts.js";
import type { BenchResults } from "./results.js";
import { BARE } from "./membership.js";
import { describe, fmt, targetLines, unmeasured } from "./table.js";
import { ratioOf, TARGETS } from "./targets.js";
import type { Figure, Row } from "./types.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BENCH = join(ROOT, "bench");

const MEMBERSHIP: ReadonlyArray<[string, string]> = [
  ["receiver-update", "receiver processes an update commit"],
  ["receiver-remove", "receiver processes a remove commit"],
  ["owner-add", "owner adds 1 member"],
  ["owner-remove", "owner removes 1 member"],
  ["owner-update", "owner update commit"],
  ["join", "join from a Welcome"],
  ["create-add", "create + add N-1 members in one commit"],
];

/**
 * Rows of several runs merged (later files win per scenario, case, N and value size).
 *
 * @example
 * ```ts
 * const rows = mergeRows([older, newer]);
 * ```
 */
export function mergeRows(runs: readonly BenchResults[]): Row[] {
  const byKey = new Map<string, Row>();
  for (const run of runs) for (const row of run.rows) byKey.set(`${row.scenario}|${row.case}|${row.n}|${row.valueBytes}`, row);
  return [...byKey.values()];
}

/** `bench/results/NOTES.md` (what a committed set of runs left out, and why), as a section. */
function notes(): string[] {
  try {
    return ["## Notes on these runs", "", readFileSync(join(BENCH, "results", "NOTES.md"), "utf8").trim(), ""];
  } catch {
    return [];
  }
}

function newestFile(): string {
  const dir = join(BENCH, "results");
  const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
  const last = files.at(-1);
  if (last === undefined) throw new Error(`no results in ${dir}: run npm run bench first`);
  return join(dir, last);
}

/** Under each long-term table: why two node:crypto baselines. */
const KEPT_NOTE =
  "Two node:crypto baselines: issue 11's figure is the loop that drops each plaintext as it goes (its next value reuses the memory just freed); `engine.decrypt` hands every plaintext of a batch to its caller, so the second loop (\"plaintexts kept per batch\") keeps them in an array as the caller would, then drops the batch: the like-for-like comparison.";

const cell = (f: Figure | undefined): string => (f === undefined ? "" : `${fmt(f.spread.median)} (p95 ${fmt(f.spread.p95)}, min ${fmt(f.spread.min)}, ±${fmt(f.spread.rsd)}%, n ${f.spread.n})`);

function membershipTable(rows: readonly Row[]): string {
  const lines = ["| N | side | median ms (p95, min, rel. sd, samples) | ratio to bare ts-mls |", "|---:|---|---|---:|"];
  for (const r of [...rows].sort((a, b) => (a.n ?? 0) - (b.n ?? 0))) {
    if (r.baseline !== undefined) lines.push(`| ${r.n} | ${r.baseline.label} (baseline) | ${cell(r.baseline)} | 1 |`);
    else if (unmeasured(r) !== "") lines.push(`| ${r.n} | ${BARE} (baseline) | ${unmeasured(r)} | |`);
    for (const c of r.candidates) lines.push(`| ${r.n} | ${c.label} | ${cell(c)} | ${r.baseline === undefined ? "" : `${fmt(ratioOf(r, c))}x`} |`);
  }
  return lines.join("\n");
}

function bulkTable(rows: readonly Row[]): string {
  const lines = ["| case | values | side | median ms (p95, min, rel. sd, samples) | MB/s | values/s | ratio |", "|---|---:|---|---|---:|---:|---:|"];
  for (const r of rows) {
    const all = [...(r.baseline === undefined ? [] : [r.baseline]), ...r.candidates];
    for (const f of all) {
      const ratio = f === r.baseline ? "baseline" : `${fmt(ratioOf(r, f))}x`;
      lines.push(`| ${r.case} | ${r.values} x ${r.valueBytes} B | ${f.label} | ${cell(f)} | ${fmt(f.throughput?.mbPerS.median ?? NaN)} | ${fmt(f.throughput?.valuesPerS.median ?? NaN)} | ${ratio} |`);
    }
  }
  return lines.join("\n");
}

function manyTable(rows: readonly Row[]): string {
  const lines = [
    "| groups | documents/s overall (per chunk median) | operations/s overall | peak RSS MiB (before ingest; growth) | disk bytes per group | heap bytes per hydrated actor | per group joined: engine vs bare joinGroup |",
    "|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of rows.filter((x) => x.scenario === "many-groups")) {
    const e = r.extra ?? {};
    const join = rows.find((x) => x.scenario === "many-groups-join" && x.n === r.n);
    const joinCell = join?.candidates[0] === undefined ? "" : `${fmt(join.candidates[0].spread.median)} ms vs ${fmt(join.baseline?.spread.median ?? NaN)} ms (${fmt(ratioOf(join, join.candidates[0]))}x)`;
    lines.push(
      `| ${r.n} | ${fmt(e["documentsPerSecondOverall"] ?? NaN)} (${fmt(r.candidates[0]?.spread.median ?? NaN)}) | ${fmt(e["operationsPerSecondOverall"] ?? NaN)} | ${fmt((e["peakRssBytes"] ?? NaN) / 2 ** 20)} (${fmt((e["rssBeforeBytes"] ?? NaN) / 2 ** 20)}; ${fmt(((e["peakRssBytes"] ?? NaN) - (e["rssBeforeBytes"] ?? NaN)) / 2 ** 20)}) | ${fmt(e["diskBytesPerGroup"] ?? NaN)} | ${fmt(e["heapBytesPerHydratedActor"] ?? NaN)} | ${joinCell} |`,
    );
  }
  return lines.join("\n");
}

function runLine(run: BenchResults, file: string): string {
  const load = (l: readonly number[] | undefined) => (l === undefined ? "?" : l.map((x) => x.toFixed(2)).join(" / "));
  const m = run.machine;
  return `- \`${relative(BENCH, file)}\`: ${run.config.mode} mode, commit ${run.commit}${run.dirty ? " (uncommitted changes)" : ""}, ${run.started} to ${run.finished ?? "(interrupted)"}${run.complete ? "" : ", **incomplete**"}; ${m.cpus} x ${m.model}, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB, ${m.platform}; Node ${run.node}; load average (1/5/15 min) ${load(m.loadAverageAtStart)} at start, ${load(m.loadAverageAtEnd)} at end; ts-mls ${run.dependencies["ts-mls"]}, tinybench ${run.dependencies["tinybench"]}, @noble/ciphers ${run.dependencies["@noble/ciphers"]}, piscina ${run.dependencies["piscina"]}, classic-level ${run.dependencies["classic-level"]}; sizes ${run.config.sizes.join(", ")}, long-term values ${Object.entries(run.config.bulkValues).map(([s, v]) => `${v} x ${s} B`).join(", ")}, groups ${run.config.groupCounts.join(", ")}${run.errors.length > 0 ? `; failed: ${run.errors.map((e) => `${e.scenario} (${e.error.split("\n")[0]})`).join("; ")}` : ""}`;
}

/**
 * Writes the charts and RESULTS.md; returns the Markdown.
 *
 * @example
 * ```ts
 * await writeReport([newestFile()]);
 * ```
 */
export async function writeReport(files: readonly string[]): Promise<string> {
  const runs = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as BenchResults);
  const rows = mergeRows(runs);
  const charts = join(BENCH, "charts");
  mkdirSync(charts, { recursive: true });
  const md: string[] = [
    "# Benchmark results",
    "",
    "Generated by `npm run bench:report` from the results below; do not edit by hand. Runner: `npm run bench` (quick) or `npm run bench -- --full`, also `secret-group bench`.",
    "",
    "## Runs",
    "",
    ...runs.map((r, i) => runLine(r, files[i] as string)),
    "",
    "The machine has 2 cores and is shared with other developers' builds and tests: the load average above (well over 2 means",
    "the cores were oversubscribed) inflates every absolute time. Ratios compare sides measured in the same run, interleaved.",
    "",
    ...notes(),
    "## How it is measured",
    "",
    "- Timing by tinybench: each side (baseline or candidate) is a tinybench task run for one iteration per round; rounds rotate",
    "  which side goes first, warm-up rounds run the same way for every side and are dropped. Reported: median, p95, min,",
    "  relative standard deviation and the number of samples. Ratio = baseline median / candidate median (above 1: faster).",
    "- Baselines: bare ts-mls 1.6.4 on its default provider in one thread (with this repository's one-hunk patch of",
    "  `validateRatchetTree`), raw single-thread `node:crypto`, raw `@noble/ciphers`; same inputs, same warm-up, every side awaited once per iteration.",
    "- Fresh inputs: every receiver iteration processes the next commit of a precomputed chain; every add adds a new key package,",
    "  every remove another member; every join joins another group, built in a worker thread so no key cache of the measuring",
    "  thread has seen its keys; create-plus-add uses new key packages every iteration.",
    "- Engine: workers and LevelDB included. Warm = the state is cached in the worker; cold = the engine was closed and reopened",
    "  (new engine: empty worker-cache entries, no live actor) before the iteration, so the state comes from the store.",
    "- Bare and library owner add/remove start each iteration from the same state; updates chain. The engine's owner group is",
    "  the last one its create-plus-add iterations made and changes with every iteration (its size drifts by a few members).",
    "",
    "## Issue 11 targets",
    "",
    "| figure | today (issue 11) | target | measured (median; ratio to the baseline of the same run) |",
    "|---|---|---|---|",
    ...targetLines(rows).map(([t, lines]) => `| ${t.figure} | ${t.today} | ${t.target} | ${lines.length === 0 ? "not measured" : lines.map((l) => l.replace(/\|/g, "/")).join("<br>")} |`),
    "",
  ];
  void TARGETS;

  md.push("## Membership", "");
  for (const [scenario, title] of MEMBERSHIP) {
    const these = rows.filter((r) => r.scenario === scenario);
    if (these.length === 0) continue;
    const file = `membership-${scenario}.svg`;
    writeFileSync(join(charts, file), await renderSvg(timeVsN(`${title}: median time against N (log-log; bars: min to p95)`, these)));
    md.push(`### ${title}`, "", `![${title}](charts/${file})`, "", membershipTable(these), "");
  }

  const bulkRows = rows.filter((r) => r.scenario === "bulk-long-term" || r.scenario === "bulk-long-term-kept" || r.scenario === "bulk-long-term-noble" || r.scenario === "bulk-sender-ratchet");
  if (bulkRows.length > 0) {
    md.push("## Bulk decryption", "");
    const sizes = [...new Set(bulkRows.filter((r) => r.scenario !== "bulk-sender-ratchet").map((r) => r.valueBytes as number))].sort((a, b) => a - b);
    for (const size of sizes) {
      const these = bulkRows.filter((r) => r.valueBytes === size && r.scenario === "bulk-long-term");
      const kept = bulkRows.filter((r) => r.valueBytes === size && r.scenario === "bulk-long-term-kept");
      const noble = bulkRows.filter((r) => r.valueBytes === size && r.scenario === "bulk-long-term-noble");
      // one bar per side: raw node:crypto and the engine from the node rows, the kept loop and noble from their own rows
      const baselineOf = (from: readonly Row[], r: Row): Figure[] => {
        const f = from.find((x) => x.case === r.case)?.baseline;
        return f === undefined ? [] : [f];
      };
      const merged: Row[] = these.map((r) => ({ ...r, candidates: [...r.candidates, ...baselineOf(kept, r), ...baselineOf(noble, r)] }));
      const file = `bulk-${size}.svg`;
      writeFileSync(join(charts, file), await renderSvg(throughputBars(`long-term decryption, ${size} B values: MB/s per ciphersuite`, merged)));
      md.push(`### Long-term, ${size} B values`, "", `![throughput ${size} B](charts/${file})`, "", bulkTable([...these, ...kept, ...noble]), "", KEPT_NOTE, "");
    }
    const sr = bulkRows.filter((r) => r.scenario === "bulk-sender-ratchet");
    if (sr.length > 0) {
      writeFileSync(join(charts, "bulk-sender-ratchet.svg"), await renderSvg(throughputBars("sender-ratchet decryption, 1 KiB values: MB/s", sr)));
      md.push("### Sender-ratchet, 1 KiB values", "", "![sender-ratchet](charts/bulk-sender-ratchet.svg)", "", bulkTable(sr), "");
      md.push("The bare ts-mls and library loops await each message (their APIs take one message); the engine takes the batch.", "");
    }
  }

  const many = rows.filter((r) => r.scenario === "many-groups");
  if (many.length > 0) {
    writeFileSync(join(charts, "many-groups-rss.svg"), await renderSvg(rssVsGroups(many)));
    md.push(
      "## Many groups",
      "",
      "![RSS against group count](charts/many-groups-rss.svg)",
      "",
      manyTable(rows),
      "",
      "Groups of 3 members (owner, the measuring engine, a third member) from a shuffled stream of their group, key-package and",
      "commit documents, ingested in 40 chunks; every actor stays hydrated (liveActors = groups). Operations: the engine does not",
      "ingest application documents yet, so operations/s is `engine.decryptFields` of each group's one encrypted operation after",
      "ingest. The groups and their documents are made in a child process and read from files one chunk at a time, so peak RSS is",
      "the engine's process: Node, the engine's main thread, its two worker threads, LevelDB and one chunk of input (plus the",
      "high-water mark of any scenario that ran before in the same process: run `--only many-groups` for a clean figure); heap per actor",
      "is the main thread's heap growth after garbage collection divided by the hydrated actors. Per group joined: the engine's",
      "chunk time per document times 3 documents, against bare ts-mls `joinGroup` of a 3-member group (another group each",
      "iteration) interleaved chunk by chunk.",
      "",
    );
  }
  md.push("## Every row", "", "```", ...rows.flatMap((r) => r.candidates.map((c) => `${r.scenario} ${r.n ?? ""}${r.valueBytes === undefined ? "" : ` x ${r.valueBytes} B`}: ${c.label} ${describe(c)}${r.baseline === undefined ? (unmeasured(r) === "" ? "" : `; ${unmeasured(r)}`) : `; baseline ${r.baseline.label} ${describe(r.baseline)}; ratio ${fmt(ratioOf(r, c))}x`}`)), "```", "");
  const text = md.join("\n");
  writeFileSync(join(BENCH, "RESULTS.md"), text);
  return text;
}

/**
 * The README's benchmark block (between `<!-- bench:start -->` and `<!-- bench:end -->`): issue
 * 11's figures with the measured medians and ratios, and the runs' load averages.
 *
 * @example
 * ```ts
 * const block = readmeBlock(runs, rows);
 * ```
 */
export function readmeBlock(runs: readonly BenchResults[], rows: readonly Row[]): string {
  const load = runs.map((r) => `${r.machine.loadAverageAtStart[0]?.toFixed(1)} to ${r.machine.loadAverageAtEnd?.[0]?.toFixed(1) ?? "(end not recorded: run stopped)"}`).join(", ");
  const lines = [
    `From ${runs.map((r) => `\`${r.started.slice(0, 16)}\` (${r.config.mode}, commit ${r.commit})`).join(", ")}; 1-minute load average ${load} on 2 cores`,
    "(other developers' jobs), which inflates every absolute time; ratios are of sides measured together, interleaved.",
    "",
    "| issue 11 figure | target | measured: median, ratio to the baseline of the same run |",
    "|---|---|---|",
  ];
  for (const [t, found] of targetLines(rows)) {
    const cells = found.map((l) => l.replace(/\|/g, "/"));
    lines.push(`| ${t.figure} | ${t.target} | ${cells.length === 0 ? "not measured (see RESULTS.md)" : cells.join("<br>")} |`);
  }
  return lines.join("\n");
}

function updateReadme(block: string): void {
  const file = join(ROOT, "README.md");
  const text = readFileSync(file, "utf8");
  const start = text.indexOf("<!-- bench:start -->");
  const end = text.indexOf("<!-- bench:end -->");
  if (start < 0 || end < start) return;
  writeFileSync(file, `${text.slice(0, start)}<!-- bench:start -->\n${block}\n${text.slice(end)}`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const files = process.argv.slice(2).map((f) => resolve(f));
  const used = files.length > 0 ? files : [newestFile()];
  await writeReport(used);
  const runs = used.map((f) => JSON.parse(readFileSync(f, "utf8")) as BenchResults);
  updateReadme(readmeBlock(runs, mergeRows(runs)));
  process.stdout.write(`wrote bench/RESULTS.md and bench/charts/ from ${used.map((f) => basename(f)).join(", ")}\n`);
}
