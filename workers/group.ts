/**
 * Piscina entry of the engine's worker pool: a thin shell over the task handlers in
 * src/engine/tasks.ts.
 *
 * @example
 * ```ts
 * new Piscina({ filename: new URL("../../workers/group.js", import.meta.url).href })
 * ```
 *
 * @module
 */
import { runWorkerTask } from "../src/engine/tasks.js";

/** The piscina task function. @example `await pool.run({ op: "drop", key })` */
export default runWorkerTask;
