/**
 * Bulk long-term decryption in the worker pool (main-thread side; the worker side is
 * src/engine/worker/longTerm.ts). A group's batch is split into chunks balanced by bytes; each
 * chunk's messages are copied whole (one copy per value, no views made) into segments of up to
 * {@link POOL_OUTPUT_SEGMENT_BYTES}, ArrayBuffers transferred to a worker and back (then packed
 * into again). The worker copies each segment's small plaintexts into one buffer of their own;
 * the engine hands them out as views into it (src/engine/poolOutput.ts), with no copy. A large
 * plaintext comes back in its own segment, opened in place there (the addon), or in a buffer of
 * its own (node:crypto).
 * Long-term keys travel only while a worker may not hold them: with the first tasks of each
 * group and epoch, and again after a worker reports a miss.
 *
 * For values of {@link MAIN_SHARE_MIN_MEAN_BYTES} and more, the main thread opens the batch's
 * tail itself ({@link POOL_MAIN_SHARE} of its bytes, in slices: src/engine/mainDecrypt.ts) while
 * the chunks run: there a worker's per-value cost (a plaintext buffer of its own, moved back)
 * exceeds the main thread's direct open. Measured in bench/bulkDev.ts; see the constants.
 *
 * Small batches stay on the main thread (src/engine/steps.ts): below
 * {@link POOL_DECRYPT_MIN_VALUES} values and {@link POOL_DECRYPT_MIN_BYTES} bytes a round trip
 * costs more than the decryption it moves.
 *
 * @module
 */
import type { Piscina } from "piscina";
import { equalBytesAt, fromHex } from "../bytes.js";
import type { MAIN_SHARE_MIN_MEAN_BYTES, POOL_MAIN_SHARE, POOL_OUTPUT_SEGMENT_BYTES } from "../constants.js";
import { NATIVE_POOL_MIN_MEAN_BYTES, POOL_CHUNK_BYTES, POOL_CHUNKS_IN_FLIGHT_PER_THREAD, POOL_DECRYPT_MIN_BYTES, POOL_DECRYPT_MIN_VALUES, SENT_KEYS_TRACKED } from "../constants.js";
import { nativeAead } from "../nativeAead.js";
import { ErrorCode, InternalError } from "../errors.js";
import { otherGroupCiphertext, secretForEpoch } from "../lts/secret.js";
import type { LongTermSecret } from "../lts/secret.js";
import type { EngineContext } from "./context.js";
import type { DecryptItem } from "./jobs.js";
import { mainShareStart, openSliced } from "./mainDecrypt.js";
import { giveBack, packChunk, packedBytes, segmentBuffer } from "./packBuffers.js";
import { handOut } from "./poolOutput.js";
import { runTask } from "./pool.js";
import type { LongTermKeyData, OpenLongTermOut, OpenLongTermTask } from "./worker/longTerm.js";


/**
 * Where large long-term batches open (`EngineOptions.bulkDecrypt`): `"auto"` by measurement,
 * `"pool"` in the pool whatever the AEAD backend.
 *
 * @example
 * ```ts
 * const mode: BulkDecrypt = "pool"
 * ```
 */
export type BulkDecrypt = "auto" | "pool";

/**
 * True when a batch of `count` long-term values of `bytes` ciphertext bytes is worth the pool.
 *
 * @example
 * ```ts
 * if (worthThePool(1000, 1000 * 1024, "auto")) await openInPool(...)
 * ```
 */
export function worthThePool(count: number, bytes: number, mode: BulkDecrypt = "auto"): boolean {
  if (nativeAead !== undefined && mode === "auto") return count > 1 && bytes >= POOL_DECRYPT_MIN_BYTES && bytes >= NATIVE_POOL_MIN_MEAN_BYTES * count;
  return count >= POOL_DECRYPT_MIN_VALUES || (count > 1 && bytes >= POOL_DECRYPT_MIN_BYTES);
}

/** Per pool: how many tasks carried the key of `engine:group/epoch` (insertion order is the LRU order). */
const sentKeys = new WeakMap<Piscina, Map<string, number>>();

