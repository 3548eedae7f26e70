/**
 * Prepared batches (src/engine/store/store.ts `prepare`): the first writes of a step's batch put
 * into a LevelDB batch ahead of the rest (a receiver's commit document and index records, while
 * its worker applies the commit). The write that takes one is still one atomic LevelDB batch
 * holding every op once; one whose ops do not start with the prepared ops, or one that fails,
 * writes nothing of it; a synced write takes one, and in a group commit the writes after it are
 * added to its batch, up to the next that brings one; values of sealed sublevels are never
 * prepared; no prepared batch is left open; and a receiver's next commit and a join in its
 * commit's step go through one. Only writes of PREPARE_MIN_BYTES are prepared (the tests of the
 * mechanism lower the store's `prepareMinBytes` to prepare small ones): small joins share a synced
 * LevelDB write, where each prepared one would start its own.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex, utf8 } from "../src/bytes.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import type { EngineContext } from "../src/engine/context.js";
import type { EngineStore, PreparedOps, StoreOp } from "../src/engine/store/store.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { syncGroupLength } from "../src/engine/store/prepared.js";
import { PREPARE_MIN_BYTES } from "../src/constants.js";
import { groupAddingMember, groupWithMember, ingestAll, withNodes, withStore } from "./engine-helpers.js";

/** Counts the LevelDB batches (and other resources) the store's database holds open. */
function openResources(store: EngineStore): { readonly count: () => number; readonly writes: Array<{ keys: string[]; sync?: boolean }> } {
  const db = (store as unknown as { db: { attachResource(r: unknown): void; detachResource(r: unknown): void; batch(): ChainedSpy } }).db;
  const live = new Set<unknown>();
  const [attach, detach, batch] = [db.attachResource.bind(db), db.detachResource.bind(db), db.batch.bind(db)];
  db.attachResource = (r) => (live.add(r), attach(r));
  db.detachResource = (r) => (live.delete(r), detach(r));
  const writes: Array<{ keys: string[]; sync?: boolean }> = [];
  db.batch = () => {
    const chained = batch();
    const w: { keys: string[]; sync?: boolean } = { keys: [] };
    const [put, del, write] = [chained.put.bind(chained), chained.del.bind(chained), chained.write.bind(chained)];
    chained.put = (key, value, o) => (w.keys.push(key), put(key, value, o));
    chained.del = (key, o) => (w.keys.push(key), del(key, o));
    chained.write = (o) => (writes.push({ ...w, sync: o?.sync === true }), write(o));
    return chained;
  };
  return { count: () => live.size, writes };
}

interface ChainedSpy {
  put(key: string, value: Uint8Array, o?: object): ChainedSpy;
  del(key: string, o?: object): ChainedSpy;
  write(o?: { sync?: boolean }): Promise<void>;
}

