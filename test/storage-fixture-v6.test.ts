/**
 * Frozen storage fixture of format 6: test/vectors/storage-v6.json holds the raw LevelDB entries
 * and keyring files of the same four engines as storage-v5.json, written by the engine whose
 * ratchet-tree chunks `k/` hold their nodes (format byte 2) instead of naming `n/` node parts, and
 * whose history ends with an update commit (the member's cold half is older than its hot half)
 * (test/vectors/generate-storage.ts). Today's engine must read it exactly as it was, carry on from
 * it, and open it without rewriting anything.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { INLINE_CHUNK_FORMAT, SEALED_STORAGE_VERSION } from "../src/constants.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { decodeGroupRecord } from "../src/engine/store/records.js";
import { fixtureOpensUnchangedTest, fixtureReadTests, hex, loadFixture, NAMES, withRestoredStore } from "./storage-support.js";

const fixture = loadFixture("storage-v6.json");

test("the fixture is storage format 6: tree chunks holding their nodes, the history ending with an update", async () => {
  assert.equal(fixture.storageVersion, SEALED_STORAGE_VERSION);
  for (const name of NAMES) {
    await withRestoredStore(fixture, name, async (store) => {
      const keys = await store.keys(Sublevel.State, `${fixture.groupId}/`);
      if (name === "indexer") assert.deepEqual(keys, [], "the indexer holds no state");
      else {
        const chunks = keys.filter((k) => k.startsWith(`${fixture.groupId}/k/`));
        assert.ok(chunks.length > 0, `${name} holds tree chunks`);
        assert.deepEqual(keys.filter((k) => k.startsWith(`${fixture.groupId}/n/`)), [], `${name}: no node part`);
        for (const key of chunks) assert.equal((await store.get(Sublevel.State, key, "chunk"))?.[0], INLINE_CHUNK_FORMAT, `${name}: ${key} holds its nodes`);
      }
      const cold = await store.get(Sublevel.Groups, fixture.groupId, "group record");
      const hot = await store.get(Sublevel.Groups, `${fixture.groupId}/hot`, "group record");
      assert.ok(cold !== undefined && hot !== undefined, `${name} holds both halves`);
      const history = fixture.engines[name].history as Array<{ commitId: string; kind: string }>;
      const head = decodeGroupRecord(cold, hot).head;
      if (name !== "indexer") assert.equal(head === undefined ? undefined : hex(head), history.at(-1)?.commitId, `${name}: the hot half's head is the last commit of its history`);
      if (name === "owner" || name === "member") assert.equal(history.at(-1)?.kind, "update", `${name}: the history ends with an update commit`);
    });
  }
});

fixtureReadTests("format 6", fixture);

fixtureOpensUnchangedTest("format 6", fixture);
