/**
 * Packing buffers of bulk long-term decryption (src/engine/poolDecrypt.ts), kept for reuse.
 *
 * @module
 */
import { SPARE_PACK_BYTES } from "../constants.js";

/**
 * Packing buffers that came back from the workers holding no plaintext (segments of large or
 * failed values only, holding what the callers sent, or a segment copied out of and zeroed), for
 * the next chunks: memory the process has
 * touched before (on a loaded machine a fresh page costs more than copying it), kept up to
 * {@link SPARE_PACK_BYTES}. A segment that holds a plaintext handed out never comes here.
 */
const spare: ArrayBuffer[] = [];
let spareBytes = 0;

/**
 * A buffer of at least `size` bytes: the smallest spare one that fits and has at most `max`
 * bytes, else a fresh one of `size` bytes.
 *
 * @example
 * ```ts
 * const packed = new Uint8Array(takeBuffer(size, POOL_OUTPUT_SEGMENT_BYTES))
 * ```
 */
export function takeBuffer(size: number, max = Infinity): ArrayBuffer {
  let best = -1;
  for (let k = 0; k < spare.length; k++) {
    const length = (spare[k] as ArrayBuffer).byteLength;
    if (length >= size && length <= max && (best < 0 || length < (spare[best] as ArrayBuffer).byteLength)) best = k;
  }
  if (best >= 0) {
    const [buffer] = spare.splice(best, 1) as [ArrayBuffer];
    spareBytes -= buffer.byteLength;
    return buffer;
  }
  // uninitialised is fine: the packed bytes are written before use, and a worker zeroes all of
  // a segment but the plaintexts it writes before the segment comes back
  return Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
}

/**
 * Keeps a packing buffer back from a worker for the next chunks (up to {@link SPARE_PACK_BYTES}).
 * It must hold no plaintext.
 *
 * @example
 * ```ts
 * if (written === 0) giveBack(segment)
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
  return spare;
}
