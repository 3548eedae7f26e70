/**
 * Shared by the frozen storage fixtures' tests and their generator: the fixture's types and plain
 * JSON form, raw database access with the encodings EngineStore uses, restoring a fixture, and
 * the checks every fixture must pass (format 1 in the clear, format 2 sealed).
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { toHex } from "../src/bytes.js";
import { KEYRING_FILE } from "../src/constants.js";
import { decodeDocument } from "../src/documents/index.js";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { identityFromSecretKey } from "../src/identity.js";
import { decodeSecretGroupMessage } from "../src/message.js";
import type { EngineStore } from "../src/engine/store/store.js";
import { openStore } from "./engine-helpers.js";

/** Plain JSON form of fixture values: bytes as hex, bigints as decimal strings. @example `plain({ a: 1n }) // { a: "1" }` */
export function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** Raw view of an engine database (utf8 keys, byte values). @example `const db = rawDb(path)` */
export const rawDb = (path: string): Level<string, Uint8Array> => new Level<string, Uint8Array>(path, { keyEncoding: "utf8", valueEncoding: "view" });

/** Every entry of a closed engine database, in key order, values in hex. @example `assert.deepEqual(await rawEntries(path), before)` */
export async function rawEntries(path: string): Promise<Array<[string, string]>> {
  const db = rawDb(path);
  await db.open();
  const out: Array<[string, string]> = [];
  for await (const [key, value] of db.iterator()) out.push([key, toHex(value)]);
  await db.close();
  return out;
}

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
  /** Format 2: the keyring file (hex), when the engine had own keys. */
  readonly keyring?: string;
}
/** test/vectors/storage-v1.json (format 1, in the clear) and storage-v2.json (format 2, sealed). */
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

/** The engines' names, in fixture order. */
export const NAMES: readonly EngineName[] = ["owner", "member", "carol", "indexer"];
/** Hex to bytes. @example `unhex("ff")` */
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
/** Bytes to hex. @example `hex(bytes)` */
export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const text = (r: Uint8Array | Error): string => {
  if (r instanceof Error) throw r;
  return new TextDecoder().decode(r);
};

/** Reads test/vectors/<file>. @example `loadFixture("storage-v1.json")` */
export function loadFixture(file: string): StorageFixture {
  return JSON.parse(readFileSync(new URL(`../../test/vectors/${file}`, import.meta.url), "utf8")) as StorageFixture;
}

/** Edits a fixture's entries before they are restored. */
export type Edit = (entries: Array<[string, string]>) => Array<[string, string]>;

/** A fresh database folder holding `name`'s frozen entries (optionally edited) and keyring file, and an engine on it. @example `await restored(fixture, "owner")` */
export async function restored(fixture: StorageFixture, name: EngineName, edit?: Edit): Promise<{ engine: SecretGroupEngine; path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `sg-fixture-${name}-`));
  const cleanup = (): Promise<void> => rm(path, { recursive: true, force: true });
  try {
    const frozen = fixture.engines[name];
    const entries = edit === undefined ? frozen.entries : edit(frozen.entries.map(([k, v]) => [k, v]));
    const db = rawDb(path);
    await db.open();
    await db.batch(entries.map(([key, value]) => ({ type: "put" as const, key, value: unhex(value) })));
    await db.close();
    if (frozen.keyring !== undefined) await writeFile(join(path, KEYRING_FILE), unhex(frozen.keyring));
    const engine = await SecretGroupEngine.open({ path, identity: identityFromSecretKey(unhex(frozen.seed)), threads: 1 });
    return { engine, path, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/**
 * Runs `use` on the store of engine `name` of a restored fixture (opened by itself, as the engine
 * would open it), then closes and removes it.
 *
 * @example
 * ```ts
 * await withRestoredStore(fixture, "member", async (store) => store.keys(Sublevel.State, ""))
 * ```
 */
export async function withRestoredStore(fixture: StorageFixture, name: EngineName, use: (store: EngineStore) => Promise<void>): Promise<void> {
  const { engine, path, cleanup } = await restored(fixture, name);
  try {
    await engine.close();
    const store = await openStore(path, identityFromSecretKey(unhex(fixture.engines[name].seed)));
    try {
      await use(store);
    } finally {
      await store.close();
    }
  } finally {
    await cleanup();
  }
}

/**
 * The tests every frozen fixture must pass: each engine, restored, reads exactly as it was
 * written (and what it read once is consumed); restored engines carry on (new messages,
 * commits, a join with a frozen key package).
 */
export function fixtureReadTests(label: string, fixture: StorageFixture): void {
  const gid = unhex(fixture.groupId);
  const frozenMessages = fixture.messages.map((m) => unhex(m.message));
  for (const name of NAMES) {
    test(`${label} ${name}: a restored database reads exactly as it was written`, async () => {
      const expected = fixture.engines[name];
      const { engine, cleanup } = await restored(fixture, name);
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

  test(`${label}: restored engines carry on: new messages, commits, a join with a frozen key package`, async () => {
    const owner = await restored(fixture, "owner");
    const member = await restored(fixture, "member");
    const indexer = await restored(fixture, "indexer");
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
      const outbox = await member.engine.outbox();
      assert.equal(outbox.length, fixture.engines.member.entries.filter(([k]) => k.startsWith(`!${Sublevel.Outbox}!`)).length);
      assert.ok(outbox.length >= 1);
      // outbox keys of earlier releases are acknowledged by document id like the current ones
      assert.equal(await member.engine.acknowledge(outbox.map((d) => decodeDocument(d).id)), outbox.length);
      assert.deepEqual(await member.engine.outbox(), []);
    } finally {
      for (const node of [owner, member, indexer]) {
        await node.engine.close();
        await node.cleanup();
      }
    }
  });
}

/**
 * The test of a frozen fixture whose format needs no migration: each engine, restored, opened and
 * closed, leaves every stored value as it was.
 *
 * @example
 * ```ts
 * fixtureOpensUnchangedTest("format 3", loadFixture("storage-v3.json"))
 * ```
 */
export function fixtureOpensUnchangedTest(label: string, fixture: StorageFixture): void {
  test(`${label} opens without a migration: every frozen value is left as it was`, async () => {
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
}
