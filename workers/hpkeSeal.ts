/**
 * Entry of the HPKE seal helper thread (src/mls/crypto/hpkeSealer.ts): seals each batch it
 * is sent and posts the outcomes back.
 *
 * @example
 * ```ts
 * new Worker(new URL("../../../workers/hpkeSeal.js", import.meta.url))
 * ```
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { sealBatch, type SealRequest } from "../src/mls/crypto/hpkeSealer.js";

parentPort?.on("message", (request: SealRequest) => parentPort?.postMessage(sealBatch(request)));
parentPort?.postMessage({ ready: true }); // loaded and listening: the helper may take batches
