/**
 * Dev script for the memory lane: one engine ingests the many-groups fixture (G groups of 3,
 * bench/manyGroupsFixture.ts, built once in a child process and kept) chunk by chunk on a fresh
 * copy of its database, then decrypts each group's operation, and reports the process's peak
 * RSS and the memory breakdown (bench/memory.ts). Run one size per process (RSS is never given
 * back in full), e.g. 1000, 5000 and 10,000 for the slope per group; run two builds alternately
 * on the same fixture to compare.
 *
 *   node dist/bench/memDev.js --groups 1000 [--fixture /tmp/mem6-fixture-1000] [--actor-bytes N] [--cache-bytes N] [--snapshot]
 *
 * `--snapshot` writes a main-thread heap snapshot at the end (after the memory figures' GC).
 *
 * @module
 */
import { cp, mkdtemp, rm, stat } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { benchPool } from "./fixtures.js";
import { buildManyGroupsFixture, openManyGroupsFixture } from "./manyGroupsFixture.js";
import { memoryBreakdown, rssSampler } from "./memory.js";

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] as string) : fallback;
};
const groups = Number(arg("--groups", "1000"));
const dir = arg("--fixture", `/tmp/mem6-fixture-${groups}`);
const actorBytes = Number(arg("--actor-bytes", String(Number.MAX_SAFE_INTEGER)));
const cacheBytes = arg("--cache-bytes", "");

const fixture = (await stat(join(dir, "fixture.json")).catch(() => undefined)) ? await openManyGroupsFixture(dir) : await buildManyGroupsFixture(dir, groups, 40);
const path = await mkdtemp(join(tmpdir(), "mem6-dev-"));
await cp(fixture.db, path, { recursive: true });
const pool = benchPool();
const engine = await SecretGroupEngine.open({
  path,
  identity: fixture.identity,
  pool,
  liveActors: groups,
  liveActorBytes: actorBytes,
  ...(cacheBytes === "" ? {} : { workerCacheBytes: Number(cacheBytes) }),
});
try {
  const before = await memoryBreakdown(pool);
  const sampler = rssSampler();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < fixture.chunks; i++) await engine.ingest(await fixture.stream(i));
  const ingestMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  let unread = 0;
  for (let i = 0; i < fixture.operationChunks; i++) for (const r of await Promise.all((await fixture.operations(i)).map((d) => engine.decryptFields(d)))) unread += Object.keys(r.errors).length;
  const peak = sampler.stop();
  const after = await memoryBreakdown(pool);
  const joined = (await engine.groups()).filter((g) => g.status === "member").length;
  if (joined !== groups || unread > 0) throw new Error(`joined ${joined} of ${groups}, ${unread} unread`);
  if (process.argv.includes("--snapshot")) console.error(`heap snapshot: ${writeHeapSnapshot(join(tmpdir(), `mem6-${groups}-${Date.now()}.heapsnapshot`))}`);
  const mib = (x: number): number => +(x / 2 ** 20).toFixed(1);
  console.log(
    JSON.stringify({
      groups,
      peakRssMiB: mib(peak),
      rssBeforeMiB: mib(before.rssBytes!),
      peakKiBPerGroup: +((peak - before.rssBytes!) / groups / 1024).toFixed(2),
      hydrated: engine.stats().liveGroups,
      msPerGroup: +(ingestMs / groups).toFixed(2),
      cpuMsPerGroup: +((cpu.user + cpu.system) / 1000 / groups).toFixed(2),
      before: Object.fromEntries(Object.entries(before).map(([k, v]) => [k, k.endsWith("Bytes") ? mib(v) : v])),
      after: Object.fromEntries(Object.entries(after).map(([k, v]) => [k, k.endsWith("Bytes") ? mib(v) : v])),
      load: loadavg().map((x) => +x.toFixed(1)),
    }),
  );
} finally {
  await engine.close();
  await pool.destroy();
  await rm(path, { recursive: true, force: true });
}
