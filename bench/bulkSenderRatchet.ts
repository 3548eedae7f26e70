/**
 * The bulk scenario's sender-ratchet row: 1 KiB application messages decrypted by the engine in
 * one batch, by the library's decrypt loop and by bare ts-mls `processMessage`, with new messages
 * every iteration (their keys are consumed).
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { decrypt, encrypt } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { bareGroup, type EngineNode } from "./fixtures.js";
import { open as bareOpen, seal as bareSeal, suiteImpl } from "./mlsHarness.js";
import { throughputFigure } from "./stats.js";
import { interleaved, type Side } from "./timing.js";
import type { BenchContext, Row } from "./types.js";

/**
 * Rounds of the sender-ratchet row: 3 measured by default (each round writes and reads fresh
 * messages, so rounds cost more than the long-term rows' and vary less).
 *
 * @example
 * ```ts
 * const { warmup, iterations } = senderRatchetRounds(ctx)
 * ```
 */
export function senderRatchetRounds(ctx: BenchContext): { warmup: number; iterations: number } {
  return { warmup: ctx.config.warmup ?? 1, iterations: ctx.config.iterations ?? 3 };
}

/**
 * Writes `count` messages per round from `owner` and times the three readers on them.
 *
 * @example
 * ```ts
 * ctx.emit(await senderRatchetRow(ctx, engine, { state: g.state }, { state: g.receiver }, 10_000))
 * ```
 */
export async function senderRatchetRow(ctx: BenchContext, engine: EngineNode, owner: { state: GroupState }, receiver: { state: GroupState }, count: number): Promise<Row> {
  const rounds = senderRatchetRounds(ctx);
  const need = rounds.warmup + rounds.iterations;
  const size = 1024;
  const plaintext = new Uint8Array(randomBytes(size));
  ctx.progress.phase(`sender-ratchet: writing ${need} x ${count} messages`);
  // `need` slices of `count` messages each: every round reads fresh ones (reading consumes keys)
  const slices = async (seal: () => Promise<Uint8Array>): Promise<Uint8Array[][]> => {
    const out: Uint8Array[][] = [];
    for (let i = 0; i < need; i++) {
      const slice: Uint8Array[] = [];
      for (let k = 0; k < count; k++) slice.push(await seal());
      out.push(slice);
    }
    return out;
  };
  const ours = await slices(async () => {
    const r = await encrypt(owner.state, plaintext, { scheme: "sender-ratchet" });
    owner.state = r.state;
    return r.message;
  });
  const csNode = await suiteImpl("node");
  const csDefault = await suiteImpl("default");
  const bare = await bareGroup(2);
  const bareSlices = await slices(async () => {
    const r = await bareSeal(csNode, bare.owner, plaintext);
    bare.owner = r.state;
    return r.message;
  });
  const expect = count * size;
  const check = (name: string, bytes: number): void => {
    if (bytes !== expect) throw new Error(`${name} decrypted ${bytes} bytes, expected ${expect}`);
  };
  /** A side reading its next slice one message at a time (`open` returns the plaintext's length). */
  const loopSide = (label: string, name: string, from: Uint8Array[][], open: (m: Uint8Array) => Promise<number>): Side => {
    let next = 0;
    let slice: Uint8Array[] = [];
    return {
      label,
      prepare: () => (slice = from[next++] as Uint8Array[]),
      run: async () => {
        let bytes = 0;
        for (const m of slice) bytes += await open(m);
        check(name, bytes);
      },
    };
  };
  let engineNext = 0;
  let engineSlice: Uint8Array[] = [];
  ctx.progress.phase("sender-ratchet: decrypting");
  const results = await interleaved(
    [
      loopSide("ts-mls 1.6.4 default provider (processMessage loop)", "bare", bareSlices, async (m) => {
        const r = await bareOpen(csDefault, bare.receiver, m);
        bare.receiver = r.state;
        return r.plaintext.length;
      }),
      loopSide("library decrypt loop", "library", ours, async (m) => {
        const r = await decrypt(receiver.state, m);
        receiver.state = r.state;
        return r.plaintext.length;
      }),
      {
        label: "engine.decrypt (one batch)",
        prepare: () => (engineSlice = ours[engineNext++] as Uint8Array[]),
        run: async () => {
          let bytes = 0;
          for (const r of await engine.engine.decrypt(engineSlice)) {
            if (r instanceof Error) throw r;
            bytes += r.length;
          }
          check("engine", bytes);
        },
      },
    ],
    rounds,
    () => ctx.progress.tick(),
  );
  const fig = (i: number) => throughputFigure(results[i]!.label, results[i]!.spread, results[i]!.samples, count, size);
  return { scenario: "bulk-sender-ratchet", case: "sender-ratchet decrypt, PANDA10_AES256GCM group", n: count, valueBytes: size, values: count, baseline: fig(0), candidates: [fig(1), fig(2)] };
}