function sentCounts(pool: Piscina): Map<string, number> {
  let counts = sentKeys.get(pool);
  if (counts === undefined) sentKeys.set(pool, (counts = new Map()));
  return counts;
}

function noteSent(pool: Piscina, names: readonly string[]): void {
  const counts = sentCounts(pool);
  for (const name of names) {
    const n = counts.get(name) ?? 0;
    counts.delete(name);
    counts.set(name, n + 1);
  }
  while (counts.size > SENT_KEYS_TRACKED) counts.delete(counts.keys().next().value as string);
}

/** One chunk: the positions of its items in the call, and where each sits in the packed buffer. */
interface Chunk {
  readonly which: number[];
  readonly epochIndex: number[];
}

/**
 * Opens the long-term items `all` of `items` (one group's) with `secrets`, the rest in the pool
 * while the main thread opens its share (`mainShareStart`), writing each plaintext or error into
 * `results` at the item's own index. Errors are those of `openLongTerm`
 * (`UNKNOWN_EPOCH`, `WRONG_GROUP`, `DECRYPTION_FAILED`); a failed worker rejects
 * once the chunks still running settled, no chunk starting after the failure.
 *
 * @example
 * ```ts
 * await openInPool(ctx, gid, held.secrets, job.items, longTerm, results)
 * ```
 */
export async function openInPool(
  ctx: EngineContext,
  gid: string,
  secrets: readonly LongTermSecret[],
  items: readonly DecryptItem[],
  all: readonly number[],
  results: Array<Uint8Array | Error>,
): Promise<void> {
  const groupId = fromHex(gid);
  // the main thread opens the batch's tail itself (the library's checks, on the caller's bytes)
  // while the workers open the rest: all three threads work
  const cut = mainShareStart(items, all);
  const which = all.slice(0, cut);
  const epochs: bigint[] = [];
  const used: LongTermSecret[] = [];
  const ready: number[] = [];
  const epochIndex: number[] = [];
  let total = 0;
  let last = -1;
  for (const i of which) {
    const item = items[i] as DecryptItem;
    // the group first, as the library's openLongTerm: another group's message is WRONG_GROUP
    // whatever its epoch (an epoch of this group's secrets says nothing about another group)
    if (!equalBytesAt(groupId, item.message, item.groupAt, item.groupLength)) {
      results[i] = otherGroupCiphertext();
      continue;
    }
    // bulk input is mostly one epoch: look the secret up again only when it changes
    if (last < 0 || epochs[last] !== item.epoch) {
      last = epochs.indexOf(item.epoch);
      if (last < 0) {
        const secret = secretForEpoch(secrets, groupId, item.epoch);
        if (secret instanceof Error) {
          results[i] = secret;
          continue;
        }
        last = epochs.push(item.epoch) - 1;
        used.push(secret);
      }
    }
    ready.push(i);
    epochIndex.push(last);
    total += packedBytes(item);
  }
  const onMain = all.slice(cut);
  const pooled = ready.length === 0 ? Promise.resolve() : openChunks(ctx, gid, groupId, epochs, used, items, ready, epochIndex, total, results);
  // awaited below, after the main share: this only keeps an early failure from going unhandled
  pooled.catch(() => {});
  try {
    await openSliced(groupId, secrets, items, onMain, results);
  } catch (e) {
    await pooled.catch(() => {}); // the job settles after its chunks, as when one of them fails
    throw e;
  }
  ctx.stats.mainDecrypts += onMain.length;
  await pooled;
}

