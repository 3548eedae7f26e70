/**
 * SVG charts of a run, drawn by vega-lite specs compiled to vega and rendered headless
 * (`renderer: "none"`, no browser): time against N on log-log axes (baseline beside ours),
 * throughput bars per value size, peak RSS against group count.
 *
 * @module
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { Row } from "./types.js";

/**
 * Renders a vega-lite spec to SVG text.
 *
 * @example
 * ```ts
 * const svg = await renderSvg({ data: { values: [] }, mark: "point" });
 * ```
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  return view.toSVG();
}

const WIDTH = 520;
const HEIGHT = 300;

/**
 * Median time (with the p95 as a tick) against N, log-log, one line per side.
 *
 * @example
 * ```ts
 * const spec = timeVsN("receiver update commit", rows.filter((r) => r.scenario === "receiver-update"));
 * ```
 */
export function timeVsN(title: string, rows: readonly Row[]): TopLevelSpec {
  const values = rows.flatMap((r) =>
    [...(r.baseline === undefined ? [] : [r.baseline]), ...r.candidates].map((f) => ({ n: r.n, side: f.label, median: f.spread.median, p95: f.spread.p95, min: f.spread.min })),
  );
  return {
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    encoding: {
      x: { field: "n", type: "quantitative", scale: { type: "log" }, title: "members (N)" },
      color: { field: "side", type: "nominal", legend: { orient: "bottom", columns: 2, labelLimit: 300 } },
    },
    layer: [
      { mark: { type: "line", point: true }, encoding: { y: { field: "median", type: "quantitative", scale: { type: "log" }, title: "median ms (log)" } } },
      { mark: { type: "rule", opacity: 0.5 }, encoding: { y: { field: "min", type: "quantitative" }, y2: { field: "p95" } } },
    ],
  } as TopLevelSpec;
}

/**
 * MB/s bars per ciphersuite and side, for one value size.
 *
 * @example
 * ```ts
 * const spec = throughputBars("1 KiB values", rows);
 * ```
 */
export function throughputBars(title: string, rows: readonly Row[]): TopLevelSpec {
  const values = rows.flatMap((r) =>
    [...(r.baseline === undefined ? [] : [r.baseline]), ...r.candidates]
      .filter((f) => f.throughput !== undefined)
      .map((f) => ({ group: r.case.replace(/^.*, /, ""), side: f.label, mbs: f.throughput!.mbPerS.median })),
  );
  return {
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: "bar",
    encoding: {
      x: { field: "group", type: "nominal", title: null, axis: { labelAngle: 0, labelLimit: 300 } },
      xOffset: { field: "side", type: "nominal" },
      y: { field: "mbs", type: "quantitative", title: "MB/s (median)" },
      color: { field: "side", type: "nominal", legend: { orient: "bottom", columns: 1, labelLimit: 400 } },
    },
  } as TopLevelSpec;
}

/**
 * Peak RSS (MiB) against group count.
 *
 * @example
 * ```ts
 * const spec = rssVsGroups(rows.filter((r) => r.scenario === "many-groups"));
 * ```
 */
export function rssVsGroups(rows: readonly Row[]): TopLevelSpec {
  const values = rows.flatMap((r) => [
    { groups: r.n, what: "peak RSS (process, workers included)", mib: (r.extra?.["peakRssBytes"] ?? NaN) / 2 ** 20 },
    { groups: r.n, what: "RSS before ingest", mib: (r.extra?.["rssBeforeBytes"] ?? NaN) / 2 ** 20 },
  ]);
  return {
    title: "many groups: RSS against group count",
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "groups", type: "quantitative", scale: { type: "log" }, title: "groups of 3 (log)" },
      y: { field: "mib", type: "quantitative", title: "MiB" },
      color: { field: "what", type: "nominal", legend: { orient: "bottom" } },
    },
  } as TopLevelSpec;
}
