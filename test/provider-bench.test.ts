/**
 * Smoke test of `npm run bench` in quick mode (about 2 s here): every registered
 * benchmark runs without error and yields a table. No timing is asserted: speed is for
 * bench/, not for tests.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BENCHMARKS, formatTable, runBenchmarks } from "../bench/run.js";
import { providerBenchmark } from "../bench/provider.bench.js";

test("the provider benchmark is registered", () => {
  assert.ok(BENCHMARKS.includes(providerBenchmark));
});

test("the provider benchmark runs in quick mode and reports both providers for every case", async () => {
  const [outcome] = await runBenchmarks([providerBenchmark], { quick: true, log: () => {} });
  assert.ok(outcome);
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.rows.length, 28); // 7 cases x 2 sizes x (wall, CPU)
  for (const row of outcome.rows) {
    assert.equal(row.baseline.label, "default");
    assert.equal(row.candidates[0]?.label, "node");
    assert.ok(row.baseline.ms > 0 && row.candidates[0]!.ms > 0);
  }
  assert.match(formatTable([outcome]), /receiver processes update commit/);
});
