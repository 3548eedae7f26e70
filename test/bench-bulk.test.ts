/**
 * Smoke test of the bulk-decryption benchmark in quick mode (about 4 s here): it runs, every
 * variant decrypted every message to the right length (the benchmark throws otherwise), every
 * case is reported, and its temporary engine folders are gone. No timing is asserted: speed is
 * for bench/, not for tests.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { BENCHMARKS, formatTable, runBenchmarks } from "../bench/run.js";
import { bulkDecryptBenchmark, bulkDecryptDirs } from "../bench/bulk-decrypt.js";

test("the bulk-decrypt benchmark is registered", () => {
  assert.ok(BENCHMARKS.includes(bulkDecryptBenchmark));
});

test("the bulk-decrypt benchmark runs in quick mode, reports every case and cleans up", async () => {
  const [outcome] = await runBenchmarks([bulkDecryptBenchmark], { quick: true, log: () => {} });
  assert.ok(outcome);
  assert.equal(outcome.error, undefined, outcome.error);
  // library: 5 rows at each of 3 sizes; engine: 1 group, 2 groups, sender-ratchet x 2, sender-ratchet parts
  assert.equal(outcome.rows.length, 17);
  for (const row of outcome.rows) {
    for (const m of [row.baseline, ...row.candidates]) assert.ok(Number.isFinite(m.ms) && m.ms >= 0, `${row.case}: ${m.label}`);
    assert.ok(row.baseline.ms > 0, row.case);
  }
  const cases = outcome.rows.map((r) => r.case);
  for (const size of [16, 1024, 65536]) assert.ok(cases.some((c) => c.includes(`x ${size} B: our framing vs raw`)), `size ${size}`);
  const labels = outcome.rows.flatMap((r) => [r.baseline.label, ...r.candidates.map((c) => c.label)]);
  for (const name of ["raw node:crypto", "raw noble gcm", "openLongTerm node", "openLongTerm noble", "decrypt(state, msg)", "engine threads 1", "engine threads 2", "raw ts-mls processMessage"]) {
    assert.ok(labels.some((l) => l.startsWith(`${name}:`)), name);
  }
  assert.match(formatTable([outcome]), /sender-ratchet/);
  const dirs = bulkDecryptDirs();
  assert.equal(dirs.length, 3); // owner engine and the two member engines
  for (const dir of dirs) assert.equal(existsSync(dir), false, `${dir} left behind`);
});
