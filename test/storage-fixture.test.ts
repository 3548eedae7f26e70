/**
 * Frozen storage fixture (in the spirit of OpenMLS's storage KAT): test/vectors/storage-v1.json
 * holds every raw LevelDB key/value of four engines (owner, member, a removed member, a
 * non-member indexer) written by storage format 1. Each is written back into a fresh database
 * and opened by today's engine, which must read it exactly as it was (status, members, epochs,
 * history, the frozen messages, consumed sender-ratchet keys still consumed) and carry on from
 * it. A change of any stored format makes this fail instead of silently breaking users' data;
 * such a change needs a migration (and this fixture keeps passing), never a regenerated fixture.
 * An unknown version byte or a truncated record must be a typed error, never a crash or misuse.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { identityFromSecretKey } from "../src/identity.js";
import { STORAGE_VERSION } from "../src/constants.js";
import { SecretGroupError, StorageError } from "../src/errors.js";
import { Sublevel } from "../src/engine/store/store.js";
import { decodeSecretGroupMessage } from "../src/message.js";
import { plain, rawDb } from "./storage-support.js";

/** The engines of the fixture. */
export type EngineName = "owner" | "member" | "carol" | "indexer";
/** What decrypting one frozen message must give: its plaintext, or an error with this code. */
export type Expectation = { readonly ok: true } | { readonly code: string };
/** One engine's frozen database and what it must read. Bytes are hex, bigints decimal strings. */
export interface EngineFixture {
  readonly seed: string;
  readonly publicKey: string;
  /** `engine.describe(groupId)` in plain JSON form. */
  readonly describe: Record<string, unknown>;
  /** Sorted hex public keys of `engine.members(groupId)`. */
  readonly members: string[];
  /** `engine.groups().length`. */
  readonly groups: number;
  /** `engine.history(groupId)` in plain JSON form. */
  readonly history: unknown[];
  /** Message name -> expected read. */
  readonly decrypt: Record<string, Expectation>;
  /** Every raw key (utf8, sublevel prefix included) and value (hex), in key order. */
  readonly entries: Array<[string, string]>;
}
/** test/vectors/storage-v1.json. */
export interface StorageFixture {
  readonly description: string;
  readonly storageVersion: number;
  readonly ciphersuite: string;
  readonly groupId: string;
  readonly messages: Array<{ name: string; author: EngineName; scheme: "long-term" | "sender-ratchet"; message: string; plaintext: string }>;
  /** The indexer's published key package document (its private part is in the indexer's store). */
  readonly indexerKeyPackage: string;
  readonly engines: Record<EngineName, EngineFixture>;
}

const FIXTURE_FILE = new URL("../../test/vectors/storage-v1.json", import.meta.url);
const fixture = JSON.parse(readFileSync(FIXTURE_FILE, "utf8")) as StorageFixture;
const NAMES: readonly EngineName[] = ["owner", "member", "carol", "indexer"];
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const text = (r: Uint8Array | Error): string => {
  if (r instanceof Error) throw r;
  return new TextDecoder().decode(r);
};
const gid = unhex(fixture.groupId);
const groupKey = `!${Sublevel.Groups}!${fixture.groupId}`;



type Edit = (entries: Array<[string, string]>) => Array<[string, string]>;

