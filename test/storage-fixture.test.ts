/**
 * Frozen storage fixture (in the spirit of OpenMLS's storage KAT): test/vectors/storage-v1.json
 * holds every raw LevelDB key/value of four engines (owner, member, a removed member, a
 * non-member indexer) written by storage format 1. Each is written back into a fresh database
 * and opened by today's engine, which must read it exactly as it was (status, members, epochs,
 * history, the frozen messages, consumed sender-ratchet keys still consumed) and carry on from
 * it. A change of any stored format makes this fail instead of silently breaking users' data;
 * such a change needs a migration (and this fixture keeps passing), never a regenerated fixture.
 * An unknown version byte or a truncated record must be a typed error, never a crash or misuse.
 * Format 1 kept everything in the clear: opening it seals it (src/engine/store/migrate.ts).
 * test/storage-fixture-v2.test.ts runs the same reads on format 2 (sealed).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { identityFromSecretKey } from "../src/identity.js";
import { SEALED_STORAGE_VERSION, STORAGE_VERSION } from "../src/constants.js";
import { SecretGroupError, StorageError } from "../src/errors.js";
import { isSealed, Sublevel } from "../src/engine/store/sublevels.js";
import { fixtureReadTests, hex, loadFixture, NAMES, rawDb, restored as restoredFrom, unhex } from "./storage-support.js";
import type { Edit, EngineName } from "./storage-support.js";
import { fixtureHotHeadTest } from "./storage-hot-head.js";

const fixture = loadFixture("storage-v1.json");
const gid = unhex(fixture.groupId);
const groupKey = `!${Sublevel.Groups}!${fixture.groupId}`;
const restored = (name: EngineName, edit?: Edit): ReturnType<typeof restoredFrom> => restoredFrom(fixture, name, edit);

/** Replaces the value of `key` (which must exist) by `change(value)`. */
const editValue =
  (key: string, change: (value: Uint8Array) => Uint8Array): Edit =>
  (entries) => {
    const i = entries.findIndex(([k]) => k === key);
    assert.ok(i >= 0, `fixture has ${key}`);
    const [k, v] = entries[i] as [string, string];
    entries[i] = [k, hex(change(unhex(v)))];
    return entries;
  };
const withVersion =
  (version: number) =>
  (v: Uint8Array): Uint8Array => {
    const copy = Uint8Array.from(v);
    copy[0] = version;
    return copy;
  };

/** Asserts `p` rejects with a SecretGroupError of `code` (a typed error, never a TypeError/RangeError). */
async function rejectsWith(p: Promise<unknown>, code: string | readonly string[], what: string): Promise<void> {
  const codes = typeof code === "string" ? [code] : code;
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SecretGroupError, `${what}: a SecretGroupError, got ${String(e)}`);
    assert.ok(codes.includes(e.code), `${what}: code ${e.code}, expected ${codes.join(" or ")} (${e.message})`);
    return true;
  });
}

const frozenMessages = fixture.messages.map((m) => unhex(m.message));

fixtureReadTests("format 1", fixture);

fixtureHotHeadTest("format 1", fixture);

test("the fixture is storage format 1: known sublevels, every value starts with the version byte", () => {
  assert.equal(fixture.storageVersion, 1);
  // a later format may add versions, but must keep reading this one (or migrate it)
  assert.ok(STORAGE_VERSION >= fixture.storageVersion);
  const prefixes = Object.values(Sublevel).map((s) => `!${s}!`);
  const seen = new Set<string>();
  for (const name of NAMES) {
    const { entries } = fixture.engines[name];
    assert.ok(entries.length > 0);
    for (const [key, value] of entries) {
      const prefix = prefixes.find((p) => key.startsWith(p));
      assert.ok(prefix !== undefined, `${name}: ${key} is in a known sublevel`);
      seen.add(prefix);
      assert.ok(value.length >= 2 && value.startsWith("01"), `${name}: ${key} starts with storage version 1`);
    }
    assert.deepEqual([...entries.map(([k]) => k)], [...entries.map(([k]) => k)].sort(), "entries in key order");
  }
  // the fixture covers every kind of record but the transient ones (pending welcomes) and those
  // added after it was frozen: materialised operations (issue 10; test/engine-operations*.test.ts)
  const later: readonly string[] = [Sublevel.Operations, Sublevel.OperationValues, Sublevel.OperationLog, Sublevel.PendingOperations];
  const kinds = Object.values(Sublevel).filter((s) => s !== Sublevel.Welcomes && !later.includes(s));
  assert.deepEqual([...seen].sort(), kinds.map((s) => `!${s}!`).sort());
  for (const part of ["h", "t/", "n/", "s/", "o/"]) {
    assert.ok(fixture.engines.member.entries.some(([k]) => k.startsWith(`!state!${fixture.groupId}/${part}`)), `member state has a ${part} part`);
  }
});

