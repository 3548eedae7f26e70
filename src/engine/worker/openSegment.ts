/**
 * Opening one packed segment of a bulk long-term task in a worker (src/engine/worker/longTerm.ts
 * has the task, its layout and the key cache): the small values into one buffer of exactly their
 * plaintexts; the large ones in place in the segment with the addon, else each into a buffer of
 * its own.
 *
 * @module
 */
import { LTS_TAG_SIZE, POOL_OWN_BUFFER_BYTES } from "../../constants.js";
import { concatBytes } from "../../bytes.js";
import { toErrorData } from "../../errors.js";
import type { ErrorData } from "../../errors.js";
import { authenticationFailed, openValue, openValueInto } from "../openValue.js";
import type { CachedKey, OpenLongTermTask } from "./longTerm.js";

/** Numbers per item in {@link OpenLongTermTask.layout}. @example `layout[5 * i + 1]` is item i's ciphertext offset in its segment */
export const LAYOUT_STRIDE = 5;

/**
 * Whether a plaintext of `length` bytes is written back into its segment: one not empty and
 * under {@link POOL_OWN_BUFFER_BYTES} (a larger one moves in a buffer of its own). The worker and
 * the engine (packing the segments, reading them back) decide by this alone, so they agree on
 * what a segment holds.
 *
 * @example
 * ```ts
 * inSegment(1024) // true; inSegment(0) and inSegment(8192) false
 * ```
 */
export function inSegment(length: number): boolean {
  return length > 0 && length < POOL_OWN_BUFFER_BYTES;
}

/** One task's keys and what its segments gave besides their outputs. @example `{ task, keys, large: [], failures: [] }` */
export interface Batch {
  readonly task: OpenLongTermTask;
  readonly keys: readonly CachedKey[];
  readonly large: Array<[number, ArrayBuffer]>;
  readonly failures: Array<[number, ErrorData]>;
}

/** Packed item `i` of a segment's bytes: where its parts sit, its aad and its key. */
function itemAt(batch: Batch, bytes: Uint8Array, i: number): { nonceAt: number; ctAt: number; ctEnd: number; aad: Uint8Array; key: CachedKey } {
  const { layout, groupId } = batch.task;
  const at = i * LAYOUT_STRIDE;
  const ctAt = layout[at + 1] as number;
  const ctEnd = ctAt + (layout[at + 2] as number);
  const aadLength = layout[at + 3] as number;
  const aad = aadLength === 0 ? groupId : concatBytes(groupId, bytes.subarray(ctEnd, ctEnd + aadLength));
  return { nonceAt: layout[at] as number, ctAt, ctEnd, aad, key: batch.keys[layout[at + 4] as number] as CachedKey };
}

/** A large item (or an empty one): its plaintext in a buffer of its own, moved back whole. */
function openLarge(batch: Batch, bytes: Uint8Array, i: number): void {
  const { nonceAt, ctAt, ctEnd, aad, key } = itemAt(batch, bytes, i);
  let body: Uint8Array;
  try {
    body = openValue(key, bytes, nonceAt, ctAt, ctEnd, aad);
  } catch (e) {
    batch.failures.push([i, toErrorData(e)]);
    return;
  }
  // the plaintext owns its buffer (openValue) and moves whole
  if (body.length > 0) batch.large.push([i, body.buffer as ArrayBuffer]);
}

/** What a segment's open gave: its small plaintexts' buffer, and whether the segment now holds large plaintexts in place. */
export interface SegmentOutput {
  readonly output: Uint8Array;
  readonly held: boolean;
}

/**
 * A segment's items `[from, to)` with the addon (src/nativeAead.ts): the small plaintexts opened
 * straight into one buffer of exactly their bytes, made here; a large one opened in place, over
 * its own ciphertext in the segment. The segment then holds its large plaintexts and zeros
 * (everything else wiped) and is handed out: its memory came from the main thread's allocator,
 * which reuses what earlier results freed, where a buffer made here came from this thread's
 * arena, which glibc gives back to the kernel (MADV_DONTNEED) as results are freed, so each
 * large plaintext faulted its pages in afresh (~8 faults a 64 KiB value, 11 us each on this VM:
 * bench/results/NOTES.md, session 27). A failed value's bytes are wiped by the addon and the next
 * value written over them; the small buffer is cut to what was written.
 *
 * @example
 * ```ts
 * const { output, held } = openSegmentInPlace(batch, new Uint8Array(segment), from, ends[s])
 * ```
 */
