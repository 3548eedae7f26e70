/**
 * Output slots of bulk long-term decryption (src/engine/poolDecrypt.ts): each chunk in flight
 * owns one, a `SharedArrayBuffer` that the engine and one worker both see. The worker writes the
 * chunk's small plaintexts there and the engine copies them into output segments of its own, so
 * the output segments are allocated and freed by the same thread (the main thread) instead of
 * made in a worker, moved, and freed here (bench/results/NOTES.md, session 9). A slot is used by
 * one chunk at a time: taken before its task goes out, given back once the task settled and its
 * plaintexts were copied out and zeroed. A failed task's slot is zeroed and dropped, never reused.
 *
 * @module
 */
import { LTS_TAG_SIZE, POOL_OUTPUT_SEGMENT_BYTES, SPARE_PACK_BYTES } from "../constants.js";
import { ErrorCode, InternalError, errorFromData } from "../errors.js";
import { LAYOUT_STRIDE, inOutputSlot } from "./worker/longTerm.js";
import type { OpenLongTermOut } from "./worker/longTerm.js";

/** One chunk's shared memory, with views made once. @example `segment.set(slot.output.subarray(from, from + bytes))` */
export interface PoolSlot {
  /** The chunk's small plaintexts, written by a worker, copied out and zeroed by the engine. */
  readonly output: Uint8Array;
}

const spare: PoolSlot[] = [];
let spareBytes = 0;
const slotBytes = (slot: PoolSlot): number => slot.output.length;
/** Copied over shared memory to zero it: V8 fills a shared array byte by byte (~40x slower than a copy). */
const ZEROS = new Uint8Array(64 * 1024);

/**
 * Zeroes `view[0, end)` of shared memory.
 *
 * @example
 * ```ts
 * zeroShared(slot.output, written)
 * ```
 */
export function zeroShared(view: Uint8Array, end: number): void {
  for (let at = 0; at < end; at += ZEROS.length) view.set(end - at >= ZEROS.length ? ZEROS : ZEROS.subarray(0, end - at), at);
}

/**
 * A slot with at least `outputBytes` of output: the smallest spare one that fits (all zero), so
 * a small chunk leaves the large slots to large chunks; else a new one (zero-filled by the
 * runtime).
 *
 * @example
 * ```ts
 * const slot = takeSlot(plaintextSize)
 * ```
 */
export function takeSlot(outputBytes: number): PoolSlot {
  let best = -1;
  for (let k = spare.length - 1; k >= 0; k--) {
    const length = slotBytes(spare[k] as PoolSlot);
    if (length >= outputBytes && (best < 0 || length < slotBytes(spare[best] as PoolSlot))) best = k;
  }
  if (best >= 0) {
    const slot = spare.splice(best, 1)[0] as PoolSlot;
    spareBytes -= slotBytes(slot);
    return slot;
  }
  // a little room to spare, so the next chunks of a batch (of about equal bytes) fit it too
  const room = (n: number): number => Math.max(1, Math.ceil(n * 1.25));
  return { output: new Uint8Array(new SharedArrayBuffer(room(outputBytes))) };
}

/**
 * Keeps a slot for the next chunks, up to {@link SPARE_PACK_BYTES} in all (the oldest go first).
 * Its output must be all zero again: no plaintext stays in memory the engine keeps.
 *
 * @example
 * ```ts
 * zeroShared(slot.output, written); giveSlotBack(slot)
 * ```
 */
export function giveSlotBack(slot: PoolSlot): void {
  if (slotBytes(slot) > SPARE_PACK_BYTES) return;
  spare.push(slot);
  spareBytes += slotBytes(slot);
  while (spareBytes > SPARE_PACK_BYTES) spareBytes -= slotBytes(spare.shift() as PoolSlot);
}

/**
 * The slots kept for reuse (for tests: every one's output must be all zero).
 *
 * @example
 * ```ts
 * spareSlots().every((slot) => slot.output.every((b) => b === 0))
 * ```
 */
export function spareSlots(): readonly PoolSlot[] {
  return spare;
}

/**
 * Puts each value of a chunk (the items `which`, packed as `layout`) into `results`: its error,
 * its large plaintext, or a view into an output segment of the engine's own (at most
 * {@link POOL_OUTPUT_SEGMENT_BYTES}) that holds copies of the slot's small plaintexts (the worker
 * wrote them one after the other in item order; each segment is copied in one go). Throws
 * `InternalError(WORKER_FAILED)` when the worker's answer does not fit the layout.
 *
 * @example
 * ```ts
 * handOut(out, slot, layout, chunk.which, results)
 * ```
 */
export function handOut(out: Exclude<OpenLongTermOut, { miss: true }>, slot: PoolSlot, layout: Uint32Array, which: readonly number[], results: Array<Uint8Array | Error>): void {
  const failed = out.failures.length === 0 ? undefined : new Map(out.failures);
  const large = out.large.length === 0 ? undefined : new Map(out.large);
  const plaintextLength = (k: number): number => (layout[k * LAYOUT_STRIDE + 2] as number) - LTS_TAG_SIZE;
  if (out.written > slot.output.length) throw new InternalError(ErrorCode.WorkerFailed, "worker wrote past the output slot");
  // the current segment: its first item's position in `which`, its bytes, and where it starts in the slot
  let first = 0;
  let bytes = 0;
  let from = 0;
  const flush = (end: number): void => {
    if (bytes === 0) return;
    if (from + bytes > out.written) throw new InternalError(ErrorCode.WorkerFailed, "worker returned too few plaintext bytes");
    // exactly its plaintexts: nothing of a failed value (nor anything else) beside them
    const segment = new Uint8Array(Buffer.allocUnsafeSlow(bytes).buffer, 0, bytes);
    segment.set(slot.output.subarray(from, from + bytes));
    let at = 0;
    for (let k = first; k < end; k++) {
      const i = which[k] as number;
      if (results[i] !== undefined) continue; // failed, large or empty: set in the loop below
      const length = plaintextLength(k);
      results[i] = new Uint8Array(segment.buffer, at, length);
      at += length;
    }
    from += bytes;
    bytes = 0;
  };
  for (let k = 0; k < which.length; k++) {
    const i = which[k] as number;
    const error = failed?.get(k);
    const length = plaintextLength(k);
    if (error !== undefined) {
      results[i] = errorFromData(error);
    } else if (inOutputSlot(length)) {
      if (bytes + length > POOL_OUTPUT_SEGMENT_BYTES) flush(k);
      if (bytes === 0) first = k;
      bytes += length;
    } else if (length === 0) {
      results[i] = new Uint8Array(0);
    } else {
      const own = large?.get(k);
      if (own === undefined || own.byteLength !== length) throw new InternalError(ErrorCode.WorkerFailed, "worker returned no plaintext");
      results[i] = new Uint8Array(own);
    }
  }
  flush(which.length);
  if (from !== out.written) throw new InternalError(ErrorCode.WorkerFailed, "worker returned more plaintext bytes than its values");
}
