/**
 * Long-term encryption through the engine at 2 members and at 1000 members, in the same run
 * (issue 9 target: the rate at 1000 within 1.3x of the rate at 2). An owner engine creates one
 * group of each size (filler members are added through key packages made with the library),
 * warms up, then encrypts `count` 1 KiB values one `encrypt` call at a time (as an application
 * does), alternating the two groups by rounds so both see the same machine load. Reports the
 * median and the best round's rate, and the process CPU time per encryption (all threads: on a
 * shared, loaded machine the CPU time is steadier than the wall clock).
 *
 * Run by hand: `node dist/bench/engine-encrypt-scale.js [members] [count] [rounds]`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { keyPackageDocument } from "../src/documents/index.js";
import { SecretGroupEngine } from "../src/engine/engine.js";

async function groupOf(engine: SecretGroupEngine, members: number): Promise<Uint8Array> {
  const { groupId } = await engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
  const gid = groupId as Uint8Array;
  const docs: Uint8Array[] = [];
  for (let i = 0; i < members - 1; i++) {
    const id = generateIdentity();
    docs.push(keyPackageDocument(id, { keyPackage: (await createKeyPackage(id)).keyPackage }).bytes);
  }
  if (docs.length > 0) await engine.addMembers(gid, docs);
  return gid;
}

/**
 * Encryptions per second at `small` and `large` members (medians over rounds).
 *
 * @example
 * ```ts
 * const { small, large } = await measureEncryptScale(2, 1000, 500, 5, console.error)
 * ```
 */
export interface ScaleResult {
  /** Median encryptions per second. */
  readonly median: number;
  /** Best round's encryptions per second. */
  readonly best: number;
  /** Median process CPU microseconds per encryption. */
  readonly cpuUs: number;
}

export async function measureEncryptScale(small: number, large: number, count: number, rounds: number, log: (line: string) => void): Promise<{ small: ScaleResult; large: ScaleResult }> {
  const dir = await mkdtemp(join(tmpdir(), "sg-bench-encrypt-"));
  const engine = await SecretGroupEngine.open({ path: dir, identity: generateIdentity(), threads: 1 });
  try {
    log(`encrypt-scale: groups of ${small} and ${large} members`);
    const groups = [await groupOf(engine, small), await groupOf(engine, large)] as const;
    const plaintext = new Uint8Array(1024).fill(7);
    const rates: [number[], number[]] = [[], []];
    const cpu: [number[], number[]] = [[], []];
    for (let round = 0; round <= rounds; round++) {
      for (const which of round % 2 === 0 ? [0, 1] : [1, 0]) {
        const gid = groups[which as 0 | 1];
        const c = process.cpuUsage();
        const t = performance.now();
        for (let i = 0; i < count; i++) await engine.encrypt(gid, plaintext, { scheme: "long-term" });
        const perSecond = count / ((performance.now() - t) / 1000);
        const used = process.cpuUsage(c);
        if (round > 0) {
          // round 0 warms up
          rates[which as 0 | 1].push(perSecond);
          cpu[which as 0 | 1].push((used.user + used.system) / count);
        }
      }
      if (round > 0) log(`encrypt-scale: round ${round}: ${rates[0].at(-1)?.toFixed(0)}/s (${cpu[0].at(-1)?.toFixed(0)} us cpu) at ${small}, ${rates[1].at(-1)?.toFixed(0)}/s (${cpu[1].at(-1)?.toFixed(0)} us cpu) at ${large}`);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const result = (i: 0 | 1): ScaleResult => ({ median: median(rates[i]), best: Math.max(...rates[i]), cpuUs: median(cpu[i]) });
    return { small: result(0), large: result(1) };
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const large = Number(process.argv[2] ?? 1000);
  const count = Number(process.argv[3] ?? 100);
  const rounds = Number(process.argv[4] ?? 20);
  const r = await measureEncryptScale(2, large, count, rounds, (l) => process.stderr.write(`${l}\n`));
  const line = (what: string, a: number, b: number, unit: string): string => `${what}: ${a.toFixed(0)}${unit} at 2 members, ${b.toFixed(0)}${unit} at ${large} (ratio ${(a / b).toFixed(2)}x)\n`;
  process.stdout.write(line("long-term encrypt, 1 KiB, median rate", r.small.median, r.large.median, "/s"));
  process.stdout.write(line("long-term encrypt, 1 KiB, best round", r.small.best, r.large.best, "/s"));
  process.stdout.write(`long-term encrypt, 1 KiB, process CPU per call: ${r.small.cpuUs.toFixed(0)} us at 2 members, ${r.large.cpuUs.toFixed(0)} us at ${large} (cost ratio ${(r.large.cpuUs / r.small.cpuUs).toFixed(2)}x)\n`);
}
