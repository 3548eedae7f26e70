/**
 * CPU time per thread class of this process, from Linux's schedstat (nanoseconds on a CPU per
 * thread), for the dev scripts' A/B modes (bench/groupsDev.ts, bench/ownerDev.ts): on a shared
 * machine a thread's CPU time shows through load that wall time does not.
 *
 * Threads are told apart by the order they were made (tids): after main, the 6 Node makes at
 * start (V8's platform threads), then libuv's pool; pool workers and helper threads start later,
 * so this module must be imported before any of them starts.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";

/** The thread classes. @example `const cls: ThreadClass = "libuv"` */
export type ThreadClass = "main" | "workers" | "v8" | "libuv";

const helperTids = readdirSync("/proc/self/task").map(Number).filter((t) => t !== process.pid).sort((x, y) => x - y);
const v8Threads = new Set(helperTids.slice(0, 6).map(String));
const libuvThreads = new Set(helperTids.slice(6, 6 + Number(process.env["UV_THREADPOOL_SIZE"] ?? 4)).map(String));

/**
 * CPU ms so far by thread class: main, workers (pool and seal helpers), V8 platform, libuv pool.
 *
 * @example
 * ```ts
 * const before = threadCpuMs(); await work(); const after = threadCpuMs(); // after.main - before.main
 * ```
 */
export function threadCpuMs(): Record<ThreadClass, number> {
  return byClass((tid) => Number(readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ")[0]) / 1e6);
}

/**
 * Minor page faults so far by thread class (stat field 10). On this VM a fault costs ~10 us of
 * CPU (memory the allocator handed back to the system and touched again), so large copies of
 * fresh memory show here before they show in a profile.
 *
 * @example
 * ```ts
 * const before = threadFaults(); await work(); const after = threadFaults(); // after.main - before.main
 * ```
 */
export function threadFaults(): Record<ThreadClass, number> {
  return byClass((tid) => threadStat(tid).faults);
}

/**
 * One thread's /proc stat: its name, CPU time in clock ticks (usually 10 ms; user + system,
 * fields 14-15) and minor page faults (field 10). Throws when the thread has ended.
 *
 * @example
 * ```ts
 * const { ticks } = threadStat(String(process.pid)) // the main thread
 * ```
 */
export function threadStat(tid: string): { name: string; ticks: number; faults: number } {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
  // the name, in parentheses, may hold spaces and parentheses: the fields start after the last ")"
  const close = stat.lastIndexOf(")");
  const fields = stat.slice(close + 2).split(" ");
  return { name: stat.slice(stat.indexOf("(") + 1, close), ticks: Number(fields[11]) + Number(fields[12]), faults: Number(fields[7]) };
}

function byClass(read: (tid: string) => number): Record<ThreadClass, number> {
  const out = { main: 0, workers: 0, v8: 0, libuv: 0 };
  for (const tid of readdirSync("/proc/self/task")) {
    let value: number;
    try {
      value = read(tid);
    } catch {
      continue; // thread ended
    }
    const cls = tid === String(process.pid) ? "main" : v8Threads.has(tid) ? "v8" : libuvThreads.has(tid) ? "libuv" : "workers";
    out[cls] += value;
  }
  return out;
}
