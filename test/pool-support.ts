/**
 * Pools for tests of the engine's worker tasks.
 */
import assert from "node:assert/strict";
import { Piscina } from "piscina";
import { POOL_OUTPUT_SEGMENT_BYTES } from "../src/constants.js";
import { createPool } from "../src/engine/pool.js";
import { inSegment } from "../src/engine/worker/longTerm.js";
import { nativeAead } from "../src/nativeAead.js";

/**
 * A pool that records the tasks it runs; `edit` may change a task before it goes out, and
 * `settle` what its caller sees of the worker's answer (reject it, delay it).
 *
 * @example
 * ```ts
 * const { pool, tasks } = recordingPool(2)
 * ```
 */
export function recordingPool(
  threads: number,
  edit: (task: Record<string, unknown>) => Record<string, unknown> = (t) => t,
  settle: (answer: Promise<unknown>, task: Record<string, unknown>) => Promise<unknown> = (a) => a,
): { pool: Piscina; tasks: Array<Record<string, unknown>> } {
  const real = createPool({ threads });
  const tasks: Array<Record<string, unknown>> = [];
  const pool = new Proxy(real, {
    get(target, prop) {
      if (prop === "run") {
        return (task: Record<string, unknown>, options: object) => {
          const sent = edit(task);
          // a copy of what matters: the data buffer is detached once sent
          tasks.push({ op: sent.op, keys: sent.keys, layout: sent.layout, ends: sent.ends });
          return settle(target.run(sent, options), sent);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { pool, tasks };
}

/**
 * Where the plaintexts live: the small ones as views that tile a buffer of exactly their bytes; a
 * large one alone in its buffer (node:crypto) or, with the addon, in the segment it was opened in
 * place in, beside the other large plaintexts of that segment and zeros only (within the
 * segment's bound unless it is alone). So no byte of a failed value (nor a nonce, a tag, an aad or
 * a ciphertext) sits beside a plaintext handed out.
 *
 * @example
 * ```ts
 * plaintextsAlone(await engine.decrypt(messages))
 * ```
 */
export function plaintextsAlone(results: ReadonlyArray<Uint8Array | Error>): void {
  const byBuffer = new Map<ArrayBufferLike, Uint8Array[]>();
  for (const r of results) {
    if (r instanceof Error) continue;
    assert.equal(r.constructor, Uint8Array);
    // memory of the caller's own: never memory a worker can still reach
    assert.ok(!(r.buffer instanceof SharedArrayBuffer), "not a view into shared memory");
    if (r.length === 0) continue;
    byBuffer.set(r.buffer, [...(byBuffer.get(r.buffer) ?? []), r]);
  }
  assert.ok(byBuffer.size >= 2, "chunk buffers and large plaintexts");
  for (const [buffer, views] of byBuffer) {
    views.sort((a, b) => a.byteOffset - b.byteOffset);
    const large = views.some((v) => !inSegment(v.length));
    if (large && nativeAead !== undefined) {
      assert.ok(views.every((v) => !inSegment(v.length)), "a segment opened in place holds large plaintexts only");
      assert.ok(views.length === 1 || buffer.byteLength <= POOL_OUTPUT_SEGMENT_BYTES, "a shared segment stays within its bound");
      const bytes = new Uint8Array(buffer);
      let end = 0;
      for (const v of views) {
        assert.ok(v.byteOffset >= end, "views do not overlap");
        assert.ok(bytes.subarray(end, v.byteOffset).every((b) => b === 0), "zeros between the plaintexts");
        end = v.byteOffset + v.length;
      }
      assert.ok(bytes.subarray(end).every((b) => b === 0), "zeros after the plaintexts");
      continue;
    }
    let end = 0;
    for (const v of views) {
      assert.equal(v.byteOffset, end, "views tile the buffer");
      end += v.length;
    }
    assert.equal(buffer.byteLength, end, "a buffer of exactly its plaintexts");
  }
}

/**
 * True when `bytes` holds a run of `length` equal bytes other than zero: the tests' plaintexts
 * are such runs (a value filled with one byte), which ciphertexts, headers and zeros are not.
 *
 * @example
 * ```ts
 * assert.ok(!holdsRun(new Uint8Array(spare)), "no plaintext kept")
 * ```
 */
export function holdsRun(bytes: Uint8Array, length = 64): boolean {
  let run = 0;
  for (let k = 1; k < bytes.length; k++) {
    run = bytes[k] !== 0 && bytes[k] === bytes[k - 1] ? run + 1 : 0;
    if (run + 1 >= length) return true;
  }
  return false;
}
