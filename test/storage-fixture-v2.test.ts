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
import { fixtureReadTests, hex, loadFixture, NAMES, rawDb, restored, unhex } from "./storage-support.js";

const fixture = loadFixture("storage-v2.json");

async function rawEntries(path: string): Promise<Array<[string, string]>> {
  const db = rawDb(path);
  await db.open();
  const out: Array<[string, string]> = [];
  for await (const [key, value] of db.iterator()) out.push([key, hex(value)]);
  await db.close();
  return out;
}

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

test("format 2 opens without a migration: every frozen value is left as it was", async () => {
  for (const name of NAMES) {
    const { engine, path, cleanup } = await restored(fixture, name);
    try {
      await engine.close();
      assert.deepEqual(await rawEntries(path), fixture.engines[name].entries, `${name}: entries unchanged by open and close`);
    } finally {
      await cleanup();
    }
  }
});

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
