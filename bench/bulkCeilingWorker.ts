/**
 * The worker thread of bench/bulkCeilingDev.ts: opens its share of the values with node:crypto,
 * each plaintext a fresh buffer moved back to the main thread, from ciphertexts it holds
 * (`held`) or from copies the main thread moves to it (`copied`).
 *
 * @module
 */
import { createDecipheriv, type CipherGCMTypes } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { nativeAead } from "../src/nativeAead.js";

/** What the worker holds from its start. @example `new Worker(url, { workerData: input })` */
export interface CeilingInput {
  /** node:crypto's name of the cipher, and the addon's suite number (src/nativeAead.ts). */
  readonly algorithm: CipherGCMTypes;
  readonly suite: number;
  readonly key: Uint8Array;
  readonly aad: Uint8Array;
  readonly nonces: Uint8Array[];
  readonly tags: Uint8Array[];
  readonly bodies: Uint8Array[];
}

/**
 * A round's work: all held values, or a batch of moved copies from value `from` on (`inPlace`:
 * each opened by the addon over its own ciphertext, then moved back, as the engine's pool does).
 *
 * @example
 * ```ts
 * const task: CeilingTask = { kind: "held" }
 * ```
 */
export type CeilingTask = { readonly kind: "held" } | { readonly kind: "copied"; readonly from: number; readonly ciphertexts: ArrayBuffer[]; readonly inPlace: boolean };

/** Plaintexts of the values from `from` on, each its own buffer (`tagged`: followed by the 16 tag bytes). @example `{ from: 0, plaintexts }` */
export interface CeilingReply {
  readonly from: number;
  readonly plaintexts: ArrayBuffer[];
  readonly tagged?: boolean;
}

const { algorithm, suite, key, aad, nonces, tags, bodies } = workerData as CeilingInput;
const port = parentPort;
if (port === null) throw new Error("bulkCeilingWorker runs as a worker thread");
const BATCH = 50;

function reply(from: number, ciphertexts: readonly Uint8Array[]): void {
  const plaintexts: ArrayBuffer[] = [];
  for (let k = 0; k < ciphertexts.length; k++) {
    const i = from + k;
    const d = createDecipheriv(algorithm, key, nonces[i] as Uint8Array, { authTagLength: 16 });
    d.setAuthTag(tags[i] as Uint8Array);
    d.setAAD(aad);
    const body = d.update(ciphertexts[k] as Uint8Array);
    d.final();
    // a plaintext of 4 KiB or more owns its buffer; a smaller one sits in Node's pool: copied out
    plaintexts.push(body.byteLength === body.buffer.byteLength ? body.buffer : body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  }
  port?.postMessage({ from, plaintexts } satisfies CeilingReply, plaintexts);
}

/** Opens each moved ciphertext || tag in place (the addon) and moves the buffers back. */
function replyInPlace(from: number, sealed: ArrayBuffer[]): void {
  for (let k = 0; k < sealed.length; k++) {
    const bytes = new Uint8Array(sealed[k] as ArrayBuffer);
    if (!nativeAead?.open(suite, key, nonces[from + k] as Uint8Array, bytes, 0, bytes.length, aad, bytes, 0)) throw new Error("the addon refused a value");
  }
  port?.postMessage({ from, plaintexts: sealed, tagged: true } satisfies CeilingReply, sealed);
}

port.on("message", (task: CeilingTask) => {
  if (task.kind === "copied") return task.inPlace ? replyInPlace(task.from, task.ciphertexts) : reply(task.from, task.ciphertexts.map((b) => new Uint8Array(b)));
  for (let from = 0; from < bodies.length; from += BATCH) reply(from, bodies.slice(from, from + BATCH));
});
port.postMessage("ready");
