/**
 * The storage key: a wrong key is refused with STORAGE_KEY and changes nothing; sealed values
 * are bound to their sublevel and key (moved or altered: STORAGE_INTEGRITY); rotation re-seals
 * everything, also when interrupted (either key opens the database until it completes);
 * orphan own keys are destroyed on open.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { toHex, utf8 } from "../src/bytes.js";
import { KEYRING_FILE, RESEAL_BATCH, STORAGE_VERSION } from "../src/constants.js";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { EngineStore } from "../src/engine/store/store.js";
import { isSealed, Sublevel } from "../src/engine/store/sublevels.js";
import type { SublevelName } from "../src/engine/store/sublevels.js";
import { beginRotation, MetaKey, reseal } from "../src/engine/store/keys.js";
import { deriveStorageKey, Sealer } from "../src/engine/store/seal.js";
import { sealedGeneration } from "../src/engine/store/sealedValue.js";
import { Keyring } from "../src/engine/store/keyring.js";
import { nativeAead } from "../src/nativeAead.js";
import { ingestAll, openNode, tempDir } from "./engine-helpers.js";
import { rawDb, rawEntries } from "./storage-support.js";

const text = (r: Uint8Array | Error | undefined): string => {
  if (!(r instanceof Uint8Array)) throw r ?? new Error("missing");
  return new TextDecoder().decode(r);
};

/** Storage key generations of every sealed value in a closed store (own-key values: "own"). */
async function generations(path: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const [key, value] of await rawEntries(path)) {
    const sub = Object.values(Sublevel).find((s) => key.startsWith(`!${s}!`)) as SublevelName;
    if (isSealed(sub)) out.add(String(sealedGeneration(Buffer.from(value, "hex")) ?? "own"));
  }
  return out;
}

/** Two members of a group with messages of both schemes, engines closed; returns what to check. */
async function grownNode(storageKey?: Uint8Array) {
  const owner = await openNode(storageKey === undefined ? {} : { storageKey });
  const bob = await openNode();
  const kp = (await bob.engine.publishKeyPackage()).documents;
  await owner.engine.publishKeyPackage(); // an own key in the owner's keyring
  const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
  const gid = created.groupId as Uint8Array;
  const add = await owner.engine.addMembers(gid, kp);
  await ingestAll(bob.engine, [...created.documents, ...add.documents]);
  const messages = [
    await owner.engine.encrypt(gid, utf8("long-term"), { scheme: "long-term" }),
    await owner.engine.encrypt(gid, utf8("own ratchet"), { scheme: "sender-ratchet" }),
    await bob.engine.encrypt(gid, utf8("bob ratchet"), { scheme: "sender-ratchet" }),
  ];
  await owner.engine.close();
  await bob.engine.close();
  await bob.cleanup();
  return { owner, gid, messages, expected: ["long-term", "own ratchet", "bob ratchet"] };
}

test("a wrong storage key is STORAGE_KEY and leaves the database as it was", async () => {
  const key = new Uint8Array(randomBytes(32));
  const { owner, gid } = await grownNode(key);
  try {
    const before = await rawEntries(owner.path);
    const keyring = await readFile(join(owner.path, KEYRING_FILE));
    for (const wrong of [undefined, new Uint8Array(32).fill(9)]) {
      // undefined: the key derived from the identity, not the one this database was made with
      await assert.rejects(owner.reopen(wrong === undefined ? { storageKey: undefined } : { storageKey: wrong }), { code: "STORAGE_KEY", name: "StorageError" });
    }
    await assert.rejects(owner.reopen({ storageKey: new Uint8Array(31) }), { code: "INVALID_ARGUMENT" });
    assert.deepEqual(await rawEntries(owner.path), before);
    assert.deepEqual(await readFile(join(owner.path, KEYRING_FILE)), keyring);
    const engine = await owner.reopen({ storageKey: key });
    assert.equal(await engine.status(gid), "member");
    await engine.close();
  } finally {
    await owner.cleanup();
  }
});

