/**
 * Worker side of bulk long-term decryption. The engine packs a chunk of one group's long-term
 * messages into segments of up to {@link POOL_OUTPUT_SEGMENT_BYTES} (ArrayBuffers of its own)
 * and transfers them (no structured-clone copy); the worker opens a segment's small values into
 * one buffer of exactly their plaintexts, made here (the worker, mostly idle, pays its allocation
 * and first-touch faults instead of the busy main thread), and moves it back with the segments,
 * unwritten (src/engine/worker/openSegment.ts): the engine hands out views into the output buffer
 * with no copy and no shared memory, and packs its next chunks into the segments. A large
 * plaintext is opened in place in its segment, whose other bytes are then wiped, and the segment
 * is handed out (the addon); with node:crypto it moves alone, in a buffer of its own. No
 * unauthenticated byte leaves: the addon (src/nativeAead.ts) checks the tag before returning and
 * wipes a failed value's bytes; node:crypto's `final()` is called before a plaintext is copied
 * anywhere. The group's long-term keys cross once per epoch and worker: the worker keeps them in
 * a cache bounded by bytes (keyed by engine, group and epoch) and answers `{ miss: true }`
 * (nothing opened, the segments untouched) when a chunk needs a key it does not hold and the task
 * did not carry it; the engine then sends the task again with the keys.
 *
 * Packed item `i` (layout entries `5i..5i+4`: nonce offset, ciphertext offset, ciphertext length
 * with the tag, aad length, index in `epochs`; offsets within the item's segment): the caller's
 * whole message, then its aad right after the ciphertext (which ends the message). Segment `s`
 * holds the items from `ends[s - 1]` (0 for the first) up to `ends[s]`.
 *
 * @module
 */
import { Piscina } from "piscina";
import { LONG_TERM_KEY_CACHE_BYTES } from "../../constants.js";
import type { LongTermCiphersuiteName, POOL_OUTPUT_SEGMENT_BYTES } from "../../constants.js";
import { toErrorData } from "../../errors.js";
import type { ErrorData } from "../../errors.js";
import { nativeAead } from "../../nativeAead.js";
import { openingKey } from "../openValue.js";
import type { OpeningKey } from "../openValue.js";
import { openSegmentCopied, openSegmentInPlace } from "./openSegment.js";
import type { Batch } from "./openSegment.js";
import type { TaskResult } from "../pool.js";

export { LAYOUT_STRIDE, inSegment } from "./openSegment.js";

/** A long-term key as it crosses to a worker. @example `{ epoch: 3n, ciphersuite: "PANDA10_AES256GCM", value }` */
export interface LongTermKeyData {
  readonly epoch: bigint;
  readonly ciphersuite: LongTermCiphersuiteName;
  readonly value: Uint8Array;
}

/** A batch of one group's long-term ciphertexts. @example `{ op: "openLongTerm", key, groupId, epochs: [0n], segments, ends, layout }` */
export interface OpenLongTermTask {
  readonly op: "openLongTerm";
  /** Engine id and group id: names the group's keys in the worker's cache. */
  readonly key: string;
  readonly groupId: Uint8Array;
  /** The distinct epochs the batch uses. */
  readonly epochs: readonly bigint[];
  /** Keys of `epochs`, sent when the worker may not hold them yet. */
  readonly keys?: readonly LongTermKeyData[];
  /** The packed messages, in segments (moved here and back, then holding the small plaintexts). */
  readonly segments: readonly ArrayBuffer[];
  /** Per segment, the index one past its last item. */
  readonly ends: Uint32Array;
  readonly layout: Uint32Array;
}

/**
 * What the worker hands back: the segments (each holding its small plaintexts from its start, in
 * item order, then zeros), how many plaintext bytes each holds, the large plaintexts by item,
 * and the failures by item; or a miss (the segments untouched).
 *
 * @example
 * ```ts
 * const out: OpenLongTermOut = { segments, written: [2048], large: [], failures: [[1, { code: "DECRYPTION_FAILED", message }]] }
 * ```
 */
export type OpenLongTermOut =
  | { readonly miss: true; readonly segments: readonly ArrayBuffer[] }
  | {
      readonly miss?: undefined;
      /**
       * The packed segments: as they were sent (only the caller's bytes: packing buffers again),
       * or, where `held[s]`, holding segment s's large plaintexts in place and zeros elsewhere.
       */
      readonly segments: readonly ArrayBuffer[];
      /** Per segment, whether it holds large plaintexts in place (opened by the addon). */
      readonly held: readonly boolean[];
      /** Per segment, a buffer of exactly its small plaintexts, in item order (empty for none). */
      readonly outputs: readonly ArrayBuffer[];
      readonly large: Array<[number, ArrayBuffer]>;
      readonly failures: Array<[number, ErrorData]>;
    };

