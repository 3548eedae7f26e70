/**
 * The results of one chunk of bulk long-term decryption (src/engine/poolDecrypt.ts): per packed
 * segment, the worker copied its small plaintexts into one buffer of exactly their bytes, made in
 * the worker (src/engine/worker/longTerm.ts), and moved it back with the segments. The plaintexts
 * are handed out as views into that buffer (no copy, no pass over them on the main thread; after
 * the transfer no worker can reach it). With the addon the worker opens a large value in place in
 * its segment and wipes the rest of that segment: such a segment (`held`) is handed out, its
 * plaintexts as views into it. The other packed segments (only what the callers sent, never
 * written by the worker) go back to the packing buffers: the main thread packs the next chunks
 * into memory it has touched before (session 13: fresh 64 KiB segments per chunk cost the main
 * thread page faults and malloc consolidation, bench/results/NOTES.md).
 *
 * @module
 */
import { LTS_TAG_SIZE } from "../constants.js";
import type { POOL_OUTPUT_SEGMENT_BYTES } from "../constants.js";
import { ErrorCode, InternalError, errorFromData } from "../errors.js";
import { giveBack } from "./packBuffers.js";
import { LAYOUT_STRIDE, inSegment } from "./worker/longTerm.js";
import type { OpenLongTermOut } from "./worker/longTerm.js";

/**
 * Puts each value of a chunk (the items `which`, packed as `layout` in segments ending at
 * `ends`) into `results`: its error, its large plaintext, or a view into its segment's output
 * buffer, which holds exactly the plaintexts of its values (never a failed value's bytes; at most
 * {@link POOL_OUTPUT_SEGMENT_BYTES}, the bound of a segment's packed bytes). Throws
 * `InternalError(WORKER_FAILED)` when the worker's answer does not fit the layout, after zeroing
 * all of it (the job fails: none of its plaintexts reaches a caller).
 *
 * @example
 * ```ts
 * handOut(out, layout, ends, chunk.which, results)
 * ```
 */
export function handOut(out: Exclude<OpenLongTermOut, { miss: true }>, layout: Uint32Array, ends: Uint32Array, which: readonly number[], results: Array<Uint8Array | Error>): void {
  try {
    place(out, layout, ends, which, results);
  } catch (e) {
    for (const buffer of out.outputs ?? []) new Uint8Array(buffer).fill(0);
    for (const [, buffer] of out.large) new Uint8Array(buffer).fill(0);
    out.segments.forEach((segment, s) => out.held?.[s] === true && new Uint8Array(segment).fill(0));
    throw e;
  }
}

function place(out: Exclude<OpenLongTermOut, { miss: true }>, layout: Uint32Array, ends: Uint32Array, which: readonly number[], results: Array<Uint8Array | Error>): void {
  if (out.segments.length !== ends.length || out.outputs.length !== ends.length || out.held.length !== ends.length) throw new InternalError(ErrorCode.WorkerFailed, "worker returned other segments than it was sent");
  const failed = out.failures.length === 0 ? undefined : new Map(out.failures);
  const large = out.large.length === 0 ? undefined : new Map(out.large);
  let k = 0;
  for (let s = 0; s < ends.length; s++) {
    const buffer = out.outputs[s] as ArrayBuffer;
    const segment = out.held[s] === true ? (out.segments[s] as ArrayBuffer) : undefined;
    let at = 0;
    for (const end = ends[s] as number; k < end; k++) {
      const i = which[k] as number;
      const error = failed?.get(k);
      const length = (layout[k * LAYOUT_STRIDE + 2] as number) - LTS_TAG_SIZE;
      if (error !== undefined) {
        results[i] = errorFromData(error);
      } else if (inSegment(length)) {
        if (at + length > buffer.byteLength) throw new InternalError(ErrorCode.WorkerFailed, "worker returned too few plaintext bytes");
        results[i] = new Uint8Array(buffer, at, length);
        at += length;
      } else if (length === 0) {
        results[i] = new Uint8Array(0);
      } else if (segment !== undefined) {
        // opened in place: where its ciphertext was packed
        const ctAt = layout[k * LAYOUT_STRIDE + 1] as number;
        if (ctAt + length > segment.byteLength) throw new InternalError(ErrorCode.WorkerFailed, "worker returned no plaintext");
        results[i] = new Uint8Array(segment, ctAt, length);
      } else {
        const own = large?.get(k);
        if (own === undefined || own.byteLength !== length) throw new InternalError(ErrorCode.WorkerFailed, "worker returned no plaintext");
        results[i] = new Uint8Array(own);
      }
    }
    // exactly its values' plaintexts: a kept view pins no byte of anything else (and at most the
    // segment's packed bytes, POOL_OUTPUT_SEGMENT_BYTES)
    if (at !== buffer.byteLength) throw new InternalError(ErrorCode.WorkerFailed, "worker returned more plaintext bytes than its values");
  }
  // every value placed: the packed segments the worker did not write are packing buffers again
  out.segments.forEach((segment, s) => out.held[s] !== true && giveBack(segment));
}
