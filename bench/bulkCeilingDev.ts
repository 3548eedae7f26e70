/**
 * How far two threads can take bulk long-term decryption at all on this machine, whatever the
 * engine does: the issue-11 bulk rows' ceiling. Bare loops on node:crypto as in the suite's raw
 * loop (bench/bulk.ts), and on the addon for `in place`, on values of one size and long-term
 * ciphersuite:
 *
 * - `raw`: the suite's baseline, one thread, one decipher per value, plaintexts dropped;
 * - `held`: the main thread opens the tail `--split` of the values while one worker thread opens
 *   the rest from ciphertexts it was handed before the clock started (no byte crosses threads on
 *   the way in: an impossible best case for an engine whose caller holds the messages), each
 *   plaintext a fresh buffer moved to the main thread, as a caller receives them;
 * - `copied`: the same, but the main thread copies each of the worker's ciphertexts into a
 *   buffer it moves there (the least an engine must do: the caller's bytes are not ours to move);
 * - `in place` (where the addon is built): the engine's own design without the engine: both
 *   threads open with the addon (src/nativeAead.ts), the main thread into fresh buffers, the
 *   worker over each moved copy, which comes back as the plaintext's buffer;
 * - `engine` (with `--engine`): `engine.decrypt` as the suite's bulk row runs it (bench/bulk.ts,
 *   its own values of the same size, on its group's key), in this same process.
 *
 * Sides alternate round by round in one process (`--rounds`, after 2 discarded), medians and the
 * ratio of raw over each printed, with each side's CPU a value by thread class (bench/threads.ts:
 * main, the worker, V8's platform threads: GC). `held` over `raw` bounds any two-thread design
 * from above. The worker answers in batches of 50 values (`held`) or of `--batch` (the others).
 *
 *   node dist/bench/bulkCeilingDev.js [--size 65536] [--values 2000] [--split 0.5] [--batch 50] [--rounds 15] [--suite 128|256|chacha] [--engine]
 *
 * @module
 */
import { threadCpuMs, type ThreadClass } from "./threads.js";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { PerformanceObserver } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import type { CipherGCMTypes } from "node:crypto";
import { LTS_KEY_SIZE, type LongTermCiphersuiteName } from "../src/constants.js";
import { NODE_ALGORITHM } from "../src/lts/aead.js";
import { nativeAead, suiteId } from "../src/nativeAead.js";
import { summarise } from "./stats.js";
import { longTermSides, SIDE } from "./bulk.js";
import { benchPool, EngineNode, ingestApplied, libraryGroup } from "./fixtures.js";
import type { CeilingInput, CeilingReply, CeilingTask } from "./bulkCeilingWorker.js";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const size = arg("--size", 65536);
const values = arg("--values", size > 4096 ? 2000 : 20000);
const split = arg("--split", 0.5);
const batch = arg("--batch", size > 4096 ? 50 : 500);
const rounds = arg("--rounds", 15);

