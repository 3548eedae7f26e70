/**
 * The piscina worker pool with group affinity: every task of one group goes to the same
 * worker, which keeps that group's decoded MLS state in memory (decoding a 1000-member state
 * costs more than a commit). The balancer sees the task's affinity key through piscina's
 * queue-options symbol; a group is pinned to a worker on first use and moves only when that
 * worker is gone. Results and errors cross the boundary as data: a task result is
 * `{ ok: true, value }` or `{ ok: false, error: ErrorData }`, rebuilt here into typed errors.
 *
 * @module
 */
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import type { PiscinaTask } from "piscina";
import { ErrorCode, InternalError, errorFromData } from "../errors.js";
import type { ErrorData } from "../errors.js";

/** What a worker task returns: data, never a thrown class. @example `{ ok: false, error: { code: "REPLAY", message } }` */
export type TaskResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ErrorData };

/** Most tasks one worker runs at once (tasks await crypto, so a few interleave well). @example `affinityBalancer(CONCURRENT_TASKS_PER_WORKER)` */
const CONCURRENT_TASKS_PER_WORKER = 4;

interface AffinityOptions {
  readonly affinity?: string;
  /** Further keys the task serves (a batch of joins): pinned to the worker `affinity` goes to. */
  readonly with?: readonly string[];
  /** A task for one worker by its place among the live ones (see {@link runOnEachThread}), no affinity. */
  readonly thread?: number;
}

type BalancerWorker = Parameters<NonNullable<ConstructorParameters<typeof Piscina>[0]>["loadBalancer"] & {}>[1][number];

/**
 * Builds a piscina load balancer that pins each affinity key to one worker (once all
 * `threads` workers are up; before that, tasks go to the least busy worker unpinned).
 *
 * @example
 * ```ts
 * new Piscina({ filename, loadBalancer: affinityBalancer(4, 2) })
 * ```
 */
function affinityBalancer(maxUsage: number, threads = 1): (task: PiscinaTask, workers: BalancerWorker[]) => BalancerWorker | null {
  const pinned = new Map<string, number>();
  const load = new Map<number, number>(); // pinned keys per worker id, to spread new groups
  return (task, workers) => {
    const opts = (task as unknown as Record<symbol, unknown>)[Piscina.queueOptionsSymbol] as AffinityOptions | null | undefined;
    const live = workers.filter((w) => !w.terminating && !w.destroyed);
    if (live.length === 0) return null;
    const leastBusy = (): BalancerWorker | null => {
      let best: BalancerWorker | null = null;
      for (const w of live) if (w.currentUsage < maxUsage && (best === null || w.currentUsage < best.currentUsage)) best = w;
      return best;
    };
    if (opts?.thread !== undefined) {
      const to = live[opts.thread % live.length] as BalancerWorker;
      return to.currentUsage < maxUsage ? to : null;
    }
    if (opts === null || opts === undefined || typeof opts.affinity !== "string") return leastBusy();
    const id = pinned.get(opts.affinity);
    let target = id === undefined ? undefined : live.find((w) => w.id === id);
    if (target === undefined && id === undefined && live.length < threads) {
      // the pool is still starting: do not pin everything to the first worker up
      return leastBusy();
    }
    const pin = (key: string, to: BalancerWorker): void => {
      const was = pinned.get(key);
      if (was === to.id) return;
      if (was !== undefined) load.set(was, Math.max(0, (load.get(was) ?? 1) - 1));
      pinned.set(key, to.id);
      load.set(to.id, (load.get(to.id) ?? 0) + 1);
    };
    // first use, or its worker is gone: the live worker holding the fewest groups
    target ??= live.reduce((a, b) => ((load.get(a.id) ?? 0) <= (load.get(b.id) ?? 0) ? a : b));
    pin(opts.affinity, target);
    // the batch's other groups go where their state is made: their next tasks find it there
    // (one pinned elsewhere before holds no state of theirs that a token would still name)
    for (const key of opts.with ?? []) pin(key, target);
    return target.currentUsage < maxUsage ? target : null;
  };
}

