/**
 * Frozen storage fixture of format 2 (sealed sublevels): test/vectors/storage-v2.json holds the
 * raw LevelDB entries and keyring files of the same four engines as storage-v1.json, written by
 * the engine that seals (test/vectors/generate-storage.ts). Today's engine must read it exactly
 * as it was, carry on from it, open it without rewriting anything, and refuse a wrong key
 * without changing it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SEALED_STORAGE_VERSION, STORAGE_VERSION } from "../src/constants.js";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { isSealed, Sublevel } from "../src/engine/store/sublevels.js";
import { identityFromSecretKey } from "../src/identity.js";
import { fixtureOpensUnchangedTest, fixtureReadTests, loadFixture, NAMES, rawEntries, restored, unhex } from "./storage-support.js";

const fixture = loadFixture("storage-v2.json");

test("the fixture is storage format 2: sealed sublevels hold sealed values, the rest versioned values", () => {
  assert.equal(fixture.storageVersion, SEALED_STORAGE_VERSION);
  for (const name of NAMES) {
    const { entries } = fixture.engines[name];
    let sealed = 0;
    for (const [key, value] of entries) {
      const sub = Object.values(Sublevel).find((s) => key.startsWith(`!${s}!`));
      assert.ok(sub !== undefined, `${name}: ${key} is in a known sublevel`);
      const version = Number.parseInt(value.slice(0, 2), 16);
      if (isSealed(sub) || key === `!${Sublevel.Meta}!keycheck`) {
        assert.equal(version, SEALED_STORAGE_VERSION, `${name}: ${key} sealed`);
        sealed++;
      } else assert.equal(version, STORAGE_VERSION, `${name}: ${key}`);
    }
    assert.ok(sealed > 1, `${name} has sealed values`);
    assert.ok(entries.some(([k]) => k === `!${Sublevel.Meta}!keycheck`), `${name} has a key check value`);
  }
  // the member and the indexer hold an unused key package, sealed under its own key in the keyring
  for (const name of ["member", "indexer"] as const) {
    assert.ok(fixture.engines[name].keyring !== undefined, `${name} has a keyring file`);
    assert.ok(fixture.engines[name].entries.some(([k]) => k.startsWith(`!${Sublevel.KeyPackages}!`) && !k.endsWith("!")));
  }
});

fixtureReadTests("format 2", fixture);

fixtureOpensUnchangedTest("format 2", fixture);

test("format 2 refuses another storage key with STORAGE_KEY and changes nothing", async () => {
  const { engine, path, cleanup } = await restored(fixture, "member");
  try {
    await engine.close();
    const identity = identityFromSecretKey(unhex(fixture.engines.member.seed));
    await assert.rejects(SecretGroupEngine.open({ path, identity, threads: 1, storageKey: new Uint8Array(32).fill(7) }), { code: "STORAGE_KEY", name: "StorageError" });
    assert.deepEqual(await rawEntries(path), fixture.engines.member.entries);
  } finally {
    await cleanup();
  }
});
