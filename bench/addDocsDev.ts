/**
 * Dev script (not part of the suite): the owner worker's add from key package documents
 * (src/engine/worker/addDocuments.ts) run on this thread, with the packages' signature checks
 * started while the documents are read (as the engine does) and without (ts-mls starts them once
 * it validates the commit), alternated; wall time and CPU per thread class.
 * `node dist/bench/addDocsDev.js [n] [iterations]`
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { createGroup } from "../src/group/index.js";
import { addMembersInspected } from "../src/group/commit.js";
import { generateIdentity } from "../src/identity.js";
import { addFromDocuments, readKeyPackageDocuments } from "../src/engine/worker/addDocuments.js";
import type { DecodedKeyPackage } from "../src/mls/keyPackage.js";
import { LT_SUITE, members } from "./fixtures.js";
import { summarise } from "./stats.js";
import { threadCpuMs, type ThreadClass } from "./threads.js";

const [nArg = "1000", itArg = "10"] = process.argv.slice(2);
const n = Number(nArg);
const iterations = Number(itArg);
const median = (xs: readonly number[]): number => summarise(xs).median;

/** addFromDocuments without the early package checks. */
async function withoutPreverify(state: Awaited<ReturnType<typeof createGroup>>, documents: readonly Uint8Array[]): Promise<unknown> {
  const read = readKeyPackageDocuments(documents);
  const added = await addMembersInspected(state, read.keyPackages, {}, (_b, i) => read.decoded[i] as DecodedKeyPackage);
  await read.verified;
  return added;
}

const sides = [
  { label: "checks started by ts-mls", run: withoutPreverify },
  { label: "checks started while reading", run: addFromDocuments },
];
const results = sides.map(() => ({ wall: [] as number[], cpu: [] as Record<ThreadClass, number>[] }));
for (let round = 0; round <= iterations; round++) {
  for (let s = 0; s < sides.length; s++) {
    const side = round % 2 === 0 ? s : sides.length - 1 - s; // alternate which goes first
    const docs = (await members(n - 1)).map((m) => m.document);
    const state = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(randomBytes(32)), ciphersuite: LT_SUITE });
    const before = threadCpuMs();
    const t = performance.now();
    await sides[side]!.run(state, docs);
    const wall = performance.now() - t;
    const after = threadCpuMs();
    if (round === 0) continue; // warm-up
    results[side]!.wall.push(wall);
    results[side]!.cpu.push({ main: after.main - before.main, workers: after.workers - before.workers, v8: after.v8 - before.v8, libuv: after.libuv - before.libuv });
  }
}
for (let s = 0; s < sides.length; s++) {
  const r = results[s]!;
  const of = (k: ThreadClass) => median(r.cpu.map((c) => c[k])).toFixed(1);
  console.log(`${sides[s]!.label}: wall median ${median(r.wall).toFixed(1)} ms; CPU this thread ${of("main")} helpers ${of("workers")} libuv ${of("libuv")} v8 ${of("v8")} (n=${r.wall.length})`);
}
const ratios = results[0]!.wall.map((w, i) => w / results[1]!.wall[i]!);
console.log(`without / with per round: median ${median(ratios).toFixed(3)}x ${ratios.map((x) => x.toFixed(2)).join(",")}`);
console.log(`load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
