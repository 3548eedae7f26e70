/**
 * Every `new XError(ErrorCode.Y, ...)` in the sources uses the class of Y's source, so an error
 * keeps its class when it is rebuilt from `{ code, message }` after a worker boundary.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ErrorCode, errorFromData } from "../src/errors.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

test("error classes match the source of their code at every throw site", () => {
  const mismatches: string[] = [];
  let sites = 0;
  for (const file of [...sources("src"), ...sources("machines")]) {
    const text = readFileSync(join(root, file), "utf8");
    for (const m of text.matchAll(/new (UsageError|ValidationError|CryptoError|StorageError|InternalError)\(ErrorCode\.(\w+)/g)) {
      sites++;
      const code = ErrorCode[m[2] as keyof typeof ErrorCode];
      assert.ok(code !== undefined, `${file}: unknown ErrorCode.${m[2]}`);
      const rebuilt = errorFromData({ code, message: "" }).constructor.name;
      if (rebuilt !== m[1]) mismatches.push(`${file}: ${m[1]} with ${m[2]} (rebuilt as ${rebuilt})`);
    }
  }
  assert.ok(sites > 50, `found only ${sites} throw sites: is the source tree where the test expects it?`);
  assert.deepEqual(mismatches, []);
});
