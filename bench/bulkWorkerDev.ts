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
 * BULK_WORKER_BASE=distA also runs another build's task function (a folder inside the worktree,
 * of the same task format: segments, session 10), for an A/B of worker changes. CPU is the process's (user + system, helpers included).
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { Piscina } from "piscina";
import { LongTermCiphersuite, type LongTermCiphersuiteName } from "../src/constants.js";
import { decryptItem } from "../src/engine/decrypt.js";
import type { TaskResult } from "../src/engine/pool.js";
import { runOpenLongTerm } from "../src/engine/worker/longTerm.js";
import { packChunk } from "../src/engine/packBuffers.js";
import { nativeAead } from "../src/nativeAead.js";
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

/**
 * A chunk's task as the engine packs it (src/engine/poolDecrypt.ts packChunk), and how to run it:
 * the worker writes the plaintexts over the packed messages, so each run packs them again first,
 * outside the CPU time it returns (the worker's alone).
 */
function chunkTask(suite: LongTermCiphersuiteName, groupId: Uint8Array, secret: { epoch: bigint; ciphersuite: LongTermCiphersuiteName; value: Uint8Array }, size: number): (run: Run) => { bytes: number; us: number } {
  const plaintext = new Uint8Array(randomBytes(size));
  const items = Array.from({ length: CHUNK }, () => decryptItem(encodeSecretGroupMessage({ type: "long-term", ciphertext: sealLongTerm({ ...secret, groupId } as never, new Uint8Array(randomBytes(12)), plaintext) }), undefined));
  const which = items.map((_, k) => k);
  const epochIndex = which.map(() => 0);
  const keys = [{ epoch: secret.epoch, ciphersuite: suite, value: secret.value }];
  return (run) => {
    const { segments, ends, layout } = packChunk(items, which, epochIndex, (n) => new ArrayBuffer(n), nativeAead !== undefined);
    const c0 = cpuUs();
    const returned = run({ op: "openLongTerm", key: `dev:${suite}`, groupId, epochs: [secret.epoch], keys, segments, ends, layout }) as Record<symbol, unknown>;
    const us = cpuUs() - c0;
    const result = returned[Piscina.valueSymbol] as TaskResult<OpenLongTermOut>;
    if (!result.ok || result.value.miss === true || result.value.failures.length > 0) throw new Error("the chunk did not open");
    return { bytes: CHUNK * size, us }; // every value opened (no failure)
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
    // CPU microseconds of a side's round: the worker's task function alone (not the packing)
    const chunks = (run: Run): number => {
      let us = 0;
      for (let c = 0; c < PER_ROUND; c++) us += chunk(run).us;
      return us;
    };
    const sides: Array<[string, () => Promise<number>]> = [
      [
        "raw",
        async () => {
          const c0 = cpuUs();
          await raw.run();
          return cpuUs() - c0;
        },
      ],
      ["worker", async () => chunks(runOpenLongTerm)],
      ...(other === undefined ? [] : [[`worker ${base}`, async () => chunks(other)] as [string, () => Promise<number>]]),
    ];
    const us: number[][] = sides.map(() => []);
    const rounds = Number(roundsArg);
    for (let round = 0; round < 4 + rounds; round++) {
      for (let k = 0; k < sides.length; k++) {
        const i = (k + round) % sides.length;
        const spent = await sides[i]![1]();
        if (round >= 4) us[i]!.push(spent / (CHUNK * PER_ROUND));
      }
    }
    const ratio = (i: number): string => median(us[i]!.map((x, r) => x / us[0]![r]!)).toFixed(3);
    process.stdout.write(`${suite.padEnd(25)} ${String(size).padStart(6)} B: raw ${median(us[0]!).toFixed(2)} us/value; ${sides.slice(1).map(([label], j) => `${label} ${median(us[j + 1]!).toFixed(2)} us = ${ratio(j + 1)}x raw`).join("; ")} (per-round medians, n=${rounds})\n`);
  }
}