test("a sealed value altered, or moved to another key, is STORAGE_INTEGRITY", async () => {
  const { owner, gid, messages } = await grownNode();
  const gidHex = toHex(gid);
  const other = await owner.reopen();
  const second = (await other.createGroup({ ciphersuite: "PANDA10_AES128GCM" })).groupId as Uint8Array;
  await other.close();
  try {
    const hot = (g: Uint8Array): string => `!${Sublevel.Groups}!${toHex(g)}/hot`;
    const entries = new Map(await rawEntries(owner.path));
    const cases: Array<[string, (db: ReturnType<typeof rawDb>) => Promise<void>]> = [
      ["hot record of another group", (db) => db.put(hot(gid), Buffer.from(entries.get(hot(second)) as string, "hex"))],
      ["bit flipped in the hot record", (db) => {
        const v = Buffer.from(entries.get(hot(gid)) as string, "hex");
        v.writeUInt8(v.readUInt8(v.length - 20) ^ 1, v.length - 20);
        return db.put(hot(gid), v);
      }],
      ["state head of another group", (db) => db.put(`!${Sublevel.State}!${gidHex}/h`, Buffer.from(entries.get(`!${Sublevel.State}!${toHex(second)}/h`) as string, "hex"))],
      // a state load opens its parts in place (Sealer.openInPlace): the tag is checked there too
      ["bit flipped in a stored tree chunk", (db) => {
        const [key, value] = [...entries].find(([k]) => k.startsWith(`!${Sublevel.State}!${gidHex}/k/`)) as [string, string];
        const v = Buffer.from(value, "hex");
        v.writeUInt8(v.readUInt8(v.length - 20) ^ 1, v.length - 20);
        return db.put(key, v);
      }],
      // the worker's load does not hash chunks against their content keys (loadState's
      // `authenticated`): the key in the associated data is what refuses another chunk's bytes
      ["tree chunk stored under another chunk's key", (db) => {
        const chunks = [...entries].filter(([k]) => k.startsWith(`!${Sublevel.State}!${gidHex}/k/`));
        assert.ok(chunks.length >= 2, "two chunks to swap");
        return db.put(chunks[0]![0], Buffer.from(chunks[1]![1], "hex"));
      }],
    ];
    for (const [what, change] of cases) {
      const db = rawDb(owner.path);
      await db.open();
      await change(db);
      await db.close();
      const engine = await owner.reopen();
      try {
        await assert.rejects(engine.encrypt(gid, utf8("x"), { scheme: "sender-ratchet" }), { code: "STORAGE_INTEGRITY" }, what);
        const [r] = await engine.decrypt([messages[2] as Uint8Array]);
        assert.equal((r as Error & { code?: string }).code, "STORAGE_INTEGRITY", what);
        assert.equal(await engine.status(second), "member", `${what}: the other group still reads`);
      } finally {
        await engine.close();
      }
      // put the original back for the next case
      const restore = rawDb(owner.path);
      await restore.open();
      await restore.batch([...entries].map(([key, value]) => ({ type: "put" as const, key, value: Buffer.from(value, "hex") })));
      await restore.close();
    }
  } finally {
    await owner.cleanup();
  }
});

test("a value opened in place is a view of its own bytes, and one that does not authenticate is STORAGE_INTEGRITY with its ciphertext wiped", () => {
  const sealer = new Sealer(new Map([[0, randomBytes(32)]]), 0);
  const plain = randomBytes(5000);
  const sealed = sealer.seal(Sublevel.State, "g/k/1", plain);
  const own = Uint8Array.from(sealed);
  const opened = sealer.openInPlace(Sublevel.State, "g/k/1", own);
  assert.deepEqual(opened, new Uint8Array(plain));
  // with the addon the plaintext lies where its ciphertext was (34 header bytes before it)
  if (nativeAead !== undefined) assert.ok(opened.buffer === own.buffer && opened.byteOffset === 34, "a view into the value's bytes");
  const altered = Uint8Array.from(sealed);
  altered[altered.length - 1] = altered[altered.length - 1]! ^ 1;
  assert.throws(() => sealer.openInPlace(Sublevel.State, "g/k/1", altered), { code: "STORAGE_INTEGRITY" });
  if (nativeAead !== undefined) assert.ok(altered.subarray(34, altered.length - 16).every((b) => b === 0), "no byte of the failed open is left");
  assert.throws(() => sealer.openInPlace(Sublevel.State, "g/k/2", Uint8Array.from(sealed)), { code: "STORAGE_INTEGRITY" }, "another key");
});

