/**
 * The pool worker's per-value cost against the raw loop's, in ONE thread:
 * `node dist/bench/bulkWorkerDev.js [suites] [sizes] [rounds]` (suites: 128,256,chacha; sizes in
 * bytes). Per round, 4 chunks of 500 long-term values, packed as the engine packs them, go through
 * the worker's task function (`runOpenLongTerm`, called directly: no thread, no message) and, on
 * the same thread and interleaved round by round, 2,000 values through bench/bulk.ts's raw
 * single-thread node:crypto loop. Both sides share the thread, its helpers and the machine's
 * load, so their ratio (median of per-round ratios) holds on a loaded machine where bulkDev's
 * cross-thread figures swing 2x: it is what a pool worker spends per value over what the raw
 * loop spends, the number that bounds the engine at 2 / (this + main + helpers) on two cores.
 * BULK_WORKER_BASE=distA also runs another build's task function (a folder inside the worktree),
 * for an A/B of worker changes. CPU is the process's (user + system, helpers included).
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { Piscina } from "piscina";
import { LongTermCiphersuite, type LongTermCiphersuiteName } from "../src/constants.js";
import { decryptItem } from "../src/engine/decrypt.js";
import type { TaskResult } from "../src/engine/pool.js";
import { runOpenLongTerm } from "../src/engine/worker/longTerm.js";
import { packChunk } from "../src/engine/poolDecrypt.js";
import { zeroShared } from "../src/engine/poolSlots.js";
import type { OpenLongTermOut, OpenLongTermTask } from "../src/engine/worker/longTerm.js";
import { createGroup } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { sealLongTerm } from "../src/lts/encrypt.js";
import { encodeSecretGroupMessage } from "../src/message.js";
import { longTermSides, SIDE } from "./bulk.js";
import type { EngineNode } from "./fixtures.js";
import { summarise } from "./stats.js";

const SHORT: Record<string, LongTermCiphersuiteName> = { "128": "PANDA10_AES128GCM", "256": "PANDA10_AES256GCM", chacha: "PANDA10_CHACHA20POLY1305" };
const [suitesArg = "128,256,chacha", sizesArg = "1024", roundsArg = "60"] = process.argv.slice(2);
const CHUNK = 500;
/** Chunks per round (and the raw loop's values: as many), so a round outlasts a young-generation collection's jitter. */
const PER_ROUND = 4;
type Run = (task: OpenLongTermTask) => unknown;

const median = (xs: readonly number[]): number => summarise(xs).median;
const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** A chunk's task as the engine packs it (src/engine/poolDecrypt.ts packChunk), and how to run it again on the buffer that came back. */
function chunkTask(suite: LongTermCiphersuiteName, groupId: Uint8Array, secret: { epoch: bigint; ciphersuite: LongTermCiphersuiteName; value: Uint8Array }, size: number): (run: Run) => number {
  const plaintext = new Uint8Array(randomBytes(size));
  const items = Array.from({ length: CHUNK }, () => decryptItem(encodeSecretGroupMessage({ type: "long-term", ciphertext: sealLongTerm({ ...secret, groupId } as never, new Uint8Array(randomBytes(12)), plaintext) }), undefined));
  const which = items.map((_, k) => k);
  const packedChunk = packChunk(items, which, which.map(() => 0), (size) => new ArrayBuffer(size));
  const { layout } = packedChunk;
  let { data } = packedChunk;
  const keys = [{ epoch: secret.epoch, ciphersuite: suite, value: secret.value }];
  // where the worker writes small plaintexts (src/engine/poolSlots.ts; zeroed after each run, as the engine does)
  const output = new Uint8Array(new SharedArrayBuffer(CHUNK * size));
  return (run) => {
    const returned = run({ op: "openLongTerm", key: `dev:${suite}`, groupId, epochs: [secret.epoch], keys, data, output: output.buffer as SharedArrayBuffer, layout }) as Record<symbol, unknown>;
    const result = returned[Piscina.valueSymbol] as TaskResult<OpenLongTermOut>;
    if (!result.ok || result.value.miss === true || result.value.failures.length > 0) throw new Error("the chunk did not open");
    data = result.value.data;
    // a build before the shared output slot answered with output segments (`written` per segment)
    const written = result.value.written as number | number[];
    const small = typeof written === "number" ? written : written.reduce((a, b) => a + b, 0);
    zeroShared(output, small);
    return small + result.value.large.length * size;
  };
}

const base = process.env.BULK_WORKER_BASE;
const other = base === undefined ? undefined : ((await import(new URL(`../../${base}/src/engine/worker/longTerm.js`, import.meta.url).href)) as { runOpenLongTerm: Run }).runOpenLongTerm;
for (const suite of suitesArg.split(",").map((s) => SHORT[s] ?? (s as LongTermCiphersuiteName))) {
  if (!(suite in LongTermCiphersuite)) throw new Error(`unknown suite ${suite}`);
  const state = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(randomBytes(32)), ciphersuite: suite });
  const secret = state.secrets.at(-1)!;
  for (const size of sizesArg.split(",").map(Number)) {
    // the raw side only: longTermSides' engine side is never run here
    const raw = longTermSides(suite, {} as EngineNode, state, size, CHUNK * PER_ROUND).sides[SIDE.raw]!;
    const chunk = chunkTask(suite, state.groupId, secret, size);
    const chunks = (run: Run): number => {
      let bytes = 0;
      for (let c = 0; c < PER_ROUND; c++) bytes += chunk(run);
      return bytes;
    };
    const sides: Array<[string, () => Promise<unknown>]> = [
      ["raw", () => raw.run()],
      ["worker", async () => chunks(runOpenLongTerm)],
      ...(other === undefined ? [] : [[`worker ${base}`, async () => chunks(other)] as [string, () => Promise<unknown>]]),
    ];
    const us: number[][] = sides.map(() => []);
    const rounds = Number(roundsArg);
    for (let round = 0; round < 4 + rounds; round++) {
      for (let k = 0; k < sides.length; k++) {
        const i = (k + round) % sides.length;
        const c0 = cpuUs();
        await sides[i]![1]();
        if (round >= 4) us[i]!.push((cpuUs() - c0) / (CHUNK * PER_ROUND));
      }
    }
    const ratio = (i: number): string => median(us[i]!.map((x, r) => x / us[0]![r]!)).toFixed(3);
    process.stdout.write(`${suite.padEnd(25)} ${String(size).padStart(6)} B: raw ${median(us[0]!).toFixed(2)} us/value; ${sides.slice(1).map(([label], j) => `${label} ${median(us[j + 1]!).toFixed(2)} us = ${ratio(j + 1)}x raw`).join("; ")} (per-round medians, n=${rounds})\n`);
  }
}
