/**
 * Long-term decryption on the main thread: a small batch whole (src/engine/decryptStep.ts) and
 * the main thread's share of a pooled batch in slices while the workers open the rest
 * (src/engine/poolDecrypt.ts). Both make the library's `openLongTerm` checks in its order, with
 * its errors, then the workers' per-value open on a cached key object (src/engine/openValue.ts: a
 * third less main-thread CPU per 16 KiB value than `openLongTerm`, which prepares the raw key and
 * checks every argument again per value). Both read the caller's bytes in place (no copy).
 *
 * @module
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { LTS_TAG_SIZE, MAIN_SHARE_MIN_MEAN_BYTES, MAIN_SLICE_BYTES, MAIN_SLICE_VALUES, POOL_MAIN_SHARE, POOL_OUTPUT_SEGMENT_BYTES } from "../constants.js";
import { concatBytes, equalBytesAt } from "../bytes.js";
import { errorFromData, toErrorData } from "../errors.js";
import type { ValidationError } from "../errors.js";
import { otherGroupCiphertext, secretForEpoch } from "../lts/secret.js";
import type { LongTermSecret } from "../lts/secret.js";
import { nativeAead } from "../nativeAead.js";
import { authenticationFailed, openValue, openValueInto, openingKey } from "./openValue.js";
import { inSegment } from "./worker/longTerm.js";
import type { OpeningKey } from "./openValue.js";
import type { DecryptItem } from "./jobs.js";

/**
 * Opens the long-term items `which` with `secrets`: the library's `openLongTerm` checks, in its
 * order, on the peeked positions (no ciphertext decoded again); an error becomes what a worker
 * would hand back (same class, code and message).
 *
 * @example
 * ```ts
 * openAll(groupId, held.secrets, job.items, longTerm, results)
 * ```
 */
export function openAll(groupId: Uint8Array, secrets: readonly LongTermSecret[], items: readonly DecryptItem[], which: readonly number[], results: Array<Uint8Array | Error>): void {
  openRangeFast(groupId, secrets, items, which, 0, which.length, results);
}

/**
 * {@link openAll} in slices of at most {@link MAIN_SLICE_VALUES} values or
 * {@link MAIN_SLICE_BYTES} bytes, yielding to the event loop between slices: the pool's replies
 * are handled (and its next chunks packed) while the main thread opens its share.
 *
 * @example
 * ```ts
 * await openSliced(groupId, secrets, items, mainShare, results)
 * ```
 */
export async function openSliced(groupId: Uint8Array, secrets: readonly LongTermSecret[], items: readonly DecryptItem[], which: readonly number[], results: Array<Uint8Array | Error>): Promise<void> {
  let from = 0;
  while (from < which.length) {
    let to = from;
    let bytes = 0;
    while (to < which.length && to - from < MAIN_SLICE_VALUES && bytes < MAIN_SLICE_BYTES) bytes += (items[which[to++] as number] as DecryptItem).message.length;
    openRangeFast(groupId, secrets, items, which, from, to, results);
    from = to;
    if (from < which.length) await yieldToLoop();
  }
}

/** Opening keys of the secrets the main thread's shares used (made once per secret object held). */
const openingKeys = new WeakMap<LongTermSecret, OpeningKey>();

function openingKeyOf(secret: LongTermSecret): OpeningKey {
  let key = openingKeys.get(secret);
  if (key === undefined) openingKeys.set(secret, (key = openingKey(secret.ciphersuite, secret.value)));
  return key;
}

/**
 * {@link openRange} without the library's per-call work (argument checks the peek has made,
 * views of the ciphertext, the key prepared again for every value): the library's checks in its
 * order and with its errors, then the open on a cached key (src/engine/openValue.ts). With the
 * addon a small plaintext is opened straight into a shared buffer ({@link Slab}) and handed out
 * as a view into it, as the pool's are: a buffer of one's own costs more than a 1 KiB open.
 */