test("rotateStorageKey re-seals everything: the new key opens the database, the old one no longer", async () => {
  const { owner, gid, messages, expected } = await grownNode();
  try {
    let engine = await owner.reopen();
    // writes in flight while the rotation runs wait for it and land under the new key
    const during = Promise.all([0, 1, 2].map((i) => engine.encrypt(gid, utf8(`during ${i}`), { scheme: i % 2 === 0 ? "long-term" : "sender-ratchet" })));
    const key = await engine.rotateStorageKey();
    const written = await during;
    assert.equal(key.length, 32);
    await engine.close();
    assert.deepEqual([...(await generations(owner.path))].sort(), ["1", "own"], "every value under the new generation or its own key");
    await assert.rejects(owner.reopen(), { code: "STORAGE_KEY" });
    engine = await owner.reopen({ storageKey: key });
    try {
      assert.deepEqual((await engine.decrypt(messages)).map(text), expected);
      assert.deepEqual((await engine.decrypt(written)).map(text), ["during 0", "during 1", "during 2"]);
      // a second rotation to a key of the caller's choosing
      const chosen = new Uint8Array(randomBytes(32));
      assert.deepEqual(await engine.rotateStorageKey(chosen), chosen);
      await assert.rejects(engine.rotateStorageKey(chosen), { code: "INVALID_ARGUMENT" });
    } finally {
      await engine.close();
    }
    assert.deepEqual([...(await generations(owner.path))].sort(), ["2", "own"]);
  } finally {
    await owner.cleanup();
  }
});

test("a rotation killed mid-way: either key opens the database and the rotation completes", async () => {
  const { owner, gid, messages, expected } = await grownNode();
  const copies = await tempDir();
  try {
    const oldKey = deriveStorageKey(owner.identity.secretKey);
    const newKey = new Uint8Array(randomBytes(32));
    const store = await EngineStore.open(owner.path, owner.identity.publicKey, oldKey);
    await beginRotation(store, newKey);
    // part of the values re-sealed (one synced batch of the state), then the process dies
    let n = 0;
    const resealed = await reseal(store, [Sublevel.State], () => n++ % 2 === 0, (sub, key, raw) => store.opened(sub, key, raw));
    assert.ok(resealed > 0 && resealed < RESEAL_BATCH);
    await store.close();
    assert.deepEqual([...(await generations(owner.path))].sort(), ["0", "1", "own"], "a mix of both generations");
    for (const [name, key] of [["old", oldKey], ["new", newKey]] as const) {
      const path = join(copies.path, name);
      await cp(owner.path, path, { recursive: true });
      const engine = await SecretGroupEngine.open({ path, identity: owner.identity, threads: 1, storageKey: key });
      try {
        assert.deepEqual((await engine.decrypt(messages)).map(text), expected, `${name} key`);
        assert.equal(await engine.status(gid), "member");
      } finally {
        await engine.close();
      }
      assert.deepEqual([...(await generations(path))].sort(), ["1", "own"], `${name} key: the rotation completed`);
      assert.ok(!(await rawEntries(path)).some(([k]) => k === `!${Sublevel.Meta}!${MetaKey.Rotation}`), "completion marker: the rotation record is gone");
      await assert.rejects(SecretGroupEngine.open({ path, identity: owner.identity, threads: 1, storageKey: oldKey }), { code: "STORAGE_KEY" });
      const again = await SecretGroupEngine.open({ path, identity: owner.identity, threads: 1, storageKey: newKey });
      await again.close();
    }
  } finally {
    await owner.cleanup();
    await copies.cleanup();
  }
});

test("an own key whose value is gone (a crash between keyring and batch) is destroyed on open", async () => {
  const { owner } = await grownNode();
  try {
    const storageKey = deriveStorageKey(owner.identity.secretKey);
    const store = await EngineStore.open(owner.path, owner.identity.publicKey, storageKey);
    await store.keyring.create([`${Sublevel.KeyPackages}/00ff`]);
    const held = store.keyring.ids();
    await store.close();
    assert.equal(held.length, 2);
    const engine = await owner.reopen();
    await engine.close();
    const keyring = await Keyring.load(owner.path, new Sealer(new Map([[0, storageKey]]), 0));
    assert.deepEqual(keyring.ids(), held.filter((id) => id !== `${Sublevel.KeyPackages}/00ff`));
  } finally {
    await owner.cleanup();
  }
});

test("sealing: fresh nonce per value, bound to sublevel, key and generation", () => {
  const key = new Uint8Array(32).fill(3);
  const sealer = new Sealer(new Map([[0, key]]), 0);
  const value = Uint8Array.of(STORAGE_VERSION, 1, 2, 3);
  const a = sealer.seal("state", "g/h", value);
  const b = sealer.seal("state", "g/h", value);
  assert.notDeepEqual(a, b);
  assert.deepEqual(sealer.open("state", "g/h", a), value);
  assert.throws(() => sealer.open("state", "g/x", a), { code: "STORAGE_INTEGRITY" });
  assert.throws(() => sealer.open("sent", "g/h", a), { code: "STORAGE_INTEGRITY" });
  const relabelled = Uint8Array.from(a);
  relabelled[5] = 1; // generation 1 under the same key
  const both = new Sealer(new Map([[0, key], [1, key]]), 0);
  assert.throws(() => both.open("state", "g/h", relabelled), { code: "STORAGE_INTEGRITY" });
  assert.throws(() => new Sealer(new Map([[0, new Uint8Array(32)]]), 0).open("state", "g/h", a), { code: "STORAGE_INTEGRITY" });
  assert.throws(() => sealer.open("state", "g/h", a.subarray(0, 20)), { code: "DECODE_ERROR" });
  // another session (another salt) never repeats a (subkey, nonce) pair: the headers differ
  const c = new Sealer(new Map([[0, key]]), 0).seal("state", "g/h", value);
  assert.notDeepEqual(c.subarray(0, 34), a.subarray(0, 34));
});

