/**
 * The targets table of issue 11, matched to the rows that measure them. Printed beside the
 * measured ratio; never asserted anywhere.
 *
 * @module
 */
import { ENGINE_COLD, ENGINE_WARM, LIBRARY } from "./membership.js";
import type { Figure, Row } from "./types.js";

/**
 * One target of issue 11.
 *
 * @example
 * ```ts
 * const t = TARGETS[0]; t.figure; // "receiver commit, 1000 members, library"
 * ```
 */
export interface Target {
  readonly figure: string;
  readonly today: string;
  readonly anchor: string;
  readonly target: string;
  /** Does this (row, candidate) measure it? */
  readonly matches: (row: Row, candidate: Figure) => boolean;
  /** Met, judged on the measured figures (undefined: cannot be judged from this row). */
  readonly met: (row: Row, candidate: Figure) => boolean | undefined;
}

const median = (f: Figure | undefined): number => f?.spread.median ?? NaN;
/** Baseline median / candidate median. @example `ratioOf(row, row.candidates[0])` */
export function ratioOf(row: Row, candidate: Figure): number {
  return median(row.baseline) / median(candidate);
}
const at = (scenario: string, n: number, ...labels: string[]) => (row: Row, c: Figure) => row.scenario === scenario && row.n === n && labels.includes(c.label);
const extraOf = (row: Row, key: string): number => row.extra?.[key] ?? NaN;

/**
 * A bulk row against the raw loop that keeps its plaintexts as engine.decrypt's caller does
 * (scenario "bulk-long-term-kept"): printed beside issue 11's figures, judged by the same ratio,
 * but not one of them.
 */
function keptReference(valueBytes: number, size: string, ratio: number): Target {
  return {
    figure: `reference, not the issue's figure: bulk long-term decrypt via the pool, ${size}, against the raw loop keeping its plaintexts`,
    today: "not measured",
    anchor: "raw node:crypto, plaintexts kept per batch",
    target: `(>= ${ratio}x)`,
    matches: (r) => r.scenario === "bulk-long-term-kept" && r.valueBytes === valueBytes,
    met: (r, c) => ratioOf(r, c) >= ratio,
  };
}

/**
 * Issue 11's targets, in its order.
 *
 * @example
 * ```ts
 * TARGETS.map((t) => t.figure);
 * ```
 */
export const TARGETS: readonly Target[] = [
  {
    figure: "receiver commit, 1000 members, library",
    today: "125-250 ms",
    anchor: "ts-mls 1.6.4 default 0.66-1.5 s; ts-mls main 29 ms",
    target: "<= 10 ms: >= 60x bare 1.6.4",
    matches: (r, c) => (r.scenario === "receiver-update" || r.scenario === "receiver-remove") && r.n === 1000 && c.label === LIBRARY,
    met: (r, c) => median(c) <= 10 && ratioOf(r, c) >= 60,
  },
  {
    figure: "receiver commit, 1000 members, engine (persisted)",
    today: "235-400 ms",
    anchor: "",
    target: "<= 15 ms",
    matches: (r, c) => (r.scenario === "receiver-update" || r.scenario === "receiver-remove") && r.n === 1000 && (c.label === ENGINE_WARM || c.label === ENGINE_COLD),
    met: (_r, c) => median(c) <= 15,
  },
  {
    figure: "receiver commit, 10,000 members, library",
    today: "not measured",
    anchor: "ts-mls main 213 ms",
    target: "<= 100 ms",
    matches: (r, c) => (r.scenario === "receiver-update" || r.scenario === "receiver-remove") && r.n === 10_000 && c.label === LIBRARY,
    met: (_r, c) => median(c) <= 100,
  },
  {
    figure: "owner update commit, 1000 members",
    today: "380-730 ms",
    anchor: "bare 1.6.4 1.5 s; ts-mls main 1.28 s",
    target: "<= 150 ms: >= 10x bare",
    matches: at("owner-update", 1000, LIBRARY, ENGINE_WARM, ENGINE_COLD),
    met: (r, c) => median(c) <= 150 && ratioOf(r, c) >= 10,
  },
  {
    figure: "create and add 999 members in one commit",
    today: "4-5 s",
    anchor: "bare 3.7 s",
    target: "<= 800 ms",
    matches: at("create-add", 1000, LIBRARY, "engine (create + addMembers)"),
    met: (_r, c) => median(c) <= 800,
  },
  {
    figure: "join from a Welcome, 1000 members",
    today: "470-740 ms",
    anchor: "bare 1.6.4 0.9-1.5 s; ts-mls main 490 ms",
    target: "<= 150 ms: >= 6x bare",
    matches: at("join", 1000, LIBRARY, "engine (new engine, ingest)"),
    met: (r, c) => median(c) <= 150 && ratioOf(r, c) >= 6,
  },
  {
    figure: "engine joins of small groups (many groups; ours have 3 members)",
    today: "~9 ms each, 290 documents/s",
    anchor: "bare joinGroup 6 ms",
    target: "<= 1.5 ms each, >= 2,000 documents/s",
    matches: (r, c) => r.scenario === "many-groups-join" || (r.scenario === "many-groups" && c.unit === "documents/s"),
    met: (r, c) => (r.scenario === "many-groups-join" ? median(c) <= 1.5 : c.unit === "documents/s" ? extraOf(r, "documentsPerSecondOverall") >= 2000 : undefined),
  },
  {
    figure: "10,000 groups of 3 hydrated and materialised",
    today: "not measured",
    anchor: "",
    target: "peak RSS < 1 GiB",
    matches: (r, c) => r.scenario === "many-groups" && r.n === 10_000 && c.unit === "documents/s",
    met: (r) => extraOf(r, "peakRssBytes") < 2 ** 30,
  },
  {
    figure: "operations materialised: 1,000 groups of 3, 10 operations each, one shuffled stream (issue 10)",
    today: "not measured",
    anchor: "",
    target: "reported: operations/s and peak RSS (no target set)",
    matches: (r) => r.scenario === "materialise-operations",
    met: () => undefined,
  },
  {
    figure: "bulk long-term decrypt via the pool, 1 KiB values",
    today: "0.32x-0.41x raw single thread",
    anchor: "raw node:crypto",
    target: ">= 1.6x",
    matches: (r) => r.scenario === "bulk-long-term" && r.valueBytes === 1024,
    met: (r, c) => ratioOf(r, c) >= 1.6,
  },
  {
    figure: "same, 64 KiB values",
    today: "0.60x-0.63x",
    anchor: "raw node:crypto",
    target: ">= 1.8x",
    matches: (r) => r.scenario === "bulk-long-term" && r.valueBytes === 65536,
    met: (r, c) => ratioOf(r, c) >= 1.8,
  },
  keptReference(1024, "1 KiB values", 1.6),
  keptReference(65536, "64 KiB values", 1.8),
];

/**
 * The target text for a row's candidate, with its verdict ("" when none applies).
 *
 * @example
 * ```ts
 * targetNote(row, row.candidates[0]); // "<= 10 ms: >= 60x bare 1.6.4 (missed)"
 * ```
 */
export function targetNote(row: Row, candidate: Figure): string {
  const t = TARGETS.find((x) => x.matches(row, candidate));
  if (t === undefined) return "";
  const met = t.met(row, candidate);
  return `${t.target}${met === undefined ? "" : met ? " (met)" : " (missed)"}`;
}

