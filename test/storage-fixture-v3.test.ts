/**
 * Frozen storage fixture of format 3: test/vectors/storage-v3.json holds the raw LevelDB entries
 * and keyring files of the same four engines as storage-v2.json, written by the engine whose MLS
 * state parts are chunked manifests (`m/` + `k/`) and compact secret trees (`l/`)
 * (test/vectors/generate-storage.ts). Today's engine must read it exactly as it was, carry on
 * from it, and open it without rewriting anything.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SEALED_STORAGE_VERSION } from "../src/constants.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { fixtureOpensUnchangedTest, fixtureReadTests, loadFixture } from "./storage-support.js";

const fixture = loadFixture("storage-v3.json");

test("the fixture is storage format 3: sealed values, MLS states in m/, k/, l/ parts and none of t/ or s/", () => {
  assert.equal(fixture.storageVersion, SEALED_STORAGE_VERSION);
  for (const name of ["owner", "member", "carol"] as const) {
    const kinds = new Set(fixture.engines[name].entries.map(([k]) => k).filter((k) => k.startsWith(`!${Sublevel.State}!`)).map((k) => k.split("/")[1]));
    for (const kind of ["h", "m", "k", "l", "n"]) assert.ok(kinds.has(kind), `${name} holds ${kind}/ parts`);
    assert.ok(!kinds.has("t") && !kinds.has("s"), `${name} holds no part of before format 3`);
  }
  // secret-tree overrides over a compact tree (sender-ratchet keys read during generation)
  assert.ok(fixture.engines.owner.entries.some(([k]) => k.startsWith(`!${Sublevel.State}!`) && k.split("/")[1] === "o"));
});

fixtureReadTests("format 3", fixture);

fixtureOpensUnchangedTest("format 3", fixture);
