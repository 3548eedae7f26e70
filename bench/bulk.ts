/**
 * Bulk decryption through the engine. Long-term: `values` values of 64 B, 1 KiB and 64 KiB per
 * ciphersuite, decrypted by `engine.decrypt` in batches of 1000 (two batches in flight: the
 * pool has two workers), against raw single-thread `node:crypto` (one decipher per value, on
 * the same keys, nonces and ciphertexts; issue 11's figure), against the same loop keeping each
 * batch's plaintexts in an array as `engine.decrypt` hands them to its caller (row
 * "bulk-long-term-kept": the like-for-like comparison, since the first loop drops every plaintext
 * into memory it has just freed) and, up to 1 KiB, raw `@noble/ciphers`. Distinct
 * ciphertexts are capped at 64 MiB per size; larger counts cycle through them (decryption has
 * nothing to cache). Sender-ratchet: 10,000 x 1 KiB per iteration, new messages every
 * iteration (keys are consumed), engine vs the library loop vs bare ts-mls `processMessage`.
 *
 * @module
 */
import { createDecipheriv, randomBytes } from "node:crypto";
import { gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { LongTermCiphersuite, type LongTermCiphersuiteName } from "../src/constants.js";
import type { GroupState } from "../src/group/index.js";
import { sealLongTerm } from "../src/lts/encrypt.js";
import { encodeSecretGroupMessage } from "../src/message.js";
import { benchPool, EngineNode, ingestApplied, libraryGroup } from "./fixtures.js";
import { throughputFigure } from "./stats.js";
import { senderRatchetRounds, senderRatchetRow } from "./bulkSenderRatchet.js";
import { interleaved, type Side } from "./timing.js";
import type { BenchContext, Row, Scenario } from "./types.js";

const TAG = 16;
/** The raw loop that keeps its plaintexts (scenario "bulk-long-term-kept"). */
export const KEPT_LABEL = "raw node:crypto, 1 thread, plaintexts kept per batch";
const BATCH = 1000;
const IN_FLIGHT = 2;
const POOL_BYTES = 64 * 1024 * 1024;
/** Where each side sits in {@link longTermSides}' list. */
export const SIDE = { raw: 0, kept: 1, engine: 2, noble: 3 } as const;
const NODE_CIPHER: Record<LongTermCiphersuiteName, "aes-128-gcm" | "aes-256-gcm" | "chacha20-poly1305"> = {
  PANDA10_AES128GCM: "aes-128-gcm",
  PANDA10_AES256GCM: "aes-256-gcm",
  PANDA10_CHACHA20POLY1305: "chacha20-poly1305",
};


async function windowed<T>(items: readonly T[], width: number, fn: (item: T) => Promise<number>): Promise<number> {
  let next = 0;
  let total = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const bytes = await fn(items[next++] as T);
      total += bytes; // not `total += await ...`: that would read `total` before the await
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return total;
}

/**
 * The sides of one suite and value size, at the indices of {@link SIDE}: raw node:crypto
 * dropping its plaintexts, the same keeping them per batch, the engine and (up to 1 KiB) raw noble, on the same ciphertexts (bench/bulkDev.ts times them alone, with CPU per thread).
 *
 * @example
 * ```ts
 * const { sides } = longTermSides("PANDA10_AES128GCM", engine, state, 1024, 20_000);
 * ```
 */
export function longTermSides(suite: LongTermCiphersuiteName, engine: EngineNode, state: GroupState, size: number, values: number): { sides: Side[]; distinct: number; withNoble: boolean } {
  const secret = state.secrets.at(-1)!;
  const batch = Math.min(BATCH, values);
  const distinct = Math.max(batch, Math.min(values, Math.floor(POOL_BYTES / size / batch) * batch));
  const plaintext = new Uint8Array(randomBytes(size));
  const messages: Uint8Array[] = [];
  const nonces: Uint8Array[] = [];
  const bodies: Uint8Array[] = [];
  const whole: Uint8Array[] = [];
  for (let i = 0; i < distinct; i++) {
    const ct = sealLongTerm(secret, new Uint8Array(randomBytes(12)), plaintext);
    messages.push(encodeSecretGroupMessage({ type: "long-term", ciphertext: ct }));
    nonces.push(ct.nonce);
    bodies.push(ct.ciphertext.subarray(0, ct.ciphertext.length - TAG));
    whole.push(ct.ciphertext);
  }
  // [first index, count]: the last batch may be shorter; cycling (distinct < values) keeps whole batches
  const batches: Array<[number, number]> = [];
  for (let done = 0; done < values; done += batch) batches.push([done % distinct, Math.min(batch, values - done)]);
  const key = secret.value;
  const aad = state.groupId;
  const algorithm = NODE_CIPHER[suite];
  const expect = values * size;
  const check = (label: string, bytes: number): void => {
    if (bytes !== expect) throw new Error(`${label} decrypted ${bytes} bytes, expected ${expect}`);
  };
  const sides: Side[] = [
    {
      label: "raw node:crypto, 1 thread",
      run: async () => {
        let bytes = 0;
        for (const [start, count] of batches) {
          for (let i = start; i < start + count; i++) {
            const body = bodies[i] as Uint8Array;
            const d = createDecipheriv(algorithm as "aes-256-gcm", key, nonces[i] as Uint8Array, { authTagLength: TAG });
            d.setAuthTag((whole[i] as Uint8Array).subarray(body.length));
            d.setAAD(aad);
            bytes += d.update(body).length + d.final().length;
          }
        }
        check("raw node:crypto", bytes);
      },
    },
    {
      label: KEPT_LABEL,
      run: async () => {
        // the raw loop above, but handing each batch's plaintexts back as engine.decrypt does (one
        // Uint8Array per value, in an array the caller reads and then drops), so the fresh memory a
        // kept plaintext needs is paid on both sides
        let bytes = 0;
        for (const [start, count] of batches) {
          const out: Uint8Array[] = new Array(count);
          for (let k = 0; k < count; k++) {
            const i = start + k;
            const body = bodies[i] as Uint8Array;
            const d = createDecipheriv(algorithm as "aes-256-gcm", key, nonces[i] as Uint8Array, { authTagLength: TAG });
            d.setAuthTag((whole[i] as Uint8Array).subarray(body.length));
            d.setAAD(aad);
            const head = d.update(body);
            const tail = d.final();
            // GCM and ChaCha20-Poly1305 give everything from update(): no copy unless final() adds bytes
            out[k] = tail.length === 0 ? head : Buffer.concat([head, tail]);
          }
          for (const r of out) bytes += r.length;
        }
        check("raw node:crypto, kept", bytes);
      },
    },
    {
      label: `engine.decrypt (batches of ${batch}, ${IN_FLIGHT} in flight)`,
      run: async () => {
        const bytes = await windowed(batches, IN_FLIGHT, async ([start, count]) => {
          let n = 0;
          for (const r of await engine.engine.decrypt(messages.slice(start, start + count))) {
            if (r instanceof Error) throw r;
            n += r.length;
          }
          return n;
        });
        check("engine", bytes);
      },
    },
  ];
  const withNoble = size <= 1024;
  if (withNoble) {
    sides.push({
      label: "raw @noble/ciphers, 1 thread",
      run: async () => {
        let bytes = 0;
        for (const [start, count] of batches) {
          for (let i = start; i < start + count; i++) {
            const cipher = suite === "PANDA10_CHACHA20POLY1305" ? chacha20poly1305(key, nonces[i] as Uint8Array, aad) : gcm(key, nonces[i] as Uint8Array, aad);
            bytes += cipher.decrypt(whole[i] as Uint8Array).length;
          }
        }
        check("noble", bytes);
      },
    });
  }
  return { sides, distinct, withNoble };
}

/**
 * Rounds of a long-term row: 7 measured by default (the sender-ratchet row keeps 3). The raw
 * loops' own times swing by up to 3x between rounds (their freed plaintexts drive V8's external
 * memory accounting into full collections at moments the heap decides), so a median of 3 read
 * one lucky or unlucky baseline round as the whole ratio (session 14/15 runs: rsd 30-85% at
 * 64 KiB); a round costs ~1 s per suite, most of it in the noble loop.
 */
function longTermRounds(ctx: BenchContext): { warmup: number; iterations: number } {
  return { warmup: ctx.config.warmup ?? 1, iterations: ctx.config.iterations ?? 7 };
}

async function longTermRows(ctx: BenchContext, suite: LongTermCiphersuiteName, engine: EngineNode, state: GroupState, size: number, values: number): Promise<Row[]> {
  const { sides, distinct, withNoble } = longTermSides(suite, engine, state, size, values);
  const results = await interleaved(sides, longTermRounds(ctx), () => ctx.progress.tick());
  const fig = (i: number) => throughputFigure(results[i]!.label, results[i]!.spread, results[i]!.samples, values, size);
  const base = { case: `long-term decrypt, ${suite}`, n: values, valueBytes: size, values, extra: { distinctCiphertexts: distinct, ciphersuite: LongTermCiphersuite[suite] } };
  const engineSide = fig(SIDE.engine);
  const rows: Row[] = [
    { scenario: "bulk-long-term", ...base, baseline: fig(SIDE.raw), candidates: [engineSide] },
    { scenario: "bulk-long-term-kept", ...base, baseline: fig(SIDE.kept), candidates: [engineSide] },
  ];
  if (withNoble) rows.push({ scenario: "bulk-long-term-noble", ...base, baseline: fig(SIDE.noble), candidates: [engineSide] });
  return rows;
}


/**
 * The bulk-decryption scenario.
 *
 * @example
 * ```ts
 * await bulk.run(ctx);
 * ```
 */
export const bulk: Scenario = {
  name: "bulk",
  title: "bulk decryption",
  produces: ["bulk-long-term", "bulk-long-term-kept", "bulk-long-term-noble", "bulk-sender-ratchet"],
  async run(ctx) {
    const suites = Object.keys(LongTermCiphersuite) as LongTermCiphersuiteName[];
    const sizes = Object.keys(ctx.config.bulkValues).map(Number);
    const long = longTermRounds(ctx);
    const sr = senderRatchetRounds(ctx);
    // sides per size: node:crypto (dropping and keeping) and the engine, and @noble/ciphers up to 1 KiB; then the sender-ratchet row's 3
    const sides = sizes.reduce((sum, size) => sum + (size <= 1024 ? 4 : 3), 0);
    ctx.progress.start((long.warmup + long.iterations) * suites.length * sides + (sr.warmup + sr.iterations) * 3, "building groups");
    const pool = benchPool();
    const nodes: EngineNode[] = [];
    try {
      for (const suite of suites) {
        const engine = await EngineNode.open(pool);
        nodes.push(engine);
        const g = await libraryGroup(3, [await engine.keyPackage()], suite);
        await ingestApplied(engine.engine, [g.groupDoc.bytes, g.head.bytes]);
        for (const size of sizes) {
          ctx.progress.phase(`${suite} ${size} B`);
          for (const row of await longTermRows(ctx, suite, engine, g.state, size, ctx.config.bulkValues[size] as number)) ctx.emit(row);
        }
        if (suite === "PANDA10_AES256GCM") {
          const owner = { state: g.state };
          const receiver = { state: g.receiver };
          ctx.emit(await senderRatchetRow(ctx, engine, owner, receiver, ctx.config.srValues));
        }
      }
    } finally {
      for (const n of nodes) await n.dispose();
      await pool.destroy();
      ctx.progress.stop();
    }
  },
};
