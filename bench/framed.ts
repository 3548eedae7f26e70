/**
 * Length-prefixed byte lists for the dev scripts' on-disk fixtures (a u32 big-endian length before
 * each item). Not a wire format: only our own cache files, written and read by the same script.
 *
 * @module
 */

/**
 * Packs byte strings, each after its u32 length.
 *
 * @example
 * ```ts
 * await writeFile(file, packFramed([a, b]))
 * ```
 */
export function packFramed(list: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(list.reduce((sum, b) => sum + 4 + b.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const b of list) {
    view.setUint32(at, b.length);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

/**
 * Unpacks what {@link packFramed} wrote, as views into `bytes`; a truncated item is an error.
 *
 * @example
 * ```ts
 * const [a, b] = unpackFramed(await readFile(file))
 * ```
 */
export function unpackFramed(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    if (at + 4 > bytes.length) throw new RangeError("framed list: truncated length");
    const n = view.getUint32(at);
    if (at + 4 + n > bytes.length) throw new RangeError("framed list: truncated item");
    out.push(bytes.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}
