import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { passiveClientSkipReason, runPassiveClientVector } from "../src/mls/passiveClient.js";
import type { PassiveClientVector } from "../src/mls/passiveClient.js";
import type { ProviderName } from "../src/mls/suite.js";

// dist/test/mls-vectors.test.js -> repo root is two levels up; the vectors sit beside the repo.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const vectorDir = path.resolve(repoRoot, "../shared/mls-vectors");
const FILES = ["passive-client-welcome.json", "passive-client-handling-commit.json"] as const;

const PROVIDERS: readonly ProviderName[] = ["node", "default"];
// ts-mls' own provider is the baseline the node provider replaces: cross-check it on the
// suites secret-group uses (Ed25519 ones) only, to keep the file fast.
const SUITES_OF: Record<ProviderName, ((suite: number) => boolean)> = { node: () => true, default: (s) => s === 1 || s === 3 };

for (const file of FILES) for (const provider of PROVIDERS) {
  const full = path.join(vectorDir, file);
  const present = existsSync(full);
  test(`MLS passive-client vectors: ${file} on the "${provider}" provider`, { skip: present ? false : `${full} is absent (vectors are not copied into the repo)` }, async (t) => {
    const vectors = JSON.parse(readFileSync(full, "utf8")) as PassiveClientVector[];
    assert.ok(vectors.length > 0);
    const bySuite = new Map<number, PassiveClientVector[]>();
    for (const v of vectors) {
      if (SUITES_OF[provider](v.cipher_suite)) bySuite.set(v.cipher_suite, [...(bySuite.get(v.cipher_suite) ?? []), v]);
    }
    let ran = 0;
    for (const [suite, list] of [...bySuite].sort((a, b) => a[0] - b[0])) {
      const reason = await passiveClientSkipReason(suite, provider);
      await t.test(`ciphersuite ${suite} (${list.length} vectors)`, { skip: reason === undefined ? false : `ciphersuite ${suite} unsupported: ${reason}` }, async () => {
        for (const [i, v] of list.entries()) {
          const result = await runPassiveClientVector(v, provider);
          assert.equal(result.epochsChecked, v.epochs.length + 1, `vector ${i}`);
          ran++;
        }
      });
      if (reason !== undefined) t.diagnostic(`skipped ciphersuite ${suite}: ${reason}`);
    }
    t.diagnostic(`${file} (${provider}): ${ran} of ${vectors.length} vectors ran${provider === "default" ? " (suites 1 and 3 only)" : ""}`);
    assert.ok(ran > 0, "no vector could run");
  });
}

test("a vector with a wrong epoch authenticator is reported as MLS_FAILURE", { skip: existsSync(path.join(vectorDir, FILES[1])) ? false : "vectors absent" }, async () => {
  const vectors = JSON.parse(readFileSync(path.join(vectorDir, FILES[1]), "utf8")) as PassiveClientVector[];
  const v = vectors.find((x) => x.cipher_suite === 1 && x.epochs.length > 0)!;
  const bad: PassiveClientVector = {
    ...v,
    epochs: v.epochs.map((e, i) => (i === 0 ? { ...e, epoch_authenticator: "00".repeat(e.epoch_authenticator.length / 2) } : e)),
  };
  await assert.rejects(runPassiveClientVector(bad), (e: unknown) => (e as { code?: string }).code === "MLS_FAILURE");
});
