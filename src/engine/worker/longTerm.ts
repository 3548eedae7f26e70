/**
 * Worker side of bulk long-term decryption. The engine packs a chunk of one group's long-term
 * messages into one ArrayBuffer and transfers it (no structured-clone copy; it goes back for the
 * engine's next chunk); the worker opens each value with a node:crypto decipher on a cached
 * `KeyObject` and writes the small plaintexts one after the other into a shared output slot
 * (src/engine/poolSlots.ts: a `SharedArrayBuffer` reused chunk after chunk, so no output buffer
 * is allocated here, moved, and freed on the main thread per chunk), from which the engine copies
 * them into buffers of its own and zeroes it; a large plaintext moves alone, in the buffer
 * node:crypto made it in. The tag is checked (`final()`) before a value's plaintext is written anywhere: a
 * failed value leaves nothing behind. The group's long-term keys cross once per epoch and
 * worker: the worker keeps them in a cache bounded by bytes (keyed by engine, group and epoch)
 * and answers `{ miss: true }` (nothing opened) when a chunk needs a key it does not hold and
 * the task did not carry it; the engine then sends the task again with the keys.
 *
 * Packed item `i` (layout entries `5i..5i+4`: nonce offset, ciphertext offset, ciphertext length
 * with the tag, aad length, index in `epochs`): the caller's whole message, then its aad right
 * after the ciphertext (which ends the message).
 *
 * @module
 */
import { Piscina } from "piscina";
import { LONG_TERM_KEY_CACHE_BYTES, POOL_OWN_BUFFER_BYTES } from "../../constants.js";
import type { LongTermCiphersuiteName } from "../../constants.js";
import { concatBytes } from "../../bytes.js";
import { ErrorCode, InternalError, toErrorData } from "../../errors.js";
import type { ErrorData } from "../../errors.js";
import { openValue, openingKey } from "../openValue.js";
import type { OpeningKey } from "../openValue.js";
import type { TaskResult } from "../pool.js";

/** Numbers per item in {@link OpenLongTermTask.layout}. @example `layout[5 * i + 1]` is item i's ciphertext offset */
export const LAYOUT_STRIDE = 5;

/**
 * Whether a plaintext of `length` bytes goes to the chunk's shared output slot: one not empty and
 * under {@link POOL_OWN_BUFFER_BYTES} (a larger one moves in a buffer of its own). The worker and
 * the engine (sizing the slot, reading it back) decide by this alone, so they agree on what the
 * slot holds.
 *
 * @example
 * ```ts
 * inOutputSlot(1024) // true; inOutputSlot(0) and inOutputSlot(8192) false
 * ```
 */
export function inOutputSlot(length: number): boolean {
  return length > 0 && length < POOL_OWN_BUFFER_BYTES;
}

/** A long-term key as it crosses to a worker. @example `{ epoch: 3n, ciphersuite: "PANDA10_AES256GCM", value }` */
export interface LongTermKeyData {
  readonly epoch: bigint;
  readonly ciphersuite: LongTermCiphersuiteName;
  readonly value: Uint8Array;
}

/** A batch of one group's long-term ciphertexts. @example `{ op: "openLongTerm", key, groupId, epochs: [0n], data, output, layout }` */
export interface OpenLongTermTask {
  readonly op: "openLongTerm";
  /** Engine id and group id: names the group's keys in the worker's cache. */
  readonly key: string;
  readonly groupId: Uint8Array;
  /** The distinct epochs the batch uses. */
  readonly epochs: readonly bigint[];
  /** Keys of `epochs`, sent when the worker may not hold them yet. */
  readonly keys?: readonly LongTermKeyData[];
  /** The packed messages (moved here and back, for the engine's next chunk). */
  readonly data: ArrayBuffer;
  /** Where the small plaintexts go, one after the other in item order (a shared slot, src/engine/poolSlots.ts). */
  readonly output: SharedArrayBuffer;
  readonly layout: Uint32Array;
}

/**
 * What the worker hands back: the packed buffer (untouched, for reuse), how many bytes of small
 * plaintexts it wrote to the output slot (the opened values' in item order), the large
 * plaintexts by item, and the failures by item; or a miss.
 *
 * @example
 * ```ts
 * const out: OpenLongTermOut = { data, written: 2048, large: [], failures: [[1, { code: "DECRYPTION_FAILED", message }]] }
 * ```
 */
