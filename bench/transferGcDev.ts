/**
 * Does moving ArrayBuffers to a worker and back make the main thread collect? `node
 * dist/bench/transferGcDev.js [mode] [count]`, modes: `roundtrip` (one 2 MiB buffer, reused, moved
 * there and back `count` times: bulk decryption's packing buffers), `fresh` (a new 2 MiB buffer
 * each time), `kept-main` / `kept-worker` (`count` plaintexts of 64 KiB kept in batches of 1000,
 * as engine.decrypt's caller keeps them: made on the main thread, or made in a worker and moved
 * here 40 per message). Prints the main thread's full collections and scavenges (perf_hooks),
 * wall and process CPU. Session 13: a packing buffer's round trip adds no collection; the kept
 * plaintexts' collections are the same wherever they were made (bench/results/NOTES.md).
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import { PerformanceObserver, performance } from "node:perf_hooks";

const [mode = "roundtrip", countArg] = process.argv.slice(2);
let major = 0;
let minor = 0;
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === 4) major++;
    else minor++;
  }
});
observer.observe({ entryTypes: ["gc"] });

// the worker answers a buffer with the same buffer (moved back), a number with that many fresh 64 KiB plaintexts
const worker = new Worker(
  `const { parentPort } = require("node:worker_threads");
   parentPort.on("message", (m) => {
     if (typeof m !== "number") return parentPort.postMessage(m, [m]);
     const out = [];
     for (let i = 0; i < m; i++) { const b = Buffer.allocUnsafeSlow(65536); b.fill(1); out.push(b.buffer); }
     parentPort.postMessage(out, out);
   });`,
  { eval: true },
);
const reply = <T>(): Promise<T> => new Promise((resolve) => worker.once("message", resolve));

const CHUNK = 2 * 1024 * 1024;
const t0 = performance.now();
const c0 = process.cpuUsage();
let count: number;
if (mode === "roundtrip" || mode === "fresh") {
  count = Number(countArg ?? 2000);
  let buffer = new ArrayBuffer(CHUNK);
  for (let i = 0; i < count; i++) {
    if (mode === "fresh") buffer = new ArrayBuffer(CHUNK);
    worker.postMessage(buffer, [buffer]);
    buffer = await reply<ArrayBuffer>();
  }
} else if (mode === "kept-main" || mode === "kept-worker") {
  count = Number(countArg ?? 5000);
  for (let batch = 0; batch < count / 1000; batch++) {
    const kept: Uint8Array[] = [];
    while (kept.length < 1000) {
      if (mode === "kept-main") {
        for (let i = 0; i < 40; i++) kept.push(new Uint8Array(Buffer.allocUnsafeSlow(65536).fill(1).buffer));
      } else {
        worker.postMessage(40);
        for (const b of await reply<ArrayBuffer[]>()) kept.push(new Uint8Array(b));
      }
    }
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
await new Promise((resolve) => setTimeout(resolve, 100)); // the observer's last entries
const cpu = process.cpuUsage(c0);
process.stdout.write(`${mode} x${count}: ${major} full collections, ${minor} scavenges on the main thread, wall ${(performance.now() - t0).toFixed(0)} ms, process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms\n`);
observer.disconnect();
await worker.terminate();
