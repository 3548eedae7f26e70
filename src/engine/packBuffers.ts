/**
 * Packing buffers of bulk long-term decryption (src/engine/poolDecrypt.ts), kept for reuse.
 *
 * @module
 */
import { SPARE_PACK_BYTES } from "../constants.js";

/**
 * Packing buffers that came back from the workers, for the next chunks: memory the process
 * has touched before (on a loaded machine a fresh page costs more than copying it), kept up to
 * {@link SPARE_PACK_BYTES}. They hold only what the callers handed in: messages and associated
 * data, never a plaintext.
 */
const spare: ArrayBuffer[] = [];
let spareBytes = 0;

/**
 * A buffer of at least `size` bytes: the smallest spare one that fits, else a fresh one.
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
  // uninitialised is fine: the packed bytes are written before use and nothing reads past them
  return Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
}

/**
 * Keeps a packing buffer back from a worker for the next chunks (up to {@link SPARE_PACK_BYTES}).
 *
 * @example
 * ```ts
 * giveBack(out.data)
 * ```
 */
export function giveBack(buffer: ArrayBuffer): void {
  if (buffer.byteLength > SPARE_PACK_BYTES) return;
  spare.push(buffer);
  spareBytes += buffer.byteLength;
  while (spareBytes > SPARE_PACK_BYTES) spareBytes -= (spare.shift() as ArrayBuffer).byteLength;
}