test("a sealed sublevel reads the same through get, scan and reader; its files hold only the seal", async () => {
  const dir = await tempDir();
  try {
    const self = new Uint8Array(32).fill(1);
    const store = await EngineStore.open(dir.path, self, new Uint8Array(32).fill(2));
    const value = utf8("a kept plaintext");
    await store.batch([
      { sub: Sublevel.Sent, key: "m1", value },
      { sub: Sublevel.Sent, key: "m2", value: Uint8Array.of(9, 9), versioned: true },
    ]);
    assert.deepEqual(await store.get(Sublevel.Sent, "m1", "sent"), value);
    assert.deepEqual(await store.scan(Sublevel.Sent, "m1", "sent"), [["m1", value]]);
    // the reader gives each value's unsealed stored form, version byte in front
    const reader = store.reader(Sublevel.Sent);
    assert.deepEqual(await reader.get("m1"), Uint8Array.of(STORAGE_VERSION, ...value));
    const rows: Array<readonly [unknown, unknown]> = [];
    for await (const row of reader.iterator({ gte: "", lt: "\uffff" })) rows.push(row);
    assert.deepEqual(rows, [["m1", Uint8Array.of(STORAGE_VERSION, ...value)], ["m2", Uint8Array.of(9, 9)]]);
    const raw = new Map(await store.rawScan(Sublevel.Sent, ""));
    assert.equal(raw.get("m1")?.[0], 2);
    assert.ok(!Buffer.from(raw.get("m1") as Uint8Array).includes(Buffer.from(value)));
    await store.close();
  } finally {
    await dir.cleanup();
  }
});

test("a rotation whose first batch failed, retried with another key, seals under the key it persists", async () => {
  const { owner, messages, expected } = await grownNode();
  try {
    let engine = await owner.reopen();
    const store = (engine as unknown as { ctx: { store: EngineStore } }).ctx.store;
    const rawBatch = store.rawBatch.bind(store);
    let failures = 0;
    store.rawBatch = async (ops, sync) => {
      if (failures++ === 0) throw new Error("disk full");
      return rawBatch(ops, sync);
    };
    // the first attempt seals its record under generation 1 of a key that is then never persisted
    await assert.rejects(engine.rotateStorageKey(new Uint8Array(randomBytes(32))), /disk full/);
    const key = new Uint8Array(randomBytes(32));
    assert.deepEqual(await engine.rotateStorageKey(key), key);
    await engine.close();
    engine = await owner.reopen({ storageKey: key });
    try {
      assert.deepEqual((await engine.decrypt(messages)).map(text), expected);
    } finally {
      await engine.close();
    }
  } finally {
    await owner.cleanup();
  }
});

test("a value sealed with its version byte as prefix opens to that byte then the value, under either key kind", () => {
  const sealer = new Sealer(new Map([[0, new Uint8Array(randomBytes(32))]]), 0);
  const own = new Uint8Array(randomBytes(32));
  for (const size of [0, 1, 30, 63, 64, 65, 500, 70_000]) {
    const value = new Uint8Array(randomBytes(size));
    const before = value.slice();
    const expected = Uint8Array.from([7, ...value]);
    const sealed = sealer.seal("groups", `g/${size}`, value, undefined, undefined, 7);
    assert.deepEqual(sealer.open("groups", `g/${size}`, sealed), expected, `storage key, ${size} bytes`);
    assert.deepEqual(value, before, "the value itself is untouched");
    const ownSealed = sealer.seal("keypkgs", `k/${size}`, value, own, undefined, 7);
    assert.deepEqual(sealer.open("keypkgs", `k/${size}`, ownSealed, () => own), expected, `own key, ${size} bytes`);
    // the same bytes as sealing the prefixed copy: same length, and each opens under the other's key and name only
    assert.equal(sealed.length, sealer.seal("groups", `g/${size}`, expected).length);
    assert.throws(() => sealer.open("groups", `g/${size + 1}`, sealed), { code: "STORAGE_INTEGRITY" });
  }
});
