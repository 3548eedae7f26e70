/**
 * Frozen storage fixture of format 4: test/vectors/storage-v4.json holds the raw LevelDB entries
 * and keyring files of the same four engines as storage-v3.json, written by the engine whose
 * materialisation index keeps a group's leaf map in chunks (`l/<gid>/<chunk>`) beside a small
 * head record (`g/<gid>`, tag 0x80 after the version byte) (test/vectors/generate-storage.ts).
 * Today's engine must read it exactly as it was, carry on from it, and open it without rewriting
 * anything.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SEALED_STORAGE_VERSION, STORAGE_VERSION } from "../src/constants.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { fixtureOpensUnchangedTest, fixtureReadTests, loadFixture } from "./storage-support.js";
import { fixtureHotHeadTest } from "./storage-hot-head.js";

const fixture = loadFixture("storage-v4.json");

test("the fixture is storage format 4: split index heads with their leaf chunks, state parts of format 3", () => {
  assert.equal(fixture.storageVersion, SEALED_STORAGE_VERSION);
  const index = `!${Sublevel.Materialise}!`;
  for (const name of ["owner", "member", "carol", "indexer"] as const) {
    const entries = fixture.engines[name].entries;
    const heads = entries.filter(([k]) => k === `${index}g/${fixture.groupId}`);
    assert.equal(heads.length, 1, `${name} holds the group's index head`);
    const head = Buffer.from((heads[0] as [string, string])[1], "hex");
    assert.deepEqual([head[0], head[1]], [STORAGE_VERSION, 0x80], `${name}: a split head, not a whole record`);
    assert.ok(entries.some(([k]) => k === `${index}l/${fixture.groupId}/00000000`), `${name} holds leaf chunk 0`);
  }
  for (const name of ["owner", "member", "carol"] as const) {
    const kinds = new Set(fixture.engines[name].entries.map(([k]) => k).filter((k) => k.startsWith(`!${Sublevel.State}!`)).map((k) => k.split("/")[1]));
    for (const kind of ["h", "m", "k", "l", "n"]) assert.ok(kinds.has(kind), `${name} holds ${kind}/ parts`);
  }
});

fixtureReadTests("format 4", fixture);

fixtureHotHeadTest("format 4", fixture);

fixtureOpensUnchangedTest("format 4", fixture);