const SUITES: Record<string, LongTermCiphersuiteName> = { "128": "PANDA10_AES128GCM", "256": "PANDA10_AES256GCM", chacha: "PANDA10_CHACHA20POLY1305" };
const suiteArg = process.argv.indexOf("--suite");
const suite = SUITES[suiteArg >= 0 ? (process.argv[suiteArg + 1] as string) : "128"] ?? "PANDA10_AES128GCM";
const algorithm = NODE_ALGORITHM[suite] as CipherGCMTypes;
const withEngine = process.argv.includes("--engine");
const pool = withEngine ? benchPool() : undefined;
const node = pool === undefined ? undefined : await EngineNode.open(pool);
const group = node === undefined ? undefined : await libraryGroup(3, [await node.keyPackage()], suite);
if (node !== undefined && group !== undefined) await ingestApplied(node.engine, [group.groupDoc.bytes, group.head.bytes]);
const engineSide = node === undefined || group === undefined ? undefined : longTermSides(suite, node, group.state, size, values).sides[SIDE.engine];
// the engine's group key and id where it runs (the same AEAD inputs' shapes), else random ones
const key = group === undefined ? new Uint8Array(randomBytes(LTS_KEY_SIZE[suite])) : (group.state.secrets.at(-1)?.value as Uint8Array);
const aad = group === undefined ? new Uint8Array(randomBytes(32)) : group.state.groupId;
const plaintext = randomBytes(size);
const nonces: Uint8Array[] = [];
const bodies: Uint8Array[] = [];
const tags: Uint8Array[] = [];
for (let i = 0; i < values; i++) {
  const nonce = new Uint8Array(randomBytes(12));
  const c = createCipheriv(algorithm, key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  bodies.push(new Uint8Array(Buffer.concat([c.update(plaintext), c.final()])));
  tags.push(new Uint8Array(c.getAuthTag()));
  nonces.push(nonce);
}
// ciphertext || tag of each value, as a message holds it (the addon's sides open from these)
const sealed = bodies.map((body, i) => {
  const out = new Uint8Array(body.length + 16);
  out.set(body);
  out.set(tags[i] as Uint8Array, body.length);
  return out;
});
const openNative = (i: number): Uint8Array => {
  const from = sealed[i] as Uint8Array;
  const out = new Uint8Array(Buffer.allocUnsafeSlow(from.length - 16).buffer);
  if (!nativeAead?.open(suiteId(suite), key, nonces[i] as Uint8Array, from, 0, from.length, aad, out, 0)) throw new Error("the addon refused a value");
  return out;
};
const open = (i: number): Buffer => {
  const d = createDecipheriv(algorithm, key, nonces[i] as Uint8Array, { authTagLength: 16 });
  d.setAuthTag(tags[i] as Uint8Array);
  d.setAAD(aad);
  const body = d.update(bodies[i] as Uint8Array);
  d.final();
  return body;
};

// the worker's share is the head [0, cut), the main thread's the tail
const cut = Math.floor(values * (1 - split));
const input: CeilingInput = { algorithm, suite: suiteId(suite), key, aad, nonces: nonces.slice(0, cut), tags: tags.slice(0, cut), bodies: bodies.slice(0, cut) };
const worker = new Worker(new URL("./bulkCeilingWorker.js", import.meta.url), { workerData: input });
await new Promise((resolve) => worker.once("message", resolve));

function raw(): number {
  let bytes = 0;
  for (let i = 0; i < values; i++) bytes += open(i).length;
  return bytes;
}

type Mode = "held" | "copied" | "inPlace";

function twoThreads(mode: Mode): Promise<number> {
  return new Promise((resolve) => {
    const out: Uint8Array[] = new Array(values);
    let received = 0;
    let mainDone = false;
    const finish = (): void => {
      if (received < cut || !mainDone) return;
      worker.off("message", onReply);
      let bytes = 0;
      for (const p of out) bytes += p.length;
      resolve(bytes);
    };
    const onReply = ({ from, plaintexts, tagged }: CeilingReply): void => {
      for (let k = 0; k < plaintexts.length; k++) {
        const buffer = plaintexts[k] as ArrayBuffer;
        out[from + k] = new Uint8Array(buffer, 0, buffer.byteLength - (tagged === true ? 16 : 0));
      }
      received += plaintexts.length;
      finish();
    };
    worker.on("message", onReply);
    if (mode === "held") worker.postMessage({ kind: "held" } satisfies CeilingTask);
    else {
      const inPlace = mode === "inPlace";
      for (let from = 0; from < cut; from += batch) {
        const ciphertexts: ArrayBuffer[] = [];
        for (let i = from; i < Math.min(cut, from + batch); i++) ciphertexts.push(((inPlace ? sealed : bodies)[i] as Uint8Array).slice().buffer);
        worker.postMessage({ kind: "copied", from, ciphertexts, inPlace } satisfies CeilingTask, ciphertexts);
      }
    }
    // the main thread's share in slices, a turn of the event loop between them (the replies land)
    void (async () => {
      for (let i = cut; i < values; i++) {
        out[i] = mode === "inPlace" ? openNative(i) : open(i);
        if ((i - cut) % batch === batch - 1) await new Promise((r) => setImmediate(r));
      }
      mainDone = true;
      finish();
    })();
  });
}

const sides: Array<[string, () => number | Promise<number>]> = [
  ["raw", raw],
  ["held", () => twoThreads("held")],
  ["copied", () => twoThreads("copied")],
  ...(nativeAead === undefined ? [] : [["in place", () => twoThreads("inPlace")] as [string, () => Promise<number>]]),
  ...(engineSide === undefined ? [] : [["engine", async () => (await engineSide.run(), values * size)] as [string, () => Promise<number>]]),
];
// the main thread's collections (perf_hooks "gc" entries), counted per side after the fact
const collections: Array<{ start: number; major: boolean }> = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) collections.push({ start: e.startTime, major: (e as unknown as { detail?: { kind?: number } }).detail?.kind === 4 });
});
gcObserver.observe({ entryTypes: ["gc"] });
const spans = new Map<string, Array<[number, number]>>(sides.map(([name]) => [name, []]));
const samples = new Map<string, number[]>(sides.map(([name]) => [name, []]));
const CLASSES: ThreadClass[] = ["main", "workers", "v8"];
const cpu = new Map<string, Record<ThreadClass, number[]>>(sides.map(([name]) => [name, { main: [], workers: [], v8: [], libuv: [] }]));
for (let round = 0; round < rounds + 2; round++) {
  for (let k = 0; k < sides.length; k++) {
    const [name, run] = sides[(k + round) % sides.length] as [string, () => number | Promise<number>];
    const c0 = threadCpuMs();
    const t0 = performance.now();
    const bytes = await run();
    const ms = performance.now() - t0;
    const c1 = threadCpuMs();
    if (bytes !== values * size) throw new Error(`${name} opened ${bytes} bytes, expected ${values * size}`);
    if (round < 2) continue;
    samples.get(name)?.push(ms);
    spans.get(name)?.push([t0, t0 + ms]);
    for (const cls of CLASSES) cpu.get(name)?.[cls].push(c1[cls] - c0[cls]);
  }
}
const median = (name: string): number => summarise(samples.get(name) ?? []).median;
const rawMs = median("raw");
console.log(
  `${suite} ${size} B x${values}, split ${split}: raw ${rawMs.toFixed(1)} ms (${((rawMs * 1000) / values).toFixed(2)} us a value); ` +
    sides
      .slice(1)
      .map(([name]) => `${name} ${median(name).toFixed(1)} ms = ${(rawMs / median(name)).toFixed(2)}x`)
      .join("; ") +
    ` (n=${rounds})`,
);
await new Promise((resolve) => setImmediate(resolve)); // the observer's last entries
gcObserver.disconnect();
const perValue = (ms: number): string => ((ms * 1000) / values).toFixed(1);
for (const [name] of sides) {
  const by = cpu.get(name) as Record<ThreadClass, number[]>;
  const major = (spans.get(name) ?? []).map(([a, b]) => collections.filter((c) => c.major && c.start >= a && c.start < b).length);
  console.log(`  ${name}: CPU us a value ${CLASSES.map((cls) => `${cls} ${perValue(summarise(by[cls]).median)}`).join(", ")}; main-thread full collections a round ${summarise(major).median}`);
}
await worker.terminate();
await node?.engine.close();
await pool?.destroy();
