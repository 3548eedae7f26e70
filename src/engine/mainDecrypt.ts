/**
 * Long-term decryption on the main thread: a small batch whole (src/engine/decryptStep.ts), and
 * the main thread's share of a pooled batch in slices while the workers open the rest
 * (src/engine/poolDecrypt.ts). Both use the library's `openLongTerm` on the caller's bytes (no
 * copy), so their results and errors are those of the library.
 *
 * @module
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { MAIN_SHARE_MIN_MEAN_BYTES, MAIN_SLICE_BYTES, MAIN_SLICE_VALUES, POOL_MAIN_SHARE } from "../constants.js";
import { errorFromData, toErrorData } from "../errors.js";
import { openLongTerm } from "../lts/encrypt.js";
import type { LongTermSecret } from "../lts/secret.js";
import { longTermCiphertextOf } from "./decrypt.js";
import type { DecryptItem } from "./jobs.js";

const EMPTY = new Uint8Array(0);

/**
 * Opens the long-term items `which` with `secrets`, as the library's `decrypt` does in a worker;
 * an error becomes what a worker would hand back (same class, code and message).
 *
 * @example
 * ```ts
 * openAll(groupId, held.secrets, job.items, longTerm, results)
 * ```
 */
export function openAll(groupId: Uint8Array, secrets: readonly LongTermSecret[], items: readonly DecryptItem[], which: readonly number[], results: Array<Uint8Array | Error>): void {
  openRange(groupId, secrets, items, which, 0, which.length, results);
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
    openRange(groupId, secrets, items, which, from, to, results);
    from = to;
    if (from < which.length) await yieldToLoop();
  }
}

function openRange(groupId: Uint8Array, secrets: readonly LongTermSecret[], items: readonly DecryptItem[], which: readonly number[], from: number, to: number, results: Array<Uint8Array | Error>): void {
  for (let k = from; k < to; k++) {
    const i = which[k] as number;
    const item = items[i] as DecryptItem;
    try {
      results[i] = openLongTerm(secrets, groupId, longTermCiphertextOf(item), item.aad ?? EMPTY);
    } catch (e) {
      results[i] = errorFromData(toErrorData(e));
    }
  }
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
