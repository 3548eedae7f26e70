/**
 * Opening one packed segment of a bulk long-term task in a worker (src/engine/worker/longTerm.ts
 * has the task, its layout and the key cache): the small values into one buffer of exactly their
 * plaintexts, the large ones each into a buffer of its own.
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

/**
 * A segment's items `[from, to)` with the addon (src/nativeAead.ts): the small plaintexts opened straight into one
 * buffer of exactly their bytes, made here (this thread pays its allocation and first-touch
 * faults, not the busy main thread). A failed value's bytes are wiped by the addon and the next
 * value written over them; the buffer is cut to what was written.
 *
 * @example
 * ```ts
 * outputs.push(openSegmentInPlace(batch, new Uint8Array(segment), from, ends[s]).buffer)
 * ```
 */
export function openSegmentInPlace(batch: Batch, bytes: Uint8Array, from: number, to: number): Uint8Array {
  const { layout } = batch.task;
  let room = 0;
  for (let i = from; i < to; i++) {
    const length = (layout[i * LAYOUT_STRIDE + 2] as number) - LTS_TAG_SIZE;
    if (inSegment(length)) room += length;
  }
  const output = room === 0 ? new Uint8Array(0) : new Uint8Array(Buffer.allocUnsafeSlow(room).buffer, 0, room);
  let written = 0;
  try {
    for (let i = from; i < to; i++) {
      const length = (layout[i * LAYOUT_STRIDE + 2] as number) - LTS_TAG_SIZE;
      if (!inSegment(length)) {
        openLarge(batch, bytes, i);
        continue;
      }
      const { nonceAt, ctAt, ctEnd, aad, key } = itemAt(batch, bytes, i);
      let opened: boolean;
      try {
        opened = openValueInto(key, bytes, nonceAt, ctAt, ctEnd, aad, output, written);
      } catch (e) {
        batch.failures.push([i, toErrorData(e)]);
        continue;
      }
      if (opened) written += length;
      else batch.failures.push([i, toErrorData(authenticationFailed())]);
    }
  } catch (e) {
    output.fill(0);
    throw e;
  }
  if (written === room) return output;
  // failures: the unwritten tail never leaves this thread
  const exact = output.slice(0, written);
  output.fill(0);
  return exact;
}

/**
 * A segment's items `[from, to)` with node:crypto: each small plaintext comes in a buffer of
 * node's, copied into one buffer of exactly their bytes, made here, and zeroed.
 *
 * @example
 * ```ts
 * outputs.push(openSegmentCopied(batch, new Uint8Array(segment), from, ends[s]).buffer)
 * ```
 */
export function openSegmentCopied(batch: Batch, bytes: Uint8Array, from: number, to: number): Uint8Array {
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
    return output;
  } finally {
    for (const body of bodies) body.fill(0);
  }
}
