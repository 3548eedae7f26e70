/**
 * Memory figures of a process running an engine: its peak RSS (sampled; the worker threads and
 * LevelDB are in the same process), the main thread's V8 heap and off-heap bytes, and each pool
 * worker's heap and MLS-state cache (worker task `memory`).
 *
 * @module
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Piscina } from "piscina";
import { runOnEachThread } from "../src/engine/pool.js";
import type { WorkerMemory } from "../src/engine/worker/protocol.js";

setFlagsFromString("--expose-gc");
/** A full garbage collection of the main thread's heap. @example `gc()` */
export const gc = runInNewContext("gc") as () => void;

/**
 * Samples the process's RSS every `ms` until `stop()`, which returns the peak seen.
 *
 * @example
 * ```ts
 * const sampler = rssSampler(); await work(); const peak = sampler.stop()
 * ```
 */
export function rssSampler(ms = 20): { stop: () => number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), ms);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

/**
 * Every pool worker's memory, by thread id (one `memory` task on each thread).
 *
 * @example
 * ```ts
 * const workers = await workerMemories(pool) // [{ threadId, heapUsed, external, cacheEntries, cacheBytes }, ...]
 * ```
 */
export async function workerMemories(pool: Piscina): Promise<WorkerMemory[]> {
  return (await runOnEachThread<WorkerMemory>(pool, { op: "memory" })).sort((a, b) => a.threadId - b.threadId);
}

/**
 * The memory breakdown the many-groups rows report (bytes): main-thread heap (after a full GC),
 * main-thread external and array-buffer bytes, and the workers' heaps and cached-state bytes summed.
 *
 * @example
 * ```ts
 * const { mainHeapBytes, workerHeapBytes } = await memoryBreakdown(pool)
 * ```
 */
export async function memoryBreakdown(pool: Piscina): Promise<Record<string, number>> {
  gc();
  const main = process.memoryUsage();
  const workers = await workerMemories(pool);
  const sum = (f: (w: WorkerMemory) => number): number => workers.reduce((a, w) => a + f(w), 0);
  return {
    rssBytes: main.rss,
    mainHeapBytes: main.heapUsed,
    mainHeapTotalBytes: main.heapTotal,
    mainExternalBytes: main.external,
    mainArrayBufferBytes: main.arrayBuffers,
    workers: workers.length,
    workerHeapBytes: sum((w) => w.heapUsed),
    workerHeapTotalBytes: sum((w) => w.heapTotal),
    workerExternalBytes: sum((w) => w.external),
    workerCachedStates: sum((w) => w.cacheEntries),
    workerCachedStateBytes: sum((w) => w.cacheBytes),
  };
}