const op = (sub: StoreOp["sub"], key: string, text: string): StoreOp => ({ sub, key, value: utf8(text) });
const read = async (store: EngineStore, sub: StoreOp["sub"], key: string): Promise<string | undefined> => {
  const v = await store.get(sub, key, "test value");
  return v === undefined ? undefined : new TextDecoder().decode(v);
};
/** Lets a discarded batch's close settle. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

test("a batch that takes a prepared batch writes every op once, in one LevelDB write, and leaves nothing open", () =>
  withStore(async ({ store }) => {
    store.prepareMinBytes = 0; // the mechanism, on small writes
    const spy = openResources(store);
    const doc = op(Sublevel.Docs, "d1", "the document");
    const index = op(Sublevel.Materialise, "i1", "an index record");
    const prepared = store.prepare([doc, index]);
    assert.ok(prepared !== undefined);
    assert.equal(spy.count(), 1); // its LevelDB batch, open until the write
    const state = op(Sublevel.State, "g/h", "sealed state");
    await store.batch([doc, index, state, op(Sublevel.Commits, "g/c1", "record")], { prepared });
    assert.equal(spy.writes.length, 1);
    assert.equal(spy.writes[0]!.keys.length, 4, spy.writes[0]!.keys.join(" "));
    assert.equal(await read(store, Sublevel.Docs, "d1"), "the document");
    assert.equal(await read(store, Sublevel.Materialise, "i1"), "an index record");
    assert.equal(await read(store, Sublevel.State, "g/h"), "sealed state");
    assert.equal(await read(store, Sublevel.Commits, "g/c1"), "record");
    await settle();
    assert.equal(spy.count(), 0);
  }));

test("a prepared batch whose ops the write does not start with is discarded: nothing of it is written", () =>
  withStore(async ({ store }) => {
    store.prepareMinBytes = 0; // the mechanism, on small writes
    const spy = openResources(store);
    const stale = op(Sublevel.Docs, "stale", "prepared, never asked for");
    const other = op(Sublevel.Docs, "other", "what the write holds");
    await store.batch([other, op(Sublevel.Commits, "g/c", "x")], { prepared: store.prepare([stale]) as PreparedOps });
    assert.equal(await read(store, Sublevel.Docs, "stale"), undefined);
    assert.equal(await read(store, Sublevel.Docs, "other"), "what the write holds");
    assert.equal(await read(store, Sublevel.Commits, "g/c"), "x");
    // the same ops in another order: not a prefix by identity
    const a = op(Sublevel.Docs, "a", "A");
    const b = op(Sublevel.Docs, "b", "B");
    await store.batch([b, a], { prepared: store.prepare([a, b]) as PreparedOps });
    assert.equal(await read(store, Sublevel.Docs, "a"), "A");
    assert.equal(await read(store, Sublevel.Docs, "b"), "B");
    assert.deepEqual(spy.writes.at(-1)!.keys.length, 2);
    // a synced write's too
    const c = op(Sublevel.Docs, "c", "C");
    await store.batch([op(Sublevel.Groups, "g", "record")], { sync: true, prepared: store.prepare([c]) as PreparedOps });
    assert.equal(await read(store, Sublevel.Docs, "c"), undefined);
    assert.equal(await read(store, Sublevel.Groups, "g"), "record");
    assert.equal(spy.writes.at(-1)!.keys.length, 1);
    // an empty write, and a prepared batch discarded by its holder
    await store.batch([], { prepared: store.prepare([op(Sublevel.Docs, "e", "E")]) as PreparedOps });
    store.prepare([op(Sublevel.Docs, "f", "F")])?.discard();
    await settle();
    assert.equal(await read(store, Sublevel.Docs, "e"), undefined);
    assert.equal(await read(store, Sublevel.Docs, "f"), undefined);
    assert.equal(spy.count(), 0);
  }));

test("a synced write takes its prepared batch; in a group commit the writes queued after it join that LevelDB batch, up to the next one bringing its own", () =>
  withStore(async ({ store }) => {
    store.prepareMinBytes = 0; // the mechanism, on small writes
    const spy = openResources(store);
    const synced = (name: string, withPrepared: boolean): Promise<void> => {
      const doc = op(Sublevel.Docs, `${name}-doc`, `${name} document`);
      const rest = [op(Sublevel.Groups, name, `${name} record`), op(Sublevel.Commits, `${name}/c`, `${name} commit`)];
      const prepared = withPrepared ? store.prepare([doc]) : undefined;
      return store.batch([doc, ...rest], { sync: true, ...(prepared === undefined ? {} : { prepared }) });
    };
    // the first write is being synced while the others queue behind it
    await Promise.all([synced("first", false), synced("a", true), synced("b", false), synced("c", true), synced("d", false), synced("e", false)]);
    const names = spy.writes.map((w) => w.keys.filter((k) => k.includes("-doc")).map((k) => k.slice(k.lastIndexOf("!") + 1)));
    assert.deepEqual(names, [["first-doc"], ["a-doc", "b-doc"], ["c-doc", "d-doc", "e-doc"]]);
    assert.ok(spy.writes.every((w) => w.sync === true && w.keys.length === 3 * (w.keys.filter((k) => k.includes("-doc")).length)));
    for (const name of ["first", "a", "b", "c", "d", "e"]) {
      assert.equal(await read(store, Sublevel.Docs, `${name}-doc`), `${name} document`);
      assert.equal(await read(store, Sublevel.Groups, name), `${name} record`);
    }
    await settle();
    assert.equal(spy.count(), 0);
  }));

test("every write lies under its sublevel's key, as the sublevel's own put puts it, and reads back through the sublevel", () =>
  withStore(async ({ store }) => {
    type Db = { keys(): AsyncIterable<string>; sublevel(name: string, o: object): { put(k: string, v: Uint8Array): Promise<void>; keys(): AsyncIterable<string> } };
    const db = (store as unknown as { db: Db }).db;
    const names = Object.values(Sublevel).filter((name) => name !== Sublevel.KeyPackages); // own-key values need a keyring entry: not a layout question
    await store.batch(names.map((name) => op(name, "k/1", `${name} value`)));
    // the sublevel's own put, beside ours: the same layout puts both in the same place
    for (const name of names) await db.sublevel(name, { keyEncoding: "utf8", valueEncoding: "view" }).put("k/2", utf8("theirs"));
    const root: string[] = [];
    for await (const k of db.keys()) if (k.endsWith("k/1") || k.endsWith("k/2")) root.push(k);
    assert.equal(root.length, 2 * names.length, root.join(" "));
    for (const name of names) {
      const theirs = root.filter((k) => k.endsWith("k/2") && k.includes(`!${name}!`));
      assert.equal(theirs.length, 1, name);
      assert.ok(root.includes(`${theirs[0]!.slice(0, -3)}k/1`), `${name}: ours lies beside theirs`);
      const listed: string[] = [];
      for await (const k of db.sublevel(name, { keyEncoding: "utf8", valueEncoding: "view" }).keys()) if (k.startsWith("k/")) listed.push(k);
      assert.deepEqual(listed, ["k/1", "k/2"], name);
      assert.equal(await read(store, name, "k/1"), `${name} value`);
    }
  }));

test("syncGroupLength: at most the bound, and a prepared batch only first", () => {
  const q = (...flags: boolean[]): Array<{ prepared?: true }> => flags.map((f) => (f ? { prepared: true } : {}));
  assert.equal(syncGroupLength(q(), 4), 0);
  assert.equal(syncGroupLength(q(false, false, false), 4), 3);
  assert.equal(syncGroupLength(q(false, false, false, false, false), 4), 4);
  assert.equal(syncGroupLength(q(true, false, false), 4), 3);
  assert.equal(syncGroupLength(q(true, true, false), 4), 1);
  assert.equal(syncGroupLength(q(false, false, true, false), 4), 2);
  assert.equal(syncGroupLength(q(true), 1), 1);
});

test("values of sealed sublevels are never prepared (sealed at the write, under the key live then)", () =>
  withStore(async ({ store }) => {
    store.prepareMinBytes = 0; // the mechanism, on small writes
    assert.equal(store.prepare([op(Sublevel.Docs, "d", "plain"), op(Sublevel.State, "g/h", "sealed")]), undefined);
    assert.equal(store.prepare([op(Sublevel.Groups, "g", "sealed")]), undefined);
    assert.ok(store.prepare([op(Sublevel.Docs, "d", "plain"), op(Sublevel.Commits, "g/c", "plain")]) !== undefined);
  }));

test("a failed write that took a prepared batch writes nothing of it, and frees it", () =>
  withStore(async ({ store }) => {
    store.prepareMinBytes = 0; // the mechanism, on small writes
    const spy = openResources(store);
    const doc = op(Sublevel.Docs, "d", "document");
    const prepared = store.prepare([doc]) as PreparedOps;
    // sealing fails (no own key for a key package value is made when the keyring refuses)
    const keyring = (store as unknown as { keyring: { create(ids: readonly string[]): Promise<void> } }).keyring;
    const create = keyring.create.bind(keyring);
    keyring.create = () => Promise.reject(new Error("keyring refused"));
    await assert.rejects(store.batch([doc, op(Sublevel.KeyPackages, "kp", "secret")], { prepared }), /keyring refused/);
    keyring.create = create;
    await settle();
    assert.equal(await read(store, Sublevel.Docs, "d"), undefined);
    assert.equal(spy.count(), 0);
  }));

const storeOf = (engine: SecretGroupEngine): EngineStore => (engine as unknown as { ctx: EngineContext }).ctx.store;

test("a receiver's next commit puts its document into the batch before its state, in one write, and leaves no batch open", () =>
  withNodes([{}, {}], async ([owner, alice]) => {
    const { gid } = await groupWithMember(owner.engine, alice.engine);
    const store = storeOf(alice.engine);
    store.prepareMinBytes = 0; // a small group's commit: prepared only for this test
    const spy = openResources(store);
    const prepare = store.prepare.bind(store);
    const prepared: StoreOp[][] = [];
    store.prepare = (ops) => (prepared.push([...ops]), prepare(ops));
    for (let i = 0; i < 3; i++) {
      const update = await owner.engine.updateGroup(gid);
      const before = spy.writes.length;
      assert.deepEqual(await ingestAll(alice.engine, update.documents), ["applied"]);
      const docOp = prepared.at(-1)?.find((o) => o.sub === Sublevel.Docs);
      assert.ok(docOp !== undefined, "the commit's step prepared its document");
      assert.equal(prepared.length, i + 1);
      // one LevelDB write for the step: the prepared ops first, then the state and records
      const written = spy.writes.slice(before);
      assert.equal(written.length, 1, written.map((w) => w.keys.join(",")).join(" | "));
      assert.ok(written[0]!.keys.some((k) => k.endsWith(docOp.key)));
      assert.ok(written[0]!.keys.some((k) => k.includes(`${toHex(gid)}/h`)), "the state head in the same write");
      assert.ok((await store.get(Sublevel.Docs, docOp.key, "document")) !== undefined);
    }
    await settle();
    assert.equal(spy.count(), 0);
    const message = await owner.engine.encrypt(gid, utf8("after three commits"), { scheme: "sender-ratchet" });
    assert.deepEqual((await alice.engine.decrypt([message])).map((b) => new TextDecoder().decode(b as Uint8Array)), ["after three commits"]);
  }));

test("a join in its commit's step (its group known) puts the commit document and index records into the batch while the worker joins: one synced write", () =>
  withNodes([{}, {}], async ([owner, alice]) => {
    const { gid, created, added } = await groupAddingMember(owner.engine, alice.engine);
    const store = storeOf(alice.engine);
    store.prepareMinBytes = 0; // a small group's commit: prepared only for this test
    assert.deepEqual(await ingestAll(alice.engine, created), ["applied"]); // the group known before its commit
    const spy = openResources(store);
    const prepare = store.prepare.bind(store);
    const prepared: StoreOp[][] = [];
    store.prepare = (ops) => (prepared.push([...ops]), prepare(ops));
    assert.deepEqual(await ingestAll(alice.engine, added), ["applied"]);
    assert.equal(prepared.length, 1, "the commit's step prepared its writes");
    const docOp = prepared[0]!.find((o) => o.sub === Sublevel.Docs);
    assert.ok(docOp !== undefined);
    assert.ok(prepared[0]!.some((o) => o.sub === Sublevel.Materialise), "its index records too");
    const joinWrites = spy.writes.filter((w) => w.keys.some((k) => k.endsWith(docOp.key)));
    assert.equal(joinWrites.length, 1);
    const [join] = joinWrites;
    assert.equal(join!.sync, true);
    assert.ok(join!.keys.some((k) => k.includes(`${toHex(gid)}/h`)), "the state head in the same write");
    await settle();
    assert.equal(spy.count(), 0);
    const message = await owner.engine.encrypt(gid, utf8("after the join"), { scheme: "sender-ratchet" });
    assert.deepEqual((await alice.engine.decrypt([message])).map((b) => new TextDecoder().decode(b as Uint8Array)), ["after the join"]);
  }));

test("only writes of PREPARE_MIN_BYTES are prepared", () =>
  withStore(async ({ store }) => {
    assert.equal(store.prepareMinBytes, PREPARE_MIN_BYTES);
    const sized = (bytes: number): StoreOp => ({ sub: Sublevel.Docs, key: `d${bytes}`, value: new Uint8Array(bytes) });
    assert.equal(store.prepare([sized(PREPARE_MIN_BYTES - 1)]), undefined);
    assert.equal(store.prepare([sized(PREPARE_MIN_BYTES / 2), sized(PREPARE_MIN_BYTES / 2 - 1)]), undefined);
    const whole = store.prepare([sized(PREPARE_MIN_BYTES / 2), sized(PREPARE_MIN_BYTES / 2)]);
    assert.ok(whole !== undefined, "two values of PREPARE_MIN_BYTES in all");
    whole.discard();
    const large = store.prepare([sized(PREPARE_MIN_BYTES)]);
    assert.ok(large !== undefined);
    large.discard();
    await settle();
  }));

test("small groups' joins in one ingest share synced LevelDB writes (no prepared batch each, which would sync each apart)", () =>
  withNodes([{}, {}], async ([owner, alice]) => {
    const GROUPS = 8;
    const groups = [];
    for (let g = 0; g < GROUPS; g++) groups.push(await groupAddingMember(owner.engine, alice.engine));
    // the groups known first, then every commit in one ingest: the joins start early and run as one batch
    assert.deepEqual(await ingestAll(alice.engine, groups.flatMap((g) => g.created)), Array(GROUPS).fill("applied"));
    const store = storeOf(alice.engine);
    const spy = openResources(store);
    assert.deepEqual(await ingestAll(alice.engine, groups.flatMap((g) => g.added)), Array(GROUPS).fill("applied"));
    const heads = groups.map((g) => `${toHex(g.gid)}/h`);
    const joinWrites = spy.writes.filter((w) => w.sync === true && heads.some((h) => w.keys.some((k) => k.endsWith(h))));
    // every join's state in a synced write, each in exactly one
    for (const h of heads) assert.equal(joinWrites.filter((w) => w.keys.some((k) => k.endsWith(h))).length, 1, h);
    assert.ok(joinWrites.length < GROUPS, `${joinWrites.length} synced writes for ${GROUPS} joins`);
    for (const g of groups) {
      const message = await owner.engine.encrypt(g.gid, utf8("joined"), { scheme: "long-term" });
      assert.deepEqual((await alice.engine.decrypt([message])).map((b) => new TextDecoder().decode(b as Uint8Array)), ["joined"]);
    }
  }));
