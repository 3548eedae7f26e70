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
import { interleaved } from "./timing.js";
import type { BenchContext, Row } from "./types.js";

/**
 * Writes `count` messages per round from `owner` and times the three readers on them.
 *
 * @example
 * ```ts
 * ctx.emit(await senderRatchetRow(ctx, engine, { state: g.state }, { state: g.receiver }, 10_000))
 * ```
 */
export async function senderRatchetRow(ctx: BenchContext, engine: EngineNode, owner: { state: GroupState }, receiver: { state: GroupState }, count: number): Promise<Row> {
  const rounds = { warmup: ctx.config.warmup ?? 1, iterations: ctx.config.iterations ?? 3 };
  const need = rounds.warmup + rounds.iterations;
  const size = 1024;
  const plaintext = new Uint8Array(randomBytes(size));
  ctx.progress.phase(`sender-ratchet: writing ${need} x ${count} messages`);
  const ours: Uint8Array[][] = [];
  for (let i = 0; i < need; i++) {
    const slice: Uint8Array[] = [];
    for (let k = 0; k < count; k++) {
      const r = await encrypt(owner.state, plaintext, { scheme: "sender-ratchet" });
      owner.state = r.state;
      slice.push(r.message);
    }
    ours.push(slice);
  }
  const csNode = await suiteImpl("node");
  const csDefault = await suiteImpl("default");
  const bare = await bareGroup(2);
  const bareSlices: Uint8Array[][] = [];
  for (let i = 0; i < need; i++) {
    const slice: Uint8Array[] = [];
    for (let k = 0; k < count; k++) {
      const r = await bareSeal(csNode, bare.owner, plaintext);
      bare.owner = r.state;
      slice.push(r.message);
    }
    bareSlices.push(slice);
  }
  let b = 0;
  let l = 0;
  let e = 0;
  let slice: Uint8Array[] = [];
  const expect = count * size;
  const check = (label: string, bytes: number): void => {
    if (bytes !== expect) throw new Error(`${label} decrypted ${bytes} bytes, expected ${expect}`);
  };
  ctx.progress.phase("sender-ratchet: decrypting");
  const results = await interleaved(
    [
      {
        label: "ts-mls 1.6.4 default provider (processMessage loop)",
        prepare: () => (slice = bareSlices[b++] as Uint8Array[]),
        run: async () => {
          let bytes = 0;
          for (const m of slice) {
            const r = await bareOpen(csDefault, bare.receiver, m);
            bare.receiver = r.state;
            bytes += r.plaintext.length;
          }
          check("bare", bytes);
        },
      },
      {
        label: "library decrypt loop",
        prepare: () => (slice = ours[l++] as Uint8Array[]),
        run: async () => {
          let bytes = 0;
          for (const m of slice) {
            const r = await decrypt(receiver.state, m);
            receiver.state = r.state;
            bytes += r.plaintext.length;
          }
          check("library", bytes);
        },
      },
      {
        label: "engine.decrypt (one batch)",
        prepare: () => (slice = ours[e++] as Uint8Array[]),
        run: async () => {
          let bytes = 0;
          for (const r of await engine.engine.decrypt(slice)) {
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
