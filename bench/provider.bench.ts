/**
 * ts-mls default crypto provider vs our node:crypto provider (issue 3), on the same
 * operations at 100 and 1000 members: the owner creating an update commit and a remove
 * commit, a receiver processing them, a joiner processing the Welcome, and 1000
 * sender-ratchet application messages of 1 KiB encrypted by the owner and decrypted by
 * a receiver.
 *
 * Each provider gets its own group, built once per size with one commit adding n-1 key
 * packages. Every timed step starts from the same state, so repetitions measure the same
 * work. The two providers' runs are interleaved (default, node, node, default, ...; the
 * messages in chunks of 100) so that load from other processes on the machine hits both
 * alike; each case reports the median of 5 repetitions (messages: the total), once as
 * wall-clock time and once as process CPU time (steadier when other jobs share the machine).
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import type { CiphersuiteImpl, ClientState } from "ts-mls";
import { timedCpu, type Benchmark, type BenchOptions, type BenchRow } from "./registry.js";
import {
  adds,
  applyCommit,
  commit,
  join,
  leafOf,
  newGroup,
  newKeyPackage,
  open,
  removeLeaf,
  seal,
  suiteImpl,
  type KeyPackagePair,
  type ProviderLabel,
} from "./mlsHarness.js";

type Case = "welcome" | "createUpdate" | "processUpdate" | "createRemove" | "processRemove" | "encrypt" | "decrypt";

const CASE_NAMES: Record<Case, string> = {
  welcome: "joiner processes Welcome",
  createUpdate: "owner creates update commit",
  processUpdate: "receiver processes update commit",
  createRemove: "owner creates remove commit",
  processRemove: "receiver processes remove commit",
  encrypt: "encrypt N x 1 KiB app messages",
  decrypt: "decrypt N x 1 KiB app messages",
};

// Issue 3 targets, at 1000 members.
const TARGETS: Partial<Record<Case, number>> = { processUpdate: 4, processRemove: 4, encrypt: 3, decrypt: 3 };

const PROVIDERS: readonly ProviderLabel[] = ["default", "node"];

interface Side {
  readonly provider: ProviderLabel;
  readonly cs: CiphersuiteImpl;
  owner: ClientState;
  receiver?: ClientState;
  readonly welcome: Uint8Array;
  readonly receiverKp: KeyPackagePair;
  readonly timings: Partial<Record<Case, number[]>>;
  readonly cpu: Partial<Record<Case, number[]>>;
}

async function buildSide(provider: ProviderLabel, size: number, log: BenchOptions["log"]): Promise<Side> {
  const cs = await suiteImpl(provider);
  const t0 = performance.now();
  const kps: KeyPackagePair[] = [];
  for (let i = 1; i < size; i++) kps.push(await newKeyPackage(cs));
  const added = await commit(cs, await newGroup(cs), adds(kps.map((k) => k.publicPackage)));
  log(`  ${provider} n=${size}: group built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { provider, cs, owner: added.state, welcome: added.welcome!, receiverKp: kps[0]!, timings: {}, cpu: {} };
}

function record(side: Side, c: Case, ms: number, cpuMs: number): void {
  (side.timings[c] ??= []).push(ms);
  (side.cpu[c] ??= []).push(cpuMs);
}

function medianOf(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs `step` `reps` times per side, alternating which side goes first; keeps each side's last result. */
async function interleaved<T>(sides: readonly Side[], reps: number, c: Case, step: (s: Side) => Promise<T>): Promise<Map<Side, T>> {
  const last = new Map<Side, T>();
  for (let r = 0; r < reps; r++) {
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const { ms, cpuMs, value } = await timedCpu(() => step(side));
      record(side, c, ms, cpuMs);
      last.set(side, value);
    }
  }
  return last;
}

