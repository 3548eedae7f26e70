/**
 * The file piscina loads in every pool thread is CommonJS (workers/groupEntry.cts) and loads the
 * ES module entry with `import()`: piscina `require()`s its worker file first, and Node 20's
 * `require()` of our ES module graph aborted the process with a V8 fatal error
 * ("v8::Module::IsGraphAsync must be used on an instantiated module") after a change of import
 * order in worker code. With `require()` of ES modules turned off, the entry must still load
 * and run a task, which it can only do if nothing on its way `require()`s an ES module.
 * It exports a Promise of the task function, so the graph loads when the thread starts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { createPool } from "../src/engine/pool.js";

const entry = fileURLToPath(new URL("../workers/groupEntry.cjs", import.meta.url));

test("the pool loads the CommonJS worker entry", async () => {
  const pool = createPool({ threads: 1 });
  try {
    const file = String(pool.options.filename);
    assert.equal(file.startsWith("file:") ? fileURLToPath(file) : file, entry);
  } finally {
    await pool.destroy();
  }
});

// The entry exports a Promise of the task function, which piscina awaits before the thread takes
// tasks: the module graph loads as the thread starts. An entry exporting the function itself
// (loading group.js on the first task) left the first task after an engine opened waiting ~400 ms.
test("the worker entry loads and runs a task without require() of an ES module", () => {
  const script = `const loaded = require(${JSON.stringify(entry)});
if (typeof loaded?.then !== "function") throw new Error("the entry exports no Promise: the module graph would load on the first task");
loaded.then((run) => {
  if (typeof run !== "function") throw new Error("the entry's Promise holds no function");
  return run({ op: "ping" });
}).then((r) => process.stdout.write(JSON.stringify(r)));`;
  const out = execFileSync(process.execPath, ["--no-experimental-require-module", "-e", script], { encoding: "utf8" });
  assert.equal((JSON.parse(out) as { ok: boolean }).ok, true);
});

// The thread loads the graph at its start; a graph that cannot load (here: group.js missing beside
// the entry) must fail the tasks with its error, as the old entry did, not end the thread at its
// start (piscina would start another, and another, and the pool would emit errors forever).
test("a worker entry whose module graph cannot load fails each task with the load's error", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sg-entry-"));
  const lone = join(dir, "groupEntry.cjs");
  await copyFile(entry, lone);
  const errors: unknown[] = [];
  const pool = new Piscina({ filename: lone, minThreads: 1, maxThreads: 1 });
  pool.on("error", (e: unknown) => errors.push(e));
  try {
    for (let i = 0; i < 2; i++) {
      await assert.rejects(pool.run({ op: "ping" }), (e: Error) => /Cannot find module .*group\.js/.test(e.message));
    }
    assert.deepEqual(errors, []);
    assert.equal(pool.threads.length, 1);
  } finally {
    await pool.destroy();
    await rm(dir, { recursive: true, force: true });
  }
});