/** True for the task of this module. @example `isOpenLongTermTask(task)` */
export function isOpenLongTermTask(task: { readonly op: string }): task is OpenLongTermTask {
  return task.op === "openLongTerm";
}

/** A key in this worker's cache. @example `{ ...openingKey(suite, value), bytes: 200 }` */
export interface CachedKey extends OpeningKey {
  readonly bytes: number;
}

/** Rough bytes a cache entry costs besides its key value and its name (Map slot, objects). */
const ENTRY_OVERHEAD = 160;
const cache = new Map<string, CachedKey>();
let cachedBytes = 0;

/** Drops the key cached under `name`, if any, with its bytes. */
function evict(name: string): void {
  const entry = cache.get(name);
  if (entry === undefined) return;
  cache.delete(name);
  cachedBytes -= entry.bytes;
}

function remember(name: string, key: LongTermKeyData): CachedKey {
  evict(name);
  const entry: CachedKey = { ...openingKey(key.ciphersuite, key.value), bytes: key.value.length + 2 * name.length + ENTRY_OVERHEAD };
  cache.set(name, entry);
  cachedBytes += entry.bytes;
  // least recently used first; the entry just added always stays
  while (cachedBytes > LONG_TERM_KEY_CACHE_BYTES && cache.size > 1) evict(cache.keys().next().value as string);
  return entry;
}

function lookup(name: string): CachedKey | undefined {
  const hit = cache.get(name);
  if (hit !== undefined) {
    cache.delete(name); // refresh its place in the LRU order
    cache.set(name, hit);
  }
  return hit;
}

/**
 * Bytes and entries of this worker's key cache (for tests and stats).
 *
 * @example
 * ```ts
 * const { entries, bytes } = longTermKeyCacheSize()
 * ```
 */
export function longTermKeyCacheSize(): { entries: number; bytes: number } {
  return { entries: cache.size, bytes: cachedBytes };
}

/**
 * Drops every cached key whose name starts with `prefix` (an engine's `<engine id>:`, when it
 * closes).
 *
 * @example
 * ```ts
 * forgetLongTermKeys("3f9a...:")
 * ```
 */
export function forgetLongTermKeys(prefix: string): void {
  for (const name of [...cache.keys()]) if (name.startsWith(prefix)) evict(name);
}

/** Opens every packed item; a miss when a key of `epochs` is neither held nor sent. */
function openBatch(task: OpenLongTermTask): OpenLongTermOut {
  const keys: CachedKey[] = [];
  for (const epoch of task.epochs) {
    const name = `${task.key}/${epoch}`;
    const sent = task.keys?.find((k) => k.epoch === epoch);
    const key = sent === undefined ? lookup(name) : remember(name, sent);
    if (key === undefined) return { miss: true, segments: task.segments };
    keys.push(key);
  }
  const { ends, segments } = task;
  const batch: Batch = { task, keys, large: [], failures: [] };
  const outputs: ArrayBuffer[] = [];
  const held: boolean[] = [];
  try {
    for (let s = 0, from = 0; s < segments.length; from = ends[s++] as number) {
      const bytes = new Uint8Array(segments[s] as ArrayBuffer);
      const opened = (nativeAead === undefined ? openSegmentCopied : openSegmentInPlace)(batch, bytes, from, ends[s] as number);
      outputs.push(opened.output.buffer as ArrayBuffer);
      held.push(opened.held);
    }
  } catch (e) {
    // plaintexts may sit in the outputs and segments already: none stays behind a failed task
    for (const buffer of [...outputs, ...segments]) new Uint8Array(buffer).fill(0);
    for (const [, buffer] of batch.large) new Uint8Array(buffer).fill(0);
    throw e;
  }
  return { segments, held, outputs, large: batch.large, failures: batch.failures };
}

/**
 * Runs one chunk; never throws. The segments and the large plaintexts go back to the engine by
 * transfer (piscina's movable result), so none is copied on its way.
 *
 * @example
 * ```ts
 * export default (task) => (isOpenLongTermTask(task) ? runOpenLongTerm(task) : ...)
 * ```
 */
export function runOpenLongTerm(task: OpenLongTermTask): unknown {
  let value: OpenLongTermOut;
  try {
    value = openBatch(task);
  } catch (e) {
    return { ok: false, error: toErrorData(e) } satisfies TaskResult<never>;
  }
  const result: TaskResult<OpenLongTermOut> = { ok: true, value };
  const transfer: ArrayBuffer[] = [...value.segments];
  if (value.miss !== true) {
    for (const o of value.outputs) if (o.byteLength > 0) transfer.push(o);
    for (const [, p] of value.large) transfer.push(p);
  }
  return Piscina.move({ [Piscina.transferableSymbol]: transfer, [Piscina.valueSymbol]: result } as never);
}
