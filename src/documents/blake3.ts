/**
 * BLAKE3-256, the hash of a document id (p2panda: the id is the BLAKE3 hash of the signed
 * bytes). hash-wasm's WebAssembly BLAKE3 runs 10-25x faster than the pure-JS one of
 * @noble/hashes (measured: a 720 KB commit document, the one that welcomes a member to a group
 * of 1000, 1.7 ms against 25-44 ms; a 216-byte document 0.6 us against 22 us); the pure-JS one
 * stays for runtimes without WebAssembly (`node --jitless`). Both give the same bytes (tested
 * against the BLAKE3 test vectors in test/documents-blake3.test.ts).
 *
 * @module
 */
import { blake3 as blake3Js } from "@noble/hashes/blake3.js";
import { createBLAKE3 } from "hash-wasm";
import type { IHasher } from "hash-wasm";

// One hasher per thread: init, update and digest run synchronously, so no call interleaves
// another's. Made without a top-level await: a module graph with one cannot be loaded by
// require() (piscina loads its worker so; Node 20 aborted the process), so the first hashes of
// a thread, before the WebAssembly module is compiled, run on the pure-JS BLAKE3.
let wasm: IHasher | undefined;
const ready: Promise<"wasm" | "js"> = createBLAKE3(256).then(
  (hasher) => ((wasm = hasher), "wasm" as const),
  () => "js" as const,
);

/**
 * BLAKE3 of `bytes`, 32 bytes, on WebAssembly once this thread has it.
 *
 * @example
 * ```ts
 * const id = blake3(doc.bytes)
 * ```
 */
export function blake3(bytes: Uint8Array): Uint8Array {
  if (wasm === undefined) return blake3Js(bytes);
  wasm.init();
  wasm.update(bytes);
  return wasm.digest("binary");
}

/**
 * The pure-JS BLAKE3 (the fallback of {@link blake3}), for tests that compare both.
 *
 * @example
 * ```ts
 * blake3Fallback(new Uint8Array(0)) // af1349b9...
 * ```
 */
export const blake3Fallback = (bytes: Uint8Array): Uint8Array => blake3Js(bytes);

/**
 * Which implementation {@link blake3} runs on in this thread once it is set up (`"js"` where
 * WebAssembly is unavailable).
 *
 * @example
 * ```ts
 * await blake3Backend() // "wasm"
 * ```
 */
export function blake3Backend(): Promise<"wasm" | "js"> {
  return ready;
}
