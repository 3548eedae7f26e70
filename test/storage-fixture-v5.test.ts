/**
 * Frozen storage fixture of format 5: test/vectors/storage-v5.json holds the raw LevelDB entries
 * and keyring files of the same four engines as storage-v4.json, written by the engine whose
 * group records keep the chain head in the hot half (`groups/<gid>/hot`, tag 0x81) and the
 * members in a cold half without it (`groups/<gid>`, tag 0x81), so a commit that adds or removes
 * no one writes the hot half only (test/vectors/generate-storage.ts). Today's engine must read it
 * exactly as it was, carry on from it, and open it without rewriting anything.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SEALED_STORAGE_VERSION } from "../src/constants.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { decodeGroupRecord } from "../src/engine/store/records.js";
import { fixtureOpensUnchangedTest, fixtureReadTests, hex, loadFixture, NAMES, withRestoredStore } from "./storage-support.js";

const fixture = loadFixture("storage-v5.json");

test("the fixture is storage format 5: group records with the head in the hot half", async () => {
  assert.equal(fixture.storageVersion, SEALED_STORAGE_VERSION);
  for (const name of NAMES) {
    await withRestoredStore(fixture, name, async (store) => {
      const cold = await store.get(Sublevel.Groups, fixture.groupId, "group record");
      const hot = await store.get(Sublevel.Groups, `${fixture.groupId}/hot`, "group record");
      assert.ok(cold !== undefined && hot !== undefined, `${name} holds both halves`);
      assert.deepEqual([cold[0], hot[0]], [0x81, 0x81], `${name}: halves of format 5`);
      const record = decodeGroupRecord(cold, hot);
      const last = (fixture.engines[name].history as Array<{ commitId: string }>).at(-1)?.commitId;
      if (name !== "indexer") assert.equal(record.head === undefined ? undefined : hex(record.head), last, `${name}: the hot half's head is the last commit of its history`);
    });
  }
});

fixtureReadTests("format 5", fixture);

fixtureOpensUnchangedTest("format 5", fixture);
