/**
 * The summary tables (cli-table3): every row's baseline and candidates with median, p95 and
 * ratio, the target beside the ratio it concerns; and issue 11's targets with what was measured.
 *
 * @module
 */
import Table from "cli-table3";
import { ratioOf, TARGETS, targetNote } from "./targets.js";
import type { Figure, Row } from "./types.js";

const style = { head: [] as string[], border: [] as string[], compact: true };

/**
 * "12.3" / "1234" / "0.123" (three significant figures, roughly).
 *
 * @example
 * ```ts
 * fmt(1234.5); // "1235"
 * ```
 */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return "-";
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
}

/**
 * "median (p95) unit", with throughput for bulk rows.
 *
 * @example
 * ```ts
 * describe(figure); // "12.0 ms (p95 13.1, n 8)"
 * ```
 */
export function describe(f: Figure): string {
  const s = f.spread;
  const unit = f.unit === "ms" ? " ms" : ` ${f.unit}`;
  const base = `${fmt(s.median)}${unit} (p95 ${fmt(s.p95)}, ±${fmt(s.rsd)}%, n ${s.n})`;
  return f.throughput === undefined ? base : `${base}; ${fmt(f.throughput.mbPerS.median)} MB/s, ${fmt(f.throughput.valuesPerS.median / 1000)}k values/s`;
}

function size(row: Row): string {
  if (row.valueBytes !== undefined) return `${row.values} x ${row.valueBytes} B`;
  return row.n === undefined ? "" : String(row.n);
}

/**
 * The main table.
 *
 * @example
 * ```ts
 * console.log(formatTable(results.rows));
 * ```
 */
export function formatTable(rows: readonly Row[]): string {
  const table = new Table({ head: ["case", "N / values", "baseline", "candidate", "ratio", "target (issue 11)"], style, wordWrap: true, colWidths: [34, 14, 40, 50, 8, 26] });
  for (const row of rows) {
    const extra = row.extra === undefined ? "" : `\n${Object.entries(row.extra).map(([k, v]) => `${k} ${fmt(v)}`).join(", ")}`;
    for (const c of row.candidates) {
      table.push([
        row.case + (c === row.candidates[0] ? extra : ""),
        size(row),
        row.baseline === undefined ? unmeasured(row) : `${row.baseline.label}: ${describe(row.baseline)}`,
        `${c.label}: ${describe(c)}`,
        row.baseline === undefined ? "" : `${fmt(ratioOf(row, c))}x`,
        targetNote(row, c),
      ]);
    }
  }
  return table.toString();
}

/**
 * Why a row that should have a baseline has none ("baseline not measured: ..."), or "".
 *
 * @example
 * ```ts
 * unmeasured(row); // "baseline not measured: ts-mls 1.6.4 overflows the call stack ..."
 * ```
 */
export function unmeasured(row: Row): string {
  return row.baseline === undefined && row.note?.startsWith("baseline not measured") === true ? row.note : "";
}

/**
 * Issue 11's targets with the measured figures and ratios of every matching row.
 *
 * @example
 * ```ts
 * console.log(formatTargets(results.rows));
 * ```
 */
export function formatTargets(rows: readonly Row[]): string {
  const table = new Table({ head: ["issue 11 figure", "target", "measured (median; ratio to baseline)"], style, wordWrap: true, colWidths: [40, 26, 80] });
  for (const [target, lines] of targetLines(rows)) table.push([target.figure, target.target, lines.join("\n") || "not measured in this run"]);
  return table.toString();
}

/**
 * For each target, one line per matching row and candidate.
 *
 * @example
 * ```ts
 * for (const [target, lines] of targetLines(rows)) console.log(target.figure, lines);
 * ```
 */
export function targetLines(rows: readonly Row[]): Array<[(typeof TARGETS)[number], string[]]> {
  return TARGETS.map((t) => {
    const lines: string[] = [];
    for (const row of rows) {
      for (const c of row.candidates) {
        if (!t.matches(row, c)) continue;
        const met = t.met(row, c);
        const verdict = met === undefined ? "" : met ? " met" : " missed";
        const ratio = row.baseline === undefined ? (unmeasured(row) === "" ? "" : `; ${unmeasured(row)}`) : `; ${fmt(ratioOf(row, c))}x ${row.baseline.label}`;
        const extra =
          row.scenario === "many-groups"
            ? `; overall ${fmt(row.extra?.["documentsPerSecondOverall"] ?? NaN)} documents/s, peak RSS ${fmt((row.extra?.["peakRssBytes"] ?? NaN) / 2 ** 20)} MiB`
            : row.scenario === "materialise-operations"
              ? `; overall ${fmt(row.extra?.["operationsPerSecondOverall"] ?? NaN)} operations/s (${fmt(row.extra?.["documentsPerSecondOverall"] ?? NaN)} documents/s), peak RSS ${fmt((row.extra?.["peakRssBytes"] ?? NaN) / 2 ** 20)} MiB`
              : "";
        lines.push(`${row.case} (${row.valueBytes === undefined ? "N " : ""}${size(row)}): ${c.label} ${fmt(c.spread.median)} ${c.unit}${ratio}${extra} ->${verdict}`);
      }
    }
    return [t, lines];
  });
}