export function openSegmentInPlace(batch: Batch, bytes: Uint8Array, from: number, to: number): SegmentOutput {
  const { layout } = batch.task;
  let room = 0;
  for (let i = from; i < to; i++) {
    const length = (layout[i * LAYOUT_STRIDE + 2] as number) - LTS_TAG_SIZE;
    if (inSegment(length)) room += length;
  }
  const output = room === 0 ? new Uint8Array(0) : new Uint8Array(Buffer.allocUnsafeSlow(room).buffer, 0, room);
  let written = 0;
  // [start, end) of each large plaintext left in place, in segment order
  const kept: number[] = [];
  try {
    for (let i = from; i < to; i++) {
      const length = (layout[i * LAYOUT_STRIDE + 2] as number) - LTS_TAG_SIZE;
      if (length === 0) {
        openLarge(batch, bytes, i); // checks the tag; nothing to hand back
        continue;
      }
      const large = !inSegment(length);
      const { nonceAt, ctAt, ctEnd, aad, key } = itemAt(batch, bytes, i);
      let opened: boolean;
      try {
        // a large value over its own ciphertext, a small one into the segment's output
        opened = openValueInto(key, bytes, nonceAt, ctAt, ctEnd, aad, large ? bytes : output, large ? ctAt : written);
      } catch (e) {
        batch.failures.push([i, toErrorData(e)]);
        continue;
      }
      if (!opened) batch.failures.push([i, toErrorData(authenticationFailed())]);
      else if (large) kept.push(ctAt, ctAt + length);
      else written += length;
    }
  } catch (e) {
    output.fill(0);
    bytes.fill(0);
    throw e;
  }
  if (kept.length > 0) wipeAround(bytes, kept);
  if (written === room) return { output, held: kept.length > 0 };
  // failures: the unwritten tail never leaves this thread
  const exact = output.slice(0, written);
  output.fill(0);
  return { output: exact, held: kept.length > 0 };
}

/** Zeroes every byte of `bytes` outside the ranges `kept` (pairs of start and end, in order). */
function wipeAround(bytes: Uint8Array, kept: readonly number[]): void {
  let at = 0;
  for (let r = 0; r < kept.length; r += 2) {
    bytes.fill(0, at, kept[r] as number);
    at = kept[r + 1] as number;
  }
  bytes.fill(0, at);
}

/**
 * A segment's items `[from, to)` with node:crypto: each small plaintext comes in a buffer of
 * node's, copied into one buffer of exactly their bytes, made here, and zeroed.
 *
 * @example
 * ```ts
 * const { output } = openSegmentCopied(batch, new Uint8Array(segment), from, ends[s])
 * ```
 */
export function openSegmentCopied(batch: Batch, bytes: Uint8Array, from: number, to: number): SegmentOutput {
  // the small plaintexts of the segment, until its output buffer is made
  const bodies: Uint8Array[] = [];
  let room = 0;
  try {
    for (let i = from; i < to; i++) {
      const length = (batch.task.layout[i * LAYOUT_STRIDE + 2] as number) - LTS_TAG_SIZE;
      if (!inSegment(length)) {
        openLarge(batch, bytes, i);
        continue;
      }
      const { nonceAt, ctAt, ctEnd, aad, key } = itemAt(batch, bytes, i);
      try {
        const body = openValue(key, bytes, nonceAt, ctAt, ctEnd, aad);
        bodies.push(body);
        room += body.length;
      } catch (e) {
        batch.failures.push([i, toErrorData(e)]);
      }
    }
    const output = room === 0 ? new Uint8Array(0) : new Uint8Array(Buffer.allocUnsafeSlow(room).buffer, 0, room);
    let w = 0;
    for (const body of bodies) {
      output.set(body, w);
      w += body.length;
    }
    return { output, held: false };
  } finally {
    for (const body of bodies) body.fill(0);
  }
}
