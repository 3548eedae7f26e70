/**
 * The MLS working group's passive-client vectors (../shared/mls-vectors/) pass with the
 * node:crypto provider, for every ciphersuite (1 and 3 fully native; the others with HPKE
 * delegated). Skips, saying why, when the vectors folder is absent.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { passiveClientSkipReason, runPassiveClientVector, type PassiveClientVector } from "../src/mls/passiveClient.js";

// dist/test/ -> repo root -> ../shared/mls-vectors
const VECTORS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "shared", "mls-vectors");
const FILES = ["passive-client-welcome.json", "passive-client-handling-commit.json", "passive-client-random.json"];

for (const file of FILES) {
  const path = join(VECTORS, file);
  if (!existsSync(path)) {
    test(`passive-client vectors with the node provider: ${file}`, { skip: `${path} is absent (the MLS working group's vectors are not copied into the repo)` }, () => {});
    continue;
  }
  const vectors = JSON.parse(readFileSync(path, "utf8")) as PassiveClientVector[];
  describe(`passive-client vectors with the node provider: ${file}`, () => {
    test("the file holds vectors", () => assert.ok(vectors.length > 0));
    for (const [i, v] of vectors.entries()) {
      test(`vector ${i} (ciphersuite ${v.cipher_suite})`, async (t) => {
        const reason = await passiveClientSkipReason(v.cipher_suite, "node");
        if (reason !== undefined) {
          t.skip(`ciphersuite ${v.cipher_suite} unavailable: ${reason}`);
          return;
        }
        const r = await runPassiveClientVector(v, "node");
        assert.equal(r.epochsChecked, v.epochs.length + 1);
      });
    }
  });
}