test("values written on top of the fixture carry the current storage version", async () => {
  const owner = await restored("owner");
  try {
    await owner.engine.updateGroup(gid);
  } finally {
    await owner.engine.close();
  }
  try {
    const db = rawDb(owner.path);
    await db.open();
    const frozen = new Map(fixture.engines.owner.entries);
    let changed = 0;
    for await (const [key, value] of db.iterator()) {
      if (frozen.get(key) !== hex(value)) changed++;
      // sealed sublevels hold sealed values now (the frozen clear ones were sealed when the engine opened)
      const sub = Object.values(Sublevel).find((s) => key.startsWith(`!${s}!`));
      assert.ok(sub !== undefined, key);
      // so is the storage key check value the open wrote
      if (isSealed(sub) || key === `!${Sublevel.Meta}!keycheck`) assert.equal(value[0], SEALED_STORAGE_VERSION, `${key} is sealed`);
      else assert.ok(value[0] === STORAGE_VERSION || (value[0] === fixture.storageVersion && frozen.get(key) === hex(value)), `${key}`);
    }
    await db.close();
    assert.ok(changed > 0);
  } finally {
    await owner.cleanup();
  }
});

test("an unknown version byte in the group record is StorageError(STORAGE_VERSION), never misuse", async () => {
  const { engine, cleanup } = await restored("owner", editValue(groupKey, withVersion(0xfe)));
  try {
    for (const [what, p] of [
      ["status", engine.status(gid)],
      ["describe", engine.describe(gid)],
      ["encrypt", engine.encrypt(gid, new Uint8Array([1]), { scheme: "long-term" })],
      ["updateGroup", engine.updateGroup(gid)],
      ["groups", engine.groups()],
    ] as const) {
      await rejectsWith(p, "STORAGE_VERSION", what);
    }
    await assert.rejects(engine.status(gid), (e: unknown) => e instanceof StorageError);
    // decrypt reports per message, with the same code
    for (const r of await engine.decrypt(frozenMessages)) {
      assert.ok(r instanceof SecretGroupError, `decrypt: ${String(r)}`);
      assert.equal(r.code, "STORAGE_VERSION");
    }
  } finally {
    await engine.close();
    await cleanup();
  }
});

test("a truncated or empty group record and an unknown state version are typed errors", async () => {
  const cases: Array<[string, Edit, string]> = [
    ["truncated group record", editValue(groupKey, (v) => v.subarray(0, 6)), "DECODE_ERROR"],
    ["group record with a trailing byte", editValue(groupKey, (v) => Uint8Array.from([...v, 0])), "DECODE_ERROR"],
    ["empty group record", editValue(groupKey, () => new Uint8Array(0)), "STORAGE_VERSION"],
  ];
  for (const [what, edit, code] of cases) {
    const { engine, cleanup } = await restored("owner", edit);
    try {
      await rejectsWith(engine.status(gid), code, what);
      await rejectsWith(engine.encrypt(gid, new Uint8Array([1]), { scheme: "sender-ratchet" }), code, `${what}: encrypt`);
    } finally {
      await engine.close();
      await cleanup();
    }
  }
  // the MLS state head with an unknown version: the group record reads, the state does not
  const head = `!${Sublevel.State}!${fixture.groupId}/h`;
  const { engine, cleanup } = await restored("member", editValue(head, withVersion(0xfe)));
  try {
    assert.equal(await engine.status(gid), "member");
    const sr = fixture.messages.findIndex((m) => m.name === "sr2");
    const [r] = await engine.decrypt([frozenMessages[sr] as Uint8Array]);
    assert.ok(r instanceof SecretGroupError, `decrypt: ${String(r)}`);
    assert.equal(r.code, "STORAGE_VERSION");
    await rejectsWith(engine.encrypt(gid, new Uint8Array([1]), { scheme: "sender-ratchet" }), "STORAGE_VERSION", "encrypt with a bad state head");
  } finally {
    await engine.close();
    await cleanup();
  }
});

test("an unknown version byte in the materialisation index is a typed error", async () => {
  const first = fixture.engines.indexer.entries.find(([k]) => k.startsWith(`!${Sublevel.Materialise}!h/${fixture.groupId}/`));
  assert.ok(first !== undefined);
  const { engine, cleanup } = await restored("indexer", editValue(first[0], withVersion(0xfe)));
  try {
    // the index decoders report DECODE_ERROR today (src/materialise/records.ts); STORAGE_VERSION would be more precise
    await rejectsWith(engine.history(gid), ["STORAGE_VERSION", "DECODE_ERROR"], "history");
  } finally {
    await engine.close();
    await cleanup();
  }
});

test("a frozen database refuses another identity", async () => {
  const path = await mkdtemp(join(tmpdir(), "sg-fixture-identity-"));
  try {
    const db = rawDb(path);
    await db.open();
    await db.batch(fixture.engines.owner.entries.map(([key, value]) => ({ type: "put" as const, key, value: unhex(value) })));
    await db.close();
    await rejectsWith(SecretGroupEngine.open({ path, identity: identityFromSecretKey(unhex(fixture.engines.member.seed)), threads: 1 }), "STORAGE_ERROR", "wrong identity");
  } finally {
    await rm(path, { recursive: true, force: true });
  }
});