/** A fresh database folder holding `name`'s frozen entries (optionally edited), and an engine on it. */
async function restored(name: EngineName, edit?: Edit): Promise<{ engine: SecretGroupEngine; path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `sg-fixture-${name}-`));
  const cleanup = (): Promise<void> => rm(path, { recursive: true, force: true });
  try {
    const entries = edit === undefined ? fixture.engines[name].entries : edit(fixture.engines[name].entries.map(([k, v]) => [k, v]));
    const db = rawDb(path);
    await db.open();
    await db.batch(entries.map(([key, value]) => ({ type: "put" as const, key, value: unhex(value) })));
    await db.close();
    const engine = await SecretGroupEngine.open({ path, identity: identityFromSecretKey(unhex(fixture.engines[name].seed)), threads: 1 });
    return { engine, path, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

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

for (const name of NAMES) {
  test(`${name}: a restored database reads exactly as it was written`, async () => {
    const expected = fixture.engines[name];
    const { engine, cleanup } = await restored(name);
    try {
      assert.equal(hex(engine.publicKey), expected.publicKey);
      assert.deepEqual(plain(await engine.describe(gid)), expected.describe);
      assert.equal(await engine.status(gid), expected.describe["status"]);
      assert.deepEqual((await engine.members(gid)).map(hex).sort(), expected.members);
      assert.equal((await engine.groups()).length, expected.groups);
      assert.deepEqual(plain(await engine.history(gid)), expected.history);
      const results = await engine.decrypt(frozenMessages);
      results.forEach((r, i) => {
        const m = fixture.messages[i] as StorageFixture["messages"][number];
        const want = expected.decrypt[m.name];
        assert.ok(want !== undefined, `${name}: expectation for ${m.name}`);
        if ("ok" in want) assert.equal(text(r), m.plaintext, `${name} reads ${m.name}`);
        else {
          assert.ok(r instanceof Error, `${name}: ${m.name} must not be readable (expected ${want.code})`);
          assert.equal((r as Error & { code?: string }).code, want.code, `${name}: ${m.name}`);
        }
      });
      // what was readable once and was a sender-ratchet message of someone else is consumed now
      const again = await engine.decrypt(frozenMessages);
      again.forEach((r, i) => {
        const m = fixture.messages[i] as StorageFixture["messages"][number];
        const want = expected.decrypt[m.name] as Expectation;
        if ("ok" in want && m.scheme === "sender-ratchet" && m.author !== name) assert.equal((r as Error & { code?: string }).code, "REPLAY", `${name}: ${m.name} twice`);
        else if ("ok" in want) assert.equal(text(r), m.plaintext);
      });
    } finally {
      await engine.close();
      await cleanup();
    }
  });
}

test("restored engines carry on: new messages, commits, a join with a frozen key package", async () => {
  const owner = await restored("owner");
  const member = await restored("member");
  const indexer = await restored("indexer");
  try {
    const before = fixture.engines.owner.describe as { mlsEpoch: string; ltsEpoch: string };
    const mlsEpoch = BigInt(before.mlsEpoch);
    const ltsEpoch = BigInt(before.ltsEpoch);

    // a long-term message after the restart never reuses a frozen nonce (the reservation was stored)
    const lt = await owner.engine.encrypt(gid, new TextEncoder().encode("after restart"), { scheme: "long-term" });
    const decoded = decodeSecretGroupMessage(lt);
    assert.ok(decoded.type === "long-term");
    assert.equal(decoded.ciphertext.epoch, ltsEpoch);
    for (const m of fixture.messages.filter((x) => x.scheme === "long-term")) {
      const old = decodeSecretGroupMessage(unhex(m.message));
      assert.ok(old.type === "long-term");
      assert.notEqual(hex(old.ciphertext.nonce), hex(decoded.ciphertext.nonce), `nonce of ${m.name} reused`);
    }
    assert.equal(text((await member.engine.decrypt([lt]))[0] as Uint8Array), "after restart");

    // the owner adds the indexer with the key package whose private part is in the frozen store
    const add = await owner.engine.addMembers(gid, [unhex(fixture.indexerKeyPackage)]);
    await member.engine.ingest(add.documents);
    await indexer.engine.ingest(add.documents);
    assert.equal(await indexer.engine.status(gid), "member");
    // then rotates: member and the new member follow
    const rot = await owner.engine.rotate(gid);
    await member.engine.ingest(rot.documents);
    await indexer.engine.ingest(rot.documents);
    for (const node of [owner, member, indexer]) {
      const info = await node.engine.describe(gid);
      assert.equal(info.mlsEpoch, mlsEpoch + 2n);
      assert.equal(info.ltsEpoch, ltsEpoch + 1n);
      assert.equal(info.members.length, fixture.engines.owner.members.length + 1);
      assert.equal((await node.engine.history(gid)).length, fixture.engines.indexer.history.length + 2);
    }
    const fresh = await owner.engine.encrypt(gid, new TextEncoder().encode("new epoch"), { scheme: "long-term" });
    const ratchet = await member.engine.encrypt(gid, new TextEncoder().encode("member ratchet"), { scheme: "sender-ratchet" });
    assert.deepEqual((await member.engine.decrypt([fresh, ratchet])).map(text), ["new epoch", "member ratchet"]);
    assert.deepEqual((await indexer.engine.decrypt([fresh, ratchet])).map(text), ["new epoch", "member ratchet"]);
    assert.deepEqual((await owner.engine.decrypt([ratchet])).map(text), ["member ratchet"]);
    // the member's frozen outbox still holds the deletion of the key package its join consumed
    const outbox = await member.engine.takeOutbox();
    assert.equal(outbox.length, fixture.engines.member.entries.filter(([k]) => k.startsWith(`!${Sublevel.Outbox}!`)).length);
    assert.ok(outbox.length >= 1);
  } finally {
    for (const node of [owner, member, indexer]) {
      await node.engine.close();
      await node.cleanup();
    }
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
      assert.ok(value[0] === STORAGE_VERSION || (value[0] === fixture.storageVersion && frozen.get(key) === hex(value)), `${key}`);
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