async function measureSize(size: number, messages: number, reps: number, log: BenchOptions["log"]): Promise<Side[]> {
  const sides: Side[] = [];
  for (const p of PROVIDERS) sides.push(await buildSide(p, size, log));

  const joined = await interleaved(sides, reps, "welcome", (s) => join(s.cs, s.welcome, s.receiverKp, s.owner.ratchetTree));
  for (const s of sides) s.receiver = joined.get(s)!;

  const updates = await interleaved(sides, reps, "createUpdate", (s) => commit(s.cs, s.owner));
  const updated = await interleaved(sides, reps, "processUpdate", (s) => applyCommit(s.cs, s.receiver!, updates.get(s)!.commit));
  for (const s of sides) {
    s.owner = updates.get(s)!.state;
    s.receiver = updated.get(s)!;
  }

  // Remove the last member (never the receiver, which is leaf 1).
  const victim = size - 1;
  const removes = await interleaved(sides, reps, "createRemove", (s) => commit(s.cs, s.owner, [removeLeaf(victim)]));
  const removed = await interleaved(sides, reps, "processRemove", (s) => applyCommit(s.cs, s.receiver!, removes.get(s)!.commit));
  for (const s of sides) {
    s.owner = removes.get(s)!.state;
    s.receiver = removed.get(s)!;
    if (leafOf(s.receiver) !== 1) throw new Error("receiver moved");
  }

  const payload = new Uint8Array(randomBytes(1024));
  const sealed = new Map<Side, Uint8Array[]>(sides.map((s) => [s, []]));
  const chunk = Math.min(100, messages);
  const zero = () => ({ ms: 0, cpuMs: 0 });
  const total = new Map(sides.map((s) => [s, { encrypt: zero(), decrypt: zero() }]));
  const add = (acc: { ms: number; cpuMs: number }, t: { ms: number; cpuMs: number }) => {
    acc.ms += t.ms;
    acc.cpuMs += t.cpuMs;
  };
  for (let done = 0; done < messages; done += chunk) {
    for (const s of done % (2 * chunk) === 0 ? sides : [...sides].reverse()) {
      const n = Math.min(chunk, messages - done);
      add(
        total.get(s)!.encrypt,
        await timedCpu(async () => {
          for (let i = 0; i < n; i++) {
            const r = await seal(s.cs, s.owner, payload);
            s.owner = r.state;
            sealed.get(s)!.push(r.message);
          }
        }),
      );
    }
  }
  for (let done = 0; done < messages; done += chunk) {
    for (const s of done % (2 * chunk) === 0 ? sides : [...sides].reverse()) {
      const batch = sealed.get(s)!.slice(done, done + chunk);
      add(
        total.get(s)!.decrypt,
        await timedCpu(async () => {
          for (const m of batch) {
            const r = await open(s.cs, s.receiver!, m);
            s.receiver = r.state;
          }
        }),
      );
    }
  }
  for (const s of sides) {
    const t = total.get(s)!;
    record(s, "encrypt", t.encrypt.ms, t.encrypt.cpuMs);
    record(s, "decrypt", t.decrypt.ms, t.decrypt.cpuMs);
  }
  log(`  n=${size}: measured`);
  return sides;
}

/**
 * The provider benchmark (issue 3): ts-mls's default provider is the baseline, node the candidate.
 *
 * @example
 * ```ts
 * const rows = await providerBenchmark.run({ quick: true, log: console.error });
 * ```
 */
export const providerBenchmark: Benchmark = {
  name: "mls-provider",
  async run({ quick, log }) {
    const sizes = quick ? [4, 16] : [100, 1000];
    const messages = quick ? 20 : 1000;
    const reps = quick ? 1 : 5;
    const rows: BenchRow[] = [];
    for (const size of sizes) {
      const [base, cand] = await measureSize(size, messages, reps, log);
      for (const kind of ["wall", "cpu"] as const) {
        for (const c of Object.keys(CASE_NAMES) as Case[]) {
          const target = size === 1000 ? TARGETS[c] : undefined;
          const of = (side: Side) => medianOf((kind === "wall" ? side.timings : side.cpu)[c]!);
          rows.push({
            case: `${CASE_NAMES[c].replace("N x", `${messages} x`)}${kind === "cpu" ? " [CPU time]" : ""}`,
            size,
            baseline: { label: base!.provider, ms: of(base!) },
            candidates: [{ label: cand!.provider, ms: of(cand!) }],
            ...(target === undefined ? {} : { target }),
          });
        }
      }
    }
    return rows;
  },
};
