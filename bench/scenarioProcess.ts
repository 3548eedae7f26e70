/**
 * A scenario run in a process of its own (`Scenario.ownProcess`): the runner forks this file,
 * which runs the one scenario and sends its rows, log lines and progress back over IPC. Why: the
 * scenarios before it leave the runner's process holding what they measured with, and a figure
 * of the process as a whole then counts it. Session 30, many groups after the membership rows at
 * 1000 members: the main thread's heap held ~62 MB against ~23 MB in a process of its own (the
 * patched ts-mls's tree-hash snapshots and key summaries of those rows' trees, ~30 MB, bounded by
 * count), RSS ~1.06 GB before the first chunk against 0.38, and the engine read 2.47 ms a group
 * against 1.77: the larger heap costs every garbage collection the engine's thread makes, and the
 * peak RSS per group came out negative.
 *
 * @module
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchConfig, BenchContext, Progress, Row } from "./types.js";

/** What the child sends: a row, a log line, a progress call, or its end. */
type ChildMessage =
  | { readonly row: Row }
  | { readonly log: string }
  | { readonly progress: { readonly method: keyof Progress; readonly args: readonly unknown[] } }
  | { readonly done: true }
  | { readonly error: string };

/** What the parent sends: the scenario to run and the run's configuration. */
interface ParentMessage {
  readonly scenario: string;
  readonly config: BenchConfig;
}

/**
 * Runs the scenario named `name` in a forked process, as `ctx`'s own: its rows reach `ctx.emit`,
 * its lines `ctx.log`, its progress `ctx.progress`. Rejects with the child's error, or when the
 * child exits before it finished.
 *
 * @example
 * ```ts
 * await runInOwnProcess("many-groups", ctx);
 * ```
 */
export function runInOwnProcess(name: string, ctx: BenchContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      if (error === undefined) resolve();
      else reject(error);
    };
    child.on("message", (m: ChildMessage) => {
      if ("row" in m) ctx.emit(m.row);
      else if ("log" in m) ctx.log(m.log);
      else if ("progress" in m) (ctx.progress[m.progress.method] as (...args: unknown[]) => void)(...m.progress.args);
      else if ("done" in m) settle();
      else settle(new Error(m.error));
    });
    child.on("error", (e) => settle(e));
    child.on("exit", (code, signal) => settle(settled ? undefined : new Error(`scenario ${name}: its process exited (${signal ?? code}) before it finished`)));
    child.send({ scenario: name, config: ctx.config } satisfies ParentMessage);
  });
}

async function runChild(message: ParentMessage): Promise<void> {
  const send = (m: ChildMessage): Promise<void> => new Promise((resolve, reject) => process.send?.(m, (e: Error | null) => (e === null ? resolve() : reject(e))));
  // imported here, not at the top: run.ts imports this module
  const { SCENARIOS } = await import("./run.js");
  const scenario = SCENARIOS.find((s) => s.name === message.scenario);
  try {
    if (scenario === undefined) throw new Error(`no scenario ${message.scenario}`);
    const progress = (method: keyof Progress) => (...args: unknown[]) => void send({ progress: { method, args } });
    await scenario.run({
      config: message.config,
      log: (line) => void send({ log: line }),
      emit: (row) => void send({ row }),
      progress: { start: progress("start"), phase: progress("phase"), tick: progress("tick"), stop: progress("stop") },
    });
    await send({ done: true });
  } catch (e) {
    await send({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
  process.disconnect();
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send !== undefined) {
  process.once("message", (m: ParentMessage) => void runChild(m));
}
