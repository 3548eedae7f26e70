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
import { fileURLToPath } from "node:url";
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