/** Opens the checked items `ready` in the pool's chunks. */
async function openChunks(
  ctx: EngineContext,
  gid: string,
  groupId: Uint8Array,
  epochs: readonly bigint[],
  used: readonly LongTermSecret[],
  items: readonly DecryptItem[],
  ready: readonly number[],
  epochIndex: readonly number[],
  total: number,
  results: Array<Uint8Array | Error>,
): Promise<void> {
  const threads = Math.max(1, ctx.pool.options.maxThreads);
  const chunks = split(items, ready, epochIndex, total, threads);
  const key = `${ctx.engineId}:${gid}`;
  const names = epochs.map((e) => `${key}/${e}`);
  const keys: LongTermKeyData[] = used.map((s) => ({ epoch: s.epoch, ciphersuite: s.ciphersuite, value: s.value }));
  const batch: BatchKeys = { key, groupId, epochs, names, keys, threads };
  // a window of chunks in flight, each packed only when a lane frees: the workers stay busy
  // and segments of no plaintext come back in time to be reused
  let next = 0;
  // once a chunk failed the job fails: no lane starts another chunk, and the job settles only
  // after the chunks still running have (so the engine's close() waits for them, and the pool
  // is not destroyed under a task still running)
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < chunks.length) {
      try {
        await openChunk(ctx, batch, items, chunks[next++] as Chunk, results);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(chunks.length, POOL_CHUNKS_IN_FLIGHT_PER_THREAD * threads) }, lane));
  const failure = lanes.find((l): l is PromiseRejectedResult => l.status === "rejected");
  if (failure !== undefined) throw failure.reason;
  ctx.stats.poolDecrypts += ready.length;
}

/** Contiguous chunks of `ready` of about equal packed bytes: at least one per thread, at most {@link POOL_CHUNK_BYTES} each where the values allow. */
function split(items: readonly DecryptItem[], ready: readonly number[], epochIndex: readonly number[], total: number, threads: number): Chunk[] {
  const chunks: Chunk[] = [];
  const count = Math.min(ready.length, Math.max(threads, Math.ceil(total / POOL_CHUNK_BYTES)));
  const target = total / count;
  let current: Chunk = { which: [], epochIndex: [] };
  let bytes = 0;
  for (let k = 0; k < ready.length; k++) {
    const i = ready[k] as number;
    const item = items[i] as DecryptItem;
    current.which.push(i);
    current.epochIndex.push(epochIndex[k] as number);
    bytes += packedBytes(item);
    if (bytes >= target * (chunks.length + 1) && chunks.length < count - 1) {
      chunks.push(current);
      current = { which: [], epochIndex: [] };
    }
  }
  if (current.which.length > 0) chunks.push(current);
  return chunks;
}

interface BatchKeys {
  readonly key: string;
  readonly groupId: Uint8Array;
  readonly epochs: readonly bigint[];
  readonly names: readonly string[];
  readonly keys: readonly LongTermKeyData[];
  readonly threads: number;
}

async function openChunk(ctx: EngineContext, batch: BatchKeys, items: readonly DecryptItem[], chunk: Chunk, results: Array<Uint8Array | Error>): Promise<void> {
  const { which } = chunk;
  const { segments, ends, layout } = packChunk(items, which, chunk.epochIndex, segmentBuffer, nativeAead !== undefined);
  const counts = sentCounts(ctx.pool);
  const send = batch.names.some((n) => (counts.get(n) ?? 0) < batch.threads);
  const task = (packed: readonly ArrayBuffer[], withKeys: boolean): OpenLongTermTask => ({
    op: "openLongTerm",
    key: batch.key,
    groupId: batch.groupId,
    epochs: batch.epochs,
    ...(withKeys ? { keys: batch.keys } : {}),
    segments: packed,
    ends,
    layout,
  });
  // the segments move (detached here): after a failed task no plaintext is left on this side
  const run = (t: OpenLongTermTask): Promise<OpenLongTermOut> => runTask<OpenLongTermOut>(ctx.pool, t, undefined, "group", [...t.segments]);
  if (send) noteSent(ctx.pool, batch.names);
  let out = await run(task(segments, send));
  if (out.miss === true) {
    noteSent(ctx.pool, batch.names);
    out = await run(task(out.segments, true));
    if (out.miss === true) {
      // a miss opens nothing: the segments hold only what the caller sent, packing buffers again
      for (const buffer of out.segments) giveBack(buffer);
      throw new InternalError(ErrorCode.WorkerFailed, "worker refused the long-term keys");
    }
  }
  handOut(out, layout, ends, which, results);
}
