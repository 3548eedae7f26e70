/**
 * Piscina entry of the engine's worker pool: a thin shell over the task handlers in
 * src/engine/worker/ (group tasks in tasks.ts, bulk long-term decryption in longTerm.ts, the
 * `vectors` command's in vectorTasks.ts).
 *
 * @example
 * ```ts
 * new Piscina({ filename: new URL("../../workers/group.js", import.meta.url).href })
 * ```
 *
 * @module
 */
import { runJoinBatch, runWorkerTask } from "../src/engine/worker/tasks.js";
import { isJoinBatch } from "../src/engine/worker/protocol.js";
import type { JoinBatchTask, TaskRequest } from "../src/engine/worker/protocol.js";
import { isOpenLongTermTask, runOpenLongTerm } from "../src/engine/worker/longTerm.js";
import type { OpenLongTermTask } from "../src/engine/worker/longTerm.js";
import { isVectorTask, runVectorTask } from "../src/engine/worker/vectorTasks.js";
import type { VectorTask } from "../src/engine/worker/vectorTasks.js";

/** The piscina task function. @example `await pool.run({ op: "drop", key })` */
export default (task: TaskRequest | JoinBatchTask | VectorTask | OpenLongTermTask) =>
  isOpenLongTermTask(task) ? runOpenLongTerm(task) : isVectorTask(task) ? runVectorTask(task) : isJoinBatch(task) ? runJoinBatch(task) : runWorkerTask(task);
