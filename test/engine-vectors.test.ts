/**
 * `secret-group vectors` through the engine path (worker pool, LevelDB, reload per epoch).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runVectorsCommand } from "../src/cli/vectors.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const vectorDir = path.resolve(repoRoot, "../shared/mls-vectors");

for (const file of ["passive-client-welcome.json", "passive-client-handling-commit.json"]) {
  const full = path.join(vectorDir, file);
  const skip = existsSync(full) ? false : `${full} is absent (vectors are not copied into the repo)`;
  test(`engine runs ${file}`, { skip }, async () => {
    let text = "";
    const failed = await runVectorsCommand(full, { out: { write: (t: string) => (text += t) }, threads: 2 });
    const last = text.trim().split("\n").at(-1) ?? "";
    // every case went through the store: joined, then persisted and reloaded per epoch
    const cases = text.split("\n").filter((l) => l.startsWith("ok ") || l.startsWith("FAIL"));
    assert.ok(cases.length > 0 && cases.every((l) => !l.startsWith("FAIL")));
    assert.match(last, /^\d+ passed, 0 failed$/, text.split("\n").filter((l) => l.startsWith("FAIL")).slice(0, 3).join("\n"));
    assert.equal(failed, 0);
    assert.ok(Number(last.split(" ")[0]) > 0);
  });
}

test("a missing vectors file is a usage error", async () => {
  await assert.rejects(runVectorsCommand(path.join(vectorDir, "does-not-exist.json"), { out: { write: () => true } }), { code: "INVALID_ARGUMENT" });
});
