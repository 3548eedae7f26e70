/**
 * Worker side of bulk long-term decryption. The engine packs a chunk of one group's long-term
 * ciphertexts into one ArrayBuffer and transfers it (no structured-clone copy); the worker
 * opens each value and transfers back each plaintext in the buffer node:crypto produced it in
 * (no copy either: on this machine fresh memory costs more than the copy, so making it once is
 * what counts) and the packed buffer, which the engine reuses for the next chunk. The group's
 * long-term keys cross once per epoch and worker: the worker keeps them in a cache bounded by
 * bytes (keyed by engine, group and epoch) and answers `{ miss: true }` (with the buffer,
 * unopened) when a chunk needs a key it does not hold and the task did not carry it; the
 * engine then sends the task again with the keys.
 *
 * Packed item `i` (layout entries `4i..4i+3`: offset, ciphertext length, aad length, index in
 * `epochs`): `nonce (12) || ciphertext with tag || aad` at `offset`.
 *
 * @module
 */
import { Piscina } from "piscina";
import { LONG_TERM_KEY_CACHE_BYTES, LTS_NONCE_SIZE, POOL_OWN_BUFFER_BYTES } from "../../constants.js";
import type { LongTermCiphersuiteName } from "../../constants.js";
import { concatBytes } from "../../bytes.js";
import { toErrorData } from "../../errors.js";
import type { ErrorData } from "../../errors.js";
import { nodeAead } from "../../lts/aead.js";
import type { TaskResult } from "../pool.js";

/** Numbers per item in {@link OpenLongTermTask.layout}. @example `layout[4 * i]` is item i's offset */
export const LAYOUT_STRIDE = 4;

/** A long-term key as it crosses to a worker. @example `{ epoch: 3n, ciphersuite: "PANDA10_AES256GCM", value }` */
export interface LongTermKeyData {
  readonly epoch: bigint;
  readonly ciphersuite: LongTermCiphersuiteName;
  readonly value: Uint8Array;
}

/** A batch of one group's long-term ciphertexts. @example `{ op: "openLongTerm", key, groupId, epochs: [0n], data, layout }` */
export interface OpenLongTermTask {
  readonly op: "openLongTerm";
  /** Engine id and group id: names the group's keys in the worker's cache. */
  readonly key: string;
  readonly groupId: Uint8Array;
  /** The distinct epochs the batch uses. */
  readonly epochs: readonly bigint[];
  /** Keys of `epochs`, sent when the worker may not hold them yet. */
  readonly keys?: readonly LongTermKeyData[];
  readonly data: ArrayBuffer;
  readonly layout: Uint32Array;
}

/**
 * What the worker hands back: the packed buffer (small plaintexts written over their
 * ciphertexts), each large item's plaintext as a whole ArrayBuffer (null for the small ones and
 * where it failed) and the failures by item; or a miss.
 *
 * @example
 * ```ts
 * const out: OpenLongTermOut = { data, plaintexts: [buffer, null], failures: [[1, { code: "DECRYPTION_FAILED", message }]] }
 * ```
 */
export type OpenLongTermOut =
  | { readonly miss: true; readonly data: ArrayBuffer }
  | { readonly miss?: undefined; readonly data: ArrayBuffer; readonly plaintexts: Array<ArrayBuffer | null>; readonly failures: Array<[number, ErrorData]> };

/** True for the task of this module. @example `isOpenLongTermTask(task)` */
export function isOpenLongTermTask(task: { readonly op: string }): task is OpenLongTermTask {
  return task.op === "openLongTerm";
}

interface CachedKey {
  readonly ciphersuite: LongTermCiphersuiteName;
  readonly value: Uint8Array;
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
  const entry: CachedKey = { ciphersuite: key.ciphersuite, value: Uint8Array.from(key.value), bytes: key.value.length + 2 * name.length + ENTRY_OVERHEAD };
  cache.set(name, entry);
  cachedBytes += entry.bytes;
  // least recently used first; the entry just added always stays
  while (cachedBytes > LONG_TERM_KEY_CACHE_BYTES && cache.size > 1) {
    const [oldest, value] = cache.entries().next().value as [string, CachedKey];
    cache.delete(oldest);
    cachedBytes -= value.bytes;
    value.value.fill(0);
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
  const { layout, groupId } = task;
  const count = layout.length / LAYOUT_STRIDE;
  const plaintexts: Array<ArrayBuffer | null> = new Array(count);
  const failures: Array<[number, ErrorData]> = [];
  for (let i = 0; i < count; i++) {
    const at = i * LAYOUT_STRIDE;
    const offset = layout[at] as number;
    const ctLength = layout[at + 1] as number;
    const aadLength = layout[at + 2] as number;
    const key = keys[layout[at + 3] as number] as CachedKey;
    const ctStart = offset + LTS_NONCE_SIZE;
    const aad = aadLength === 0 ? groupId : concatBytes(groupId, bytes.subarray(ctStart + ctLength, ctStart + ctLength + aadLength));
    try {
      const plaintext = nodeAead.open(key.ciphersuite, key.value, bytes.subarray(offset, ctStart), bytes.subarray(ctStart, ctStart + ctLength), aad);
      if (plaintext.length < POOL_OWN_BUFFER_BYTES) {
        // small: back in place of its ciphertext (one transfer for the chunk beats one per value)
        bytes.set(plaintext, ctStart);
        plaintext.fill(0);
        plaintexts[i] = null;
      } else {
        // large: node's plaintext owns its buffer (anything else is copied) and moves whole
        plaintexts[i] = plaintext.byteOffset === 0 && plaintext.buffer.byteLength === plaintext.length ? (plaintext.buffer as ArrayBuffer) : (plaintext.slice().buffer as ArrayBuffer);
      }
    } catch (e) {
      plaintexts[i] = null;
      failures.push([i, toErrorData(e)]);
    }
  }
  return { data: task.data, plaintexts, failures };
}

/**
 * Runs one chunk; never throws. The buffers go back to the engine by transfer (piscina's
 * movable result), so no value is copied on its way.
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
  const transfer: ArrayBuffer[] = [value.data];
  if (value.miss !== true) for (const p of value.plaintexts) if (p !== null) transfer.push(p);
  const result: TaskResult<OpenLongTermOut> = { ok: true, value };
  return Piscina.move({ [Piscina.transferableSymbol]: transfer, [Piscina.valueSymbol]: result } as never);
}
