/**
 * Packing of bulk long-term decryption (src/engine/poolDecrypt.ts): a chunk's messages into
 * segments, and the packing buffers kept for reuse.
 *
 * @module
 */
import { LTS_TAG_SIZE, POOL_OUTPUT_SEGMENT_BYTES, SPARE_PACK_BYTES } from "../constants.js";
import type { DecryptItem } from "./jobs.js";
import { LAYOUT_STRIDE, inSegment } from "./worker/longTerm.js";

/**
 * Packing buffers that came back from the workers (a segment holds only what the callers sent:
 * the plaintexts go to buffers of their own), for the next chunks: memory the main thread has
 * touched before (on a loaded machine a fresh page costs more than copying into it, and a fresh
 * 64 KiB malloc consolidates glibc's fastbins first), kept up to {@link SPARE_PACK_BYTES}.
 */
const spare: ArrayBuffer[] = [];
let spareBytes = 0;

/**
 * A buffer of at least `size` bytes: the smallest spare one that fits, else a fresh one of
 * `size` bytes. Never handed to a caller, so its length past `size` pins nothing.
 *
 * @example
 * ```ts
 * const packed = new Uint8Array(takeBuffer(size))
 * ```
 */
export function takeBuffer(size: number): ArrayBuffer {
  let best = -1;
  for (let k = 0; k < spare.length; k++) {
    const length = (spare[k] as ArrayBuffer).byteLength;
    if (length >= size && (best < 0 || length < (spare[best] as ArrayBuffer).byteLength)) best = k;
  }
  if (best >= 0) {
    const [buffer] = spare.splice(best, 1) as [ArrayBuffer];
    spareBytes -= buffer.byteLength;
    return buffer;
  }
  // uninitialised is fine: the packed bytes are written before use, and the worker reads only them
  return Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
}

/**
 * The buffer of a segment of `size` packed bytes: a kept packing buffer ({@link takeBuffer}), or,
 * for a segment that will be handed out (`handedOut`: the worker opens its large values in
 * place), one of exactly `size` bytes, so a caller's plaintext pins no more than its segment and
 * never a buffer that an earlier call used. The worker wipes every byte of it besides those
 * plaintexts (src/engine/worker/openSegment.ts).
 *
 * @example
 * ```ts
 * packChunk(items, which, epochIndex, segmentBuffer, nativeAead !== undefined)
 * ```
 */
export function segmentBuffer(size: number, handedOut: boolean): ArrayBuffer {
  return handedOut ? (Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer) : takeBuffer(size);
}

/**
 * Keeps a packing buffer back from a worker for the next chunks (up to {@link SPARE_PACK_BYTES}).
 * It must hold no plaintext (a packed segment never does).
 *
 * @example
 * ```ts
 * for (const segment of out.segments) giveBack(segment)
 * ```
 */
export function giveBack(buffer: ArrayBuffer): void {
  if (buffer.byteLength > SPARE_PACK_BYTES) return;
  spare.push(buffer);
  spareBytes += buffer.byteLength;
  while (spareBytes > SPARE_PACK_BYTES) spareBytes -= (spare.shift() as ArrayBuffer).byteLength;
}

/**
 * The packing buffers kept for reuse (for tests: none may hold a plaintext).
 *
 * @example
 * ```ts
 * spareBuffers().every((b) => new Uint8Array(b).every((x) => x === 0))
 * ```
 */
export function spareBuffers(): readonly ArrayBuffer[] {
  return [...spare];
}

/** Bytes an item takes in a packed buffer: its message, then its aad. @example `total += packedBytes(item)` */
export function packedBytes(item: DecryptItem): number {
  return item.message.length + (item.aad?.length ?? 0);
}

/**
 * Packs the items `which` of `items` for a worker task (as src/engine/worker/longTerm.ts reads
 * them: each whole message, then its aad) into segments of up to
 * {@link POOL_OUTPUT_SEGMENT_BYTES} packed bytes (an item larger than that alone in one), each
 * from `buffer(size, handedOut)`. A segment's small plaintexts come back in one buffer, so a
 * caller keeping one of them keeps at most that bound alive. With `largeInPlace` (the addon) a
 * worker opens a large value in place and the segment itself is handed out (`handedOut` true for
 * its buffer); without, a large plaintext comes back in a buffer of its own and a run of large
 * values shares one segment however long. Returns the segments, where each ends (`ends[s]`: one
 * past its last item) and the layout ({@link LAYOUT_STRIDE} numbers per item, offsets within its
 * segment, `epochIndex[k]` naming item k's epoch in the task).
 *
 * @example
 * ```ts
 * const { segments, ends, layout } = packChunk(items, chunk.which, chunk.epochIndex, (size, out) => (out ? fresh(size) : takeBuffer(size)), true)
 * ```
 */
export function packChunk(items: readonly DecryptItem[], which: readonly number[], epochIndex: readonly number[], buffer: (size: number, handedOut: boolean) => ArrayBuffer, largeInPlace: boolean): { segments: ArrayBuffer[]; ends: Uint32Array; layout: Uint32Array } {
  const layout = new Uint32Array(which.length * LAYOUT_STRIDE);
  const ends: number[] = [];
  const sizes: number[] = [];
  const handedOut: boolean[] = [];
  let size = 0;
  let small = false;
  let large = false;
  const close = (k: number): void => {
    ends.push(k);
    sizes.push(size);
    handedOut.push(largeInPlace && large);
    size = 0;
    small = false;
    large = false;
  };
  for (let k = 0; k < which.length; k++) {
    const item = items[which[k] as number] as DecryptItem;
    const bytes = packedBytes(item);
    const ctLength = item.message.length - item.ctAt;
    const isSmall = inSegment(ctLength - LTS_TAG_SIZE);
    // large values opened into buffers of their own: one segment, however long (nothing is
    // handed out of it; one buffer per chunk, reused, as many transfers as before segments at
    // 64 KiB, where 31 per chunk measured slower). Opened in place, the segment is handed out: bounded.
    if (size > 0 && size + bytes > POOL_OUTPUT_SEGMENT_BYTES && (small || isSmall || largeInPlace)) close(k);
    const at = k * LAYOUT_STRIDE;
    layout[at] = size + item.nonceAt;
    layout[at + 1] = size + item.ctAt;
    layout[at + 2] = ctLength;
    layout[at + 3] = item.aad?.length ?? 0;
    layout[at + 4] = epochIndex[k] as number;
    size += bytes;
    if (isSmall) small = true;
    else if (ctLength > LTS_TAG_SIZE) large = true;
  }
  if (size > 0) close(which.length);
  const segments: ArrayBuffer[] = [];
  let k = 0;
  for (let s = 0; s < ends.length; s++) {
    const data = buffer(sizes[s] as number, handedOut[s] as boolean);
    segments.push(data);
    const packed = new Uint8Array(data);
    let at = 0;
    for (const end = ends[s] as number; k < end; k++) {
      const item = items[which[k] as number] as DecryptItem;
      // the whole message in one copy: its ciphertext ends it, the aad follows
      packed.set(item.message, at);
      at += item.message.length;
      if (item.aad !== undefined) {
        packed.set(item.aad, at);
        at += item.aad.length;
      }
    }
  }
  return { segments, ends: Uint32Array.from(ends), layout };
}
