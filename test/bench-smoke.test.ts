/**
 * Smoke test of the benchmark suite at tiny sizes (the same runner as `npm run bench`): every
 * scenario runs and produces each of its rows, every figure is a positive finite time with its
 * spread (bulk values span three batches, two in flight), the results file is written with the machine and dependency versions, and the
 * tables print issue 11's targets, and the report's charts render to SVG. No timing is asserted: speed is for bench/, not for tests.
 * Also: `secret-group bench` outside a repository checkout says how to run the suite.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { parseConfig, runSuite, SCENARIOS } from "../bench/run.js";
import { formatTable, formatTargets } from "../bench/table.js";
import { TARGETS } from "../bench/targets.js";
import { joinRoundsFor, receiverRoundsFor, widenedRoundsFor, roundsFor } from "../bench/types.js";
import { renderSvg, rssVsGroups, throughputBars, timeVsN } from "../bench/charts.js";
import type { BenchResults } from "../bench/results.js";

const TINY = ["--quick", "--sizes", "6", "--values", "2100", "--sr-values", "20", "--groups", "3", "--iterations", "2", "--warmup", "1"];

test("the suite refuses an unknown option instead of running the default sizes", () => {
  assert.throws(() => parseConfig(["--ful"]), /unknown option --ful/);
});

test("the receiver rows of a quick run take 16 + 12 rounds at 101-1000 members, the join row 12 warm-up rounds up to 1000, and an explicit --warmup/--iterations wins", () => {
  const quick = parseConfig(["--quick"]);
  assert.deepEqual(widenedRoundsFor(quick, 1000), { warmup: 2, iterations: 6 });
  assert.deepEqual(roundsFor(quick, 1000), { warmup: 1, iterations: 2 });
  assert.deepEqual(widenedRoundsFor(quick, 100), roundsFor(quick, 100));
  assert.deepEqual(widenedRoundsFor(quick, 5000), roundsFor(quick, 5000));
  assert.deepEqual(widenedRoundsFor(parseConfig(["--full"]), 1000), roundsFor(parseConfig(["--full"]), 1000));
  assert.deepEqual(widenedRoundsFor(parseConfig(["--quick", "--iterations", "2", "--warmup", "1"]), 1000), { warmup: 1, iterations: 2 });
  assert.deepEqual(receiverRoundsFor(quick, 1000), { warmup: 16, iterations: 12 });
  assert.deepEqual(receiverRoundsFor(quick, 100), roundsFor(quick, 100));
  assert.deepEqual(receiverRoundsFor(quick, 5000), roundsFor(quick, 5000));
  assert.deepEqual(receiverRoundsFor(parseConfig(["--full"]), 1000), { warmup: 16, iterations: 12 });
  assert.deepEqual(receiverRoundsFor(parseConfig(["--quick", "--warmup", "2"]), 1000), { warmup: 2, iterations: 12 });
  assert.deepEqual(receiverRoundsFor(parseConfig(["--quick", "--iterations", "4"]), 1000), { warmup: 16, iterations: 4 });
  assert.deepEqual(joinRoundsFor(quick, 1000), { warmup: 12, iterations: 6 });
  assert.deepEqual(joinRoundsFor(quick, 100), { ...roundsFor(quick, 100), warmup: 12 });
  assert.deepEqual(joinRoundsFor(parseConfig(["--full"]), 1000), { ...roundsFor(parseConfig(["--full"]), 1000), warmup: 12 });
  assert.deepEqual(joinRoundsFor(quick, 5000), roundsFor(quick, 5000));
  assert.deepEqual(joinRoundsFor(parseConfig(["--quick", "--warmup", "0"]), 1000), { warmup: 0, iterations: 6 });
});

test("the suite runs every scenario at tiny sizes and records every row with its spread", async () => {
  const out = await mkdtemp(join(tmpdir(), "sg-bench-results-"));
  try {
    const { results, file } = await runSuite(parseConfig(TINY), { out, quiet: true });
    assert.deepEqual(results.errors, []);
    assert.equal(results.complete, true);
    const produced = new Set(results.rows.map((r) => r.scenario));
    for (const s of SCENARIOS.filter((x) => x.name !== "membership-large")) {
      for (const name of s.produces) assert.ok(produced.has(name), `${s.name} produced no ${name} row`);
    }
    for (const row of results.rows) {
      for (const f of [...(row.baseline === undefined ? [] : [row.baseline]), ...row.candidates]) {
        assert.ok(Number.isFinite(f.spread.median) && f.spread.median > 0, `${row.case}: ${f.label} median ${f.spread.median}`);
        assert.ok(f.spread.n >= 1 && f.spread.min <= f.spread.median && f.spread.median <= f.spread.p95 && f.spread.p95 <= f.spread.max, `${row.case}: ${f.label} spread`);
      }
      if (row.scenario !== "many-groups" && row.scenario !== "materialise-operations") assert.ok(row.baseline !== undefined, `${row.case} has no baseline`);
    }
    // membership rows: bare ts-mls baseline, library and engine (warm and cold where there is a state)
    const receiver = results.rows.find((r) => r.scenario === "receiver-update");
    assert.deepEqual(receiver?.candidates.map((c) => c.label), ["library (src/group)", "engine warm (state in worker)", "engine cold (state from store)"]);
    // bulk: each case has both node:crypto baselines beside the same engine figure
    for (const row of results.rows.filter((r) => r.scenario === "bulk-long-term")) {
      const kept = results.rows.find((r) => r.scenario === "bulk-long-term-kept" && r.case === row.case && r.valueBytes === row.valueBytes);
      assert.equal(kept?.baseline?.label, "raw node:crypto, 1 thread, plaintexts kept per batch", row.case);
      assert.equal(kept?.candidates[0], row.candidates[0], `${row.case}: the kept row compares the same engine figure`);
    }
    const many = results.rows.find((r) => r.scenario === "many-groups");
    for (const key of ["peakRssBytes", "diskBytesPerGroup", "heapBytesPerHydratedActor", "documentsPerSecondOverall", "operationsPerSecondOverall"]) {
      assert.ok(Number.isFinite(many?.extra?.[key]), key);
    }
    assert.equal(many?.extra?.["hydratedActors"], 3);
    const ops = results.rows.find((r) => r.scenario === "materialise-operations");
    for (const key of ["peakRssBytes", "operationsPerSecondOverall", "documentsPerSecondOverall"]) assert.ok(Number.isFinite(ops?.extra?.[key]), key);
    assert.equal(ops?.extra?.["operations"], 30);

    const saved = JSON.parse(await readFile(file, "utf8")) as BenchResults;
    assert.equal(saved.rows.length, results.rows.length);
    assert.ok(saved.machine.cpus > 0 && saved.machine.loadAverageAtStart.length === 3 && saved.machine.loadAverageAtEnd?.length === 3);
    assert.equal(saved.dependencies["ts-mls"], "1.6.4");
    assert.match(saved.dependencies["tinybench"] ?? "", /^6\./);

    const table = formatTable(results.rows);
    assert.match(table, />= 1\.6x/, "the 1 KiB bulk target is printed beside its ratio");
    const targets = formatTargets(results.rows);
    for (const t of TARGETS) assert.ok(targets.includes(t.figure.slice(0, 30)), t.figure);

    // the report's charts render without a browser and carry the sides' labels
    const receiverSvg = await renderSvg(timeVsN("receiver", results.rows.filter((r) => r.scenario === "receiver-update")));
    assert.match(receiverSvg, /^<svg[\s\S]*ts-mls 1\.6\.4 default provider[\s\S]*engine cold/);
    assert.match(await renderSvg(throughputBars("bulk", results.rows.filter((r) => r.scenario === "bulk-long-term"))), /raw node:crypto, 1 thread/);
    assert.match(await renderSvg(rssVsGroups(results.rows.filter((r) => r.scenario === "many-groups"))), /peak RSS/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test("`secret-group bench` outside a checkout (no bench/) says how to run the suite", async () => {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const dir = await mkdtemp(join(tmpdir(), "sg-bench-cli-"));
  try {
    for (const d of ["src", "machines", "workers"]) await cp(join(root, "dist", d), join(dir, "dist", d), { recursive: true });
    await cp(join(root, "package.json"), join(dir, "package.json"));
    await symlink(join(root, "node_modules"), join(dir, "node_modules"), "dir");
    const run = promisify(execFile)(process.execPath, [join(dir, "dist", "src", "cli", "main.js"), "bench", "--full"]);
    await assert.rejects(run, (e: { code?: number; stderr?: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr ?? "", /not part of the published package.*npm run bench/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