export type OpenLongTermOut =
  | { readonly miss: true; readonly data: ArrayBuffer }
  | {
      readonly miss?: undefined;
      readonly data: ArrayBuffer;
      readonly written: number;
      readonly large: Array<[number, ArrayBuffer]>;
      readonly failures: Array<[number, ErrorData]>;
    };

/** True for the task of this module. @example `isOpenLongTermTask(task)` */
export function isOpenLongTermTask(task: { readonly op: string }): task is OpenLongTermTask {
  return task.op === "openLongTerm";
}

interface CachedKey extends OpeningKey {
  readonly bytes: number;
}

/** Rough bytes a cache entry costs besides its key value and its name (Map slot, objects). */
const ENTRY_OVERHEAD = 160;
const cache = new Map<string, CachedKey>();
let cachedBytes = 0;

function remember(name: string, key: LongTermKeyData): CachedKey {
  const old = cache.get(name);
  if (old !== undefined) {
    cache.delete(name);
    cachedBytes -= old.bytes;
  }
  const entry: CachedKey = { ...openingKey(key.ciphersuite, key.value), bytes: key.value.length + 2 * name.length + ENTRY_OVERHEAD };
  cache.set(name, entry);
  cachedBytes += entry.bytes;
  // least recently used first; the entry just added always stays
  while (cachedBytes > LONG_TERM_KEY_CACHE_BYTES && cache.size > 1) {
    const [oldest, value] = cache.entries().next().value as [string, CachedKey];
    cache.delete(oldest);
    cachedBytes -= value.bytes;
  }
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

/** Opens every packed item; a miss when a key of `epochs` is neither held nor sent. */
function openBatch(task: OpenLongTermTask): OpenLongTermOut {
  const keys: CachedKey[] = [];
  for (const epoch of task.epochs) {
    const name = `${task.key}/${epoch}`;
    const sent = task.keys?.find((k) => k.epoch === epoch);
    const key = sent === undefined ? lookup(name) : remember(name, sent);
    if (key === undefined) return { miss: true, data: task.data };
    keys.push(key);
  }
  const bytes = new Uint8Array(task.data);
  const output = new Uint8Array(task.output);
  const { layout, groupId } = task;
  const count = layout.length / LAYOUT_STRIDE;
  let written = 0;
  const large: Array<[number, ArrayBuffer]> = [];
  const failures: Array<[number, ErrorData]> = [];
  for (let i = 0; i < count; i++) {
    const at = i * LAYOUT_STRIDE;
    const nonceAt = layout[at] as number;
    const ctAt = layout[at + 1] as number;
    const ctLength = layout[at + 2] as number;
    const aadLength = layout[at + 3] as number;
    const key = keys[layout[at + 4] as number] as CachedKey;
    const end = ctAt + ctLength;
    const aad = aadLength === 0 ? groupId : concatBytes(groupId, bytes.subarray(end, end + aadLength));
    let body: Uint8Array;
    try {
      body = openValue(key, bytes, nonceAt, ctAt, end, aad);
    } catch (e) {
      failures.push([i, toErrorData(e)]);
      continue;
    }
    if (inOutputSlot(body.length)) {
      if (written + body.length > output.length) throw new InternalError(ErrorCode.WorkerFailed, "output slot too small for the chunk's plaintexts");
      output.set(body, written);
      written += body.length;
      body.fill(0);
    } else if (body.length > 0) {
      // large: the plaintext owns its buffer (openValue) and moves whole
      large.push([i, body.buffer as ArrayBuffer]);
    }
  }
  return { data: task.data, written, large, failures };
}

/**
 * Runs one chunk; never throws. The packed buffer and the large plaintexts go back to the engine
 * by transfer (piscina's movable result), so none is copied on its way.
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
  const transfer: ArrayBuffer[] = [value.data];
  if (value.miss !== true) for (const [, p] of value.large) transfer.push(p);
  return Piscina.move({ [Piscina.transferableSymbol]: transfer, [Piscina.valueSymbol]: result } as never);
}
