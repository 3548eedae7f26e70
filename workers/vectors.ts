/**
 * Piscina entry for `secret-group vectors`: a thin shell over src/engine/vectorTasks.ts.
 *
 * @example
 * ```ts
 * await pool.run({ op: "vectorJoin", vector }, { filename: workerFile("vectors") })
 * ```
 *
 * @module
 */
import { runVectorTask } from "../src/engine/vectorTasks.js";

/** The piscina task function. @example `await pool.run(task, { filename })` */
export default runVectorTask;
