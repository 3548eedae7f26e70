/**
 * Joins of many groups at once, a worker task per pool thread instead of one per group. When a
 * stream brings many groups' commits and Welcomes together (many groups: ~4.5 joins start in
 * each turn of the event loop), each join as its own task cost a structured-clone message each
 * way and a wake-up of the worker: piscina's postTask was ~12% of the main thread's samples.
 * The joins asked for in one turn go at the end of it (setImmediate) as `joins` tasks
 * (src/engine/worker/tasks.ts runJoinBatch), split over the pool's threads so both run; each
 * batch's groups are pinned to the worker that makes their states (src/engine/pool.ts), and each
 * join is answered on its own, its failure its own, exactly as its own task would be.
 *
 * @module
 */
import type { Piscina } from "piscina";
import { ErrorCode, InternalError, errorFromData } from "../errors.js";
import { JOIN_ALONE_MIN_BYTES } from "../constants.js";
import { runTask } from "./pool.js";
import type { TaskResult } from "./pool.js";
import type { JoinBatchTask, JoinTask, StateOut } from "./worker/protocol.js";

/** The bytes of a join's commit and Welcome, what its cost grows with. @example `joinBytes(task) // 1,040,000 at 1000 members` */
export function joinBytes(task: JoinTask): number {
  return task.commit.mlsCommit.length + (task.commit.mlsWelcome?.length ?? 0);
}

interface QueuedJoin {
  readonly groupId: string;
  readonly task: JoinTask;
  readonly resolve: (out: StateOut) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * `n` items in `parts` runs of near-equal length, in order (fewer when there are fewer items).
 *
 * @example
 * ```ts
 * splitEvenly([1, 2, 3, 4, 5], 2) // [[1, 2, 3], [4, 5]]
 * ```
 */
export function splitEvenly<T>(items: readonly T[], parts: number): T[][] {
  const runs = Math.max(1, Math.min(parts, items.length));
  const out: T[][] = [];
  for (let r = 0, at = 0; r < runs; r++) {
    const size = Math.ceil((items.length - at) / (runs - r));
    out.push(items.slice(at, at + size));
    at += size;
  }
  return out.filter((run) => run.length > 0);
}

/**
 * Gathers the join tasks of one event-loop turn and posts them as batches.
 *
 * @example
 * ```ts
 * const joins = new JoinBatcher(pool)
 * const out = await joins.run(gid, { op: "join", ref, identity, secret, owner, commit })
 * ```
 */
export class JoinBatcher {
  private queued: QueuedJoin[] = [];
  /** Worker tasks posted (a batch or a lone join), for tests and stats. */
  tasks = 0;

  constructor(private readonly pool: Piscina) {}

  /**
   * Queues a join; resolves with its result, or rejects with its typed error. A large one
   * (its commit and Welcome at least `JOIN_ALONE_MIN_BYTES`) is posted at once, alone: a task
   * message costs it nothing next to its join, and the end of the turn comes only after this
   * thread's own work on the same commit (its full read and index: 40-120 ms at 1000 members
   * under load, measured in join13), which the worker's join would otherwise wait for.
   *
   * @example `await joins.run(gid, task)`
   */
  run(groupId: string, task: JoinTask): Promise<StateOut> {
    if (joinBytes(task) >= JOIN_ALONE_MIN_BYTES) {
      this.tasks++;
      return runTask<StateOut>(this.pool, task, groupId);
    }
    return new Promise<StateOut>((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(() => this.flush());
      this.queued.push({ groupId, task, resolve, reject });
    });
  }

  private flush(): void {
    const queued = this.queued;
    this.queued = [];
    // one batch per thread: the pool's balancer sends each to the worker with the fewest groups
    for (const run of splitEvenly(queued, Math.max(1, this.pool.threads.length))) {
      this.tasks++;
      if (run.length === 1) {
        const [only] = run as [QueuedJoin];
        runTask<StateOut>(this.pool, only.task, only.groupId).then(only.resolve, only.reject);
        continue;
      }
      const batch: JoinBatchTask = { op: "joins", joins: run.map((q) => q.task) };
      runTask<Array<TaskResult<StateOut>>>(this.pool, batch, run.map((q) => q.groupId)).then(
        (results) =>
          run.forEach((q, i) => {
            const result = results[i];
            if (result === undefined) q.reject(new InternalError(ErrorCode.WorkerFailed, "worker answered fewer joins than it was given"));
            else if (result.ok) q.resolve(result.value);
            else q.reject(errorFromData(result.error));
          }),
        // the worker failed: every join of the batch with it, as each would have alone
        (e: unknown) => run.forEach((q) => q.reject(e)),
      );
    }
  }
}
