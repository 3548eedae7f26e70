/**
 * Entry of the HPKE seal helper thread (src/mls/crypto/hpkeSealer.ts): seals each batch it
 * is sent (or prepares its encapsulations) and posts the outcomes back.
 *
 * @example
 * ```ts
 * new Worker(new URL("../../../workers/hpkeSeal.js", import.meta.url))
 * ```
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { prepareBatch, sealBatch, type PrepareRequest, type SealRequest } from "../src/mls/crypto/hpkeSealer.js";

parentPort?.on("message", (request: SealRequest | PrepareRequest) => {
  if ("prepare" in request) {
    const response = prepareBatch(request);
    parentPort?.postMessage(response, [response.packed]);
  } else parentPort?.postMessage(sealBatch(request));
});
parentPort?.postMessage({ ready: true }); // loaded and listening: the helper may take batches