/**
 * Path of the file piscina loads for a worker (`dist/workers/<name>Entry.cjs`, from
 * `dist/src/engine/`): a CommonJS shell that `import()`s the ES module entry, because piscina
 * `require()`s its file first and Node 20's `require()` of an ES module graph can abort the
 * process (workers/groupEntry.cts).
 *
 * @example
 * ```ts
 * workerFile("group") // file:///.../dist/workers/groupEntry.cjs
 * ```
 */
function workerFile(name: string): string {
  return new URL(`../../workers/${name}Entry.cjs`, import.meta.url).href;
}

/**
 * Creates the engine's pool: `threads` workers (default: available parallelism) kept alive,
 * with the affinity balancer; `youngGenerationMb` bounds each worker's V8 young generation (V8's
 * default when absent: less memory for many small groups, more garbage-collection time for large
 * groups' commits).
 *
 * @example
 * ```ts
 * const pool = createPool({ threads: 2 })
 * ```
 */
export function createPool(options: { threads?: number; youngGenerationMb?: number } = {}): Piscina {
  const threads = Math.max(1, options.threads ?? availableParallelism());
  return new Piscina({
    filename: workerFile("group"),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    concurrentTasksPerWorker: CONCURRENT_TASKS_PER_WORKER,
    loadBalancer: affinityBalancer(CONCURRENT_TASKS_PER_WORKER, threads),
    ...(options.youngGenerationMb === undefined ? {} : { resourceLimits: { maxYoungGenerationSizeMb: options.youngGenerationMb } }),
  });
}

/**
 * Runs one task on the pool (worker entry `workers/groupEntry.cjs`, which loads `workers/group.js`), routed by `affinity` (the group id; for a
 * task serving several groups, their ids: all pinned to the first one's worker), and rebuilds a failed task's
 * typed error; a crashed worker becomes `InternalError(WORKER_FAILED)`. Buffers in
 * `transferList` move to the worker (detached here) instead of being copied.
 *
 * @example
 * ```ts
 * const out = await runTask<MyResult>(pool, { op: "process", ... }, gidHex)
 * ```
 */
export async function runTask<T>(pool: Piscina, task: object, affinity?: string | readonly string[], worker = "group", transferList?: ArrayBuffer[]): Promise<T> {
  const options: AffinityOptions | undefined =
    affinity === undefined ? undefined : typeof affinity === "string" ? { affinity } : { affinity: affinity[0] as string, with: affinity.slice(1) };
  const payload = options === undefined ? task : Object.assign(task, { [Piscina.queueOptionsSymbol]: options });
  let result: TaskResult<T>;
  try {
    result = (await pool.run(payload, { filename: workerFile(worker), ...(transferList === undefined ? {} : { transferList }) })) as TaskResult<T>;
  } catch (e) {
    throw new InternalError(ErrorCode.WorkerFailed, `worker task failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
  if (result === null || typeof result !== "object" || typeof result.ok !== "boolean") {
    throw new InternalError(ErrorCode.WorkerFailed, "worker returned a malformed result");
  }
  if (!result.ok) throw errorFromData(result.error);
  return result.value;
}

/**
 * Runs `task` once on every thread of the pool (one task per live worker, each pinned to it),
 * e.g. to clear what a closing engine left in the workers' caches; resolves with each result.
 * A worker replaced meanwhile (a crash) starts empty, so missing it leaves nothing behind.
 *
 * @example
 * ```ts
 * await runOnEachThread(pool, { op: "forget", prefix, publicKey })
 * ```
 */
export function runOnEachThread<T>(pool: Piscina, task: object): Promise<T[]> {
  const threads = Math.max(1, pool.threads.length);
  return Promise.all(Array.from({ length: threads }, (_, thread) => runTask<T>(pool, { ...task, [Piscina.queueOptionsSymbol]: { thread } satisfies AffinityOptions })));
}