function openRangeFast(groupId: Uint8Array, secrets: readonly LongTermSecret[], items: readonly DecryptItem[], which: readonly number[], from: number, to: number, results: Array<Uint8Array | Error>): void {
  let lastEpoch: bigint | undefined;
  let lastSecret: LongTermSecret | ValidationError | undefined;
  const slab: Slab = { bytes: EMPTY, at: 0 };
  for (let k = from; k < to; k++) {
    const i = which[k] as number;
    const item = items[i] as DecryptItem;
    const m = item.message;
    // as openLongTerm: the group first, then the epoch's secret, then that secret's group
    if (!equalBytesAt(groupId, m, item.groupAt, item.groupLength)) {
      results[i] = otherGroupCiphertext();
      continue;
    }
    if (item.epoch !== lastEpoch || lastSecret === undefined) {
      lastEpoch = item.epoch;
      lastSecret = secretForEpoch(secrets, groupId, item.epoch);
    }
    if (lastSecret instanceof Error) {
      results[i] = lastSecret;
      continue;
    }
    const aad = item.aad === undefined || item.aad.length === 0 ? groupId : concatBytes(groupId, item.aad);
    const length = m.length - item.ctAt - LTS_TAG_SIZE;
    try {
      results[i] = nativeAead !== undefined && inSegment(length) ? openIntoSlab(slab, openingKeyOf(lastSecret), items, which, k, to, aad) : openValue(openingKeyOf(lastSecret), m, item.nonceAt, item.ctAt, m.length, aad);
    } catch (e) {
      results[i] = errorFromData(toErrorData(e));
    }
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Where a slice's small plaintexts go: one zeroed buffer of at most
 * {@link POOL_OUTPUT_SEGMENT_BYTES} at a time (a caller keeping one plaintext keeps at most that
 * alive, as with the pool's outputs), sized to the small values ahead of it in the slice, so no
 * byte of it is anything but a plaintext handed out or zero.
 */
interface Slab {
  bytes: Uint8Array;
  at: number;
}

/** Opens item `which[k]` into the slab (a new one when it lacks room) and returns its view. */
function openIntoSlab(slab: Slab, key: OpeningKey, items: readonly DecryptItem[], which: readonly number[], k: number, to: number, aad: Uint8Array): Uint8Array {
  const item = items[which[k] as number] as DecryptItem;
  const m = item.message;
  const length = m.length - item.ctAt - LTS_TAG_SIZE;
  if (slab.at + length > slab.bytes.length) {
    let room = 0;
    for (let j = k; j < to; j++) {
      const next = items[which[j] as number] as DecryptItem;
      const size = next.message.length - next.ctAt - LTS_TAG_SIZE;
      if (!inSegment(size) || next.ctAt < 0) continue;
      if (room + size > POOL_OUTPUT_SEGMENT_BYTES) break;
      room += size;
    }
    slab.bytes = new Uint8Array(Math.max(room, length));
    slab.at = 0;
  }
  // the addon wipes what it wrote when the tag fails: the slab's next value goes over zeros
  if (!openValueInto(key, m, item.nonceAt, item.ctAt, m.length, aad, slab.bytes, slab.at)) throw authenticationFailed();
  const view = slab.bytes.subarray(slab.at, slab.at + length);
  slab.at += length;
  return view;
}

/**
 * Where the main thread's share of a pooled batch `which` starts: its tail of at most
 * {@link POOL_MAIN_SHARE} of the batch's message bytes, or none (`which.length`) when the
 * values average fewer than {@link MAIN_SHARE_MIN_MEAN_BYTES}.
 *
 * @example
 * ```ts
 * const cut = mainShareStart(items, which) // which.slice(cut) opens on the main thread
 * ```
 */
export function mainShareStart(items: readonly DecryptItem[], which: readonly number[]): number {
  const bytes = (k: number): number => (items[which[k] as number] as DecryptItem).message.length;
  let total = 0;
  for (let k = 0; k < which.length; k++) total += bytes(k);
  if (total < MAIN_SHARE_MIN_MEAN_BYTES * which.length) return which.length;
  let cut = which.length;
  let tail = 0;
  while (cut > 0 && tail + bytes(cut - 1) <= total * POOL_MAIN_SHARE) tail += bytes(--cut);
  return cut;
}
