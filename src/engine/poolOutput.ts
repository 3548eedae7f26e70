/**
 * The results of one chunk of bulk long-term decryption (src/engine/poolDecrypt.ts): the worker
 * wrote each small plaintext in place into the segment its message was packed in, one after the
 * other from the segment's start, zeroed the rest and moved the segments back
 * (src/engine/worker/longTerm.ts). A segment that holds plaintexts becomes theirs: they are
 * handed out as views into it (no copy; the engine never uses it again, and after the transfer
 * no worker can reach it). A segment of no plaintext (only what the caller sent) goes back to
 * the packing buffers. In place, so the main thread makes no pass over a plaintext (a copy and
 * a zeroing per value measured slower: bench/results/NOTES.md).
 *
 * @module
 */
import { LTS_TAG_SIZE, POOL_OUTPUT_SEGMENT_BYTES } from "../constants.js";
import { ErrorCode, InternalError, errorFromData } from "../errors.js";
import { giveBack } from "./packBuffers.js";
import { LAYOUT_STRIDE, inSegment } from "./worker/longTerm.js";
import type { OpenLongTermOut } from "./worker/longTerm.js";

/**
 * Puts each value of a chunk (the items `which`, packed as `layout` in segments ending at
 * `ends`) into `results`: its error, its large plaintext, or a view into its segment, which
 * holds only the plaintexts of this call and group (never a failed value's bytes). A segment
 * larger than {@link POOL_OUTPUT_SEGMENT_BYTES} (a value with a large aad) is not handed out:
 * its plaintexts are copied into buffers of their own and it is zeroed. Throws
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
    for (const buffer of out.segments) new Uint8Array(buffer).fill(0);
    for (const [, buffer] of out.large) new Uint8Array(buffer).fill(0);
    throw e;
  }
}

function place(out: Exclude<OpenLongTermOut, { miss: true }>, layout: Uint32Array, ends: Uint32Array, which: readonly number[], results: Array<Uint8Array | Error>): void {
  if (out.segments.length !== ends.length || out.written.length !== ends.length) throw new InternalError(ErrorCode.WorkerFailed, "worker returned other segments than it was sent");
  const failed = out.failures.length === 0 ? undefined : new Map(out.failures);
  const large = out.large.length === 0 ? undefined : new Map(out.large);
  let k = 0;
  for (let s = 0; s < ends.length; s++) {
    const buffer = out.segments[s] as ArrayBuffer;
    const written = out.written[s] as number;
    if (written > buffer.byteLength) throw new InternalError(ErrorCode.WorkerFailed, "worker wrote past its segment");
    // a segment past the bound would keep more memory alive than a caller was told: copy out of it
    const copy = written > 0 && buffer.byteLength > POOL_OUTPUT_SEGMENT_BYTES;
    const view = copy ? new Uint8Array(buffer) : undefined;
    let at = 0;
    for (const end = ends[s] as number; k < end; k++) {
      const i = which[k] as number;
      const error = failed?.get(k);
      const length = (layout[k * LAYOUT_STRIDE + 2] as number) - LTS_TAG_SIZE;
      if (error !== undefined) {
        results[i] = errorFromData(error);
      } else if (inSegment(length)) {
        if (at + length > written) throw new InternalError(ErrorCode.WorkerFailed, "worker returned too few plaintext bytes");
        results[i] = view === undefined ? new Uint8Array(buffer, at, length) : view.slice(at, at + length);
        at += length;
      } else if (length === 0) {
        results[i] = new Uint8Array(0);
      } else {
        const own = large?.get(k);
        if (own === undefined || own.byteLength !== length) throw new InternalError(ErrorCode.WorkerFailed, "worker returned no plaintext");
        results[i] = new Uint8Array(own);
      }
    }
    if (at !== written) throw new InternalError(ErrorCode.WorkerFailed, "worker returned more plaintext bytes than its values");
    view?.fill(0);
    // no plaintext in it (none written, or zeroed above): a packing buffer again
    if (written === 0 || copy) giveBack(buffer);
  }
}
