/**
 * Pools for tests of the engine's worker tasks.
 */
import { Piscina } from "piscina";
import { createPool } from "../src/engine/pool.js";

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
          tasks.push({ op: sent.op, keys: sent.keys, layout: sent.layout });
          return settle(target.run(sent, options), sent);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { pool, tasks };
}
