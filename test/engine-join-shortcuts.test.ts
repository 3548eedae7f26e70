/**
 * The shortcuts of the many-groups lane (issue 11): store reads without a thread-pool round
 * trip (synchronous point reads where the backend has them, scans read a page per round trip)
 * and a join that looks for an earlier membership's state parts only when the group record says
 * there can be any. Each is compared with what the long way gives.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex, utf8 } from "../src/bytes.js";
import { STORE_SCAN_PAGE } from "../src/constants.js";
import type { EngineContext } from "../src/engine/context.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import type { EngineStore } from "../src/engine/store/store.js";
import { groupAddingMember, groupWithMember, ingestAll, withNodes, withStore } from "./engine-helpers.js";
import { generateIdentity } from "../src/identity.js";
import { WelcomeKeys } from "../src/engine/welcomeKeys.js";
import type { StoreOp } from "../src/engine/store/store.js";
import { Random } from "../src/cli/random.js";
import { decodeDocument, keyPackageDeletionDocument, keyPackageDocument, readKeyPackage, signDocument } from "../src/documents/index.js";
import { createKeyPackage } from "../src/keyPackage.js";

const storeOf = (engine: SecretGroupEngine): EngineStore => (engine as unknown as { ctx: EngineContext }).ctx.store;

test("a rejoin deletes every state part of the earlier membership (the record's state token says they may exist)", async () => {
  await withNodes([{}, {}], async ([owner, alice]) => {
    const { gid } = await groupWithMember(owner.engine, alice.engine);
    const g = toHex(gid);
    assert.deepEqual(await ingestAll(alice.engine, (await owner.engine.removeMembers(gid, [alice.identity.publicKey])).documents), ["applied"]);
    assert.equal((await alice.engine.describe(gid)).status, "removed");
    // a part the rejoin does not write (as a larger tree of the earlier membership leaves)
    const store = storeOf(alice.engine);
    await store.batch([{ sub: Sublevel.State, key: `${g}/zz-earlier`, value: utf8("earlier part") }]);
    const kp = (await alice.engine.publishKeyPackage()).documents;
    const added = (await owner.engine.addMembers(gid, kp)).documents;
    assert.deepEqual(await ingestAll(alice.engine, [...kp, ...added]), ["duplicate", "applied"]);
    assert.equal((await alice.engine.describe(gid)).status, "member");
    const keys = await store.keys(Sublevel.State, `${g}/`);
    assert.ok(keys.length > 1, "the join wrote its parts");
    assert.ok(!keys.includes(`${g}/zz-earlier`), "the earlier membership's part is gone");
    const message = await owner.engine.encrypt(gid, utf8("back"), { scheme: "long-term" });
    assert.deepEqual((await alice.engine.decrypt([message])).map((m) => (m instanceof Uint8Array ? new TextDecoder().decode(m) : m)), ["back"]);
  });
});

test("store reads: synchronous and thread-pool point reads agree, and scans over several pages return every entry in order", async () => {
  await withStore(async ({ store }) => {
    const n = 2 * STORE_SCAN_PAGE + 17;
    const key = (i: number): string => `p/${i.toString(16).padStart(6, "0")}`;
    const ops = Array.from({ length: n }, (_, i) => ({ sub: Sublevel.Docs, key: key(i), value: utf8(`value ${i}`) }));
    await store.batch([...ops, { sub: Sublevel.Docs, key: "q/after", value: utf8("other prefix") }, { sub: Sublevel.State, key: "p/sealed", value: utf8("sealed value") }]);
    const flags = store as unknown as { syncGets: boolean };
    assert.equal(flags.syncGets, true, "classic-level reads synchronously");
    const reads = async (): Promise<unknown[]> => [
      await store.get(Sublevel.Docs, key(5), "doc"),
      await store.get(Sublevel.Docs, "p/absent", "doc"),
      await store.has(Sublevel.Docs, key(n - 1)),
      await store.has(Sublevel.Docs, "p/absent"),
      await store.get(Sublevel.State, "p/sealed", "state"),
      await store.reader(Sublevel.Docs).get(key(7)),
      await store.reader(Sublevel.State).get("p/sealed"),
    ];
    const sync = await reads();
    // written after the first reads: both ways see it at once
    await store.batch([{ sub: Sublevel.Docs, key: "p/late", value: utf8("late") }]);
    const late = await store.get(Sublevel.Docs, "p/late", "doc");
    flags.syncGets = false;
    const pooled = await reads();
    assert.deepEqual(await store.get(Sublevel.Docs, "p/late", "doc"), late);
    flags.syncGets = true;
    assert.deepEqual(sync, pooled);
    assert.deepEqual(new TextDecoder().decode(late), "late");
    assert.deepEqual(sync.slice(0, 5).map((v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : v)), ["value 5", undefined, true, false, "sealed value"]);

    const expected = [...ops.map((op) => op.key), "p/late"].sort();
    const scanned = await store.scan(Sublevel.Docs, "p/", "doc");
    assert.deepEqual(scanned.map(([k]) => k), expected);
    assert.equal(new TextDecoder().decode(scanned[n - 1]![1]), `value ${n - 1}`);
    assert.deepEqual(await store.keys(Sublevel.Docs, "p/"), expected);
    assert.deepEqual((await store.scan(Sublevel.Docs, "p/", "doc", STORE_SCAN_PAGE + 3)).map(([k]) => k), expected.slice(0, STORE_SCAN_PAGE + 3));
    assert.deepEqual((await store.scanAfter(Sublevel.Docs, "p/", key(10), "doc", 2 * STORE_SCAN_PAGE)).map(([k]) => k), expected.slice(11, 11 + 2 * STORE_SCAN_PAGE));
    const viaReader: string[] = [];
    for await (const [k] of store.reader(Sublevel.Docs).iterator({ gte: "p/", lt: "p/\uffff" })) viaReader.push(k as string);
    assert.deepEqual(viaReader, expected);
    // a loop left early closes its iterator (close() would wait for an open one)
    for await (const [k] of store.reader(Sublevel.Docs).iterator({ gte: "p/", lt: "p/\uffff" })) if (k === key(3)) break;
  });
});

test("the Welcome ledger lists every group the store holds Welcome entries of, over a random history and after a reload", async () => {
  await withStore(async (s) => {
    const { store } = s;
    const rnd = new Random(Number(process.env["WELCOME_SEED"] ?? 11));
    const gids = ["a1", "b2", "c3", "d4"];
    const ledger = await WelcomeKeys.load(store);
    const check = async (keys: WelcomeKeys, when: string): Promise<void> => {
      for (const gid of gids) assert.equal(keys.has(gid), (await s.store.scan(Sublevel.Welcomes, `${gid}/`, "welcome")).length > 0, `${when}: ${gid}`);
    };
    for (let step = 0; step < 150; step++) {
      const ops: StoreOp[] = [];
      for (let i = rnd.int(4); i >= 0; i--) {
        const key = `${gids[rnd.int(gids.length)]}/c${rnd.int(3)}`;
        ops.push({ sub: rnd.int(5) === 0 ? Sublevel.Commits : Sublevel.Welcomes, key, value: rnd.int(2) === 0 ? null : utf8("ref") });
      }
      await store.batch(ops);
      ledger.afterBatch(ops);
      await check(ledger, `step ${step}`);
    }
    await check(await WelcomeKeys.load(await s.reopen()), "reloaded");
  });
});

test("documents only the store takes are written in one batch per ingest call, each with its own outcome", async () => {
  await withNodes([{}], async ([node]) => {
    const store = storeOf(node.engine);
    const ids = (docs: readonly Uint8Array[]): string[] => docs.map((d) => toHex(decodeDocument(d).id));
    const people = [generateIdentity(), generateIdentity(), generateIdentity()];
    const kps = await Promise.all(people.map(async (p) => keyPackageDocument(p, { keyPackage: (await createKeyPackage(p)).keyPackage }).bytes));
    const already = kps[2] as Uint8Array;
    assert.deepEqual(await ingestAll(node.engine, [already]), ["applied"]);
    // a key package document whose author is not its key package's owner: refused alone
    const forged = keyPackageDocument(people[1]!, { keyPackage: readKeyPackage(decodeDocument(kps[0]!)).keyPackage }).bytes;
    const deletion = keyPackageDeletionDocument(people[0]!, { keyPackage: decodeDocument(kps[0]!).id }).bytes;
    const plain = signDocument(people[1]!, "chat_v1", { body: "in the clear" }).bytes;
    const batches: number[] = [];
    const batch = store.batch.bind(store);
    store.batch = (ops, options) => {
      if (ops.length > 0) batches.push(ops.length);
      return batch(ops, options);
    };
    const docs = [kps[0]!, forged, kps[1]!, already, deletion, plain];
    assert.deepEqual(await ingestAll(node.engine, docs), ["applied", "refused", "applied", "duplicate", "applied", "applied"]);
    assert.equal(batches.length, 1, "one batch for the call");
    for (const [i, id] of ids(docs).entries()) assert.equal(await store.has(Sublevel.Docs, id), i !== 1, `document ${i} stored`);
    assert.ok(await store.has(Sublevel.Operations, ids([plain])[0]!), "the plain operation's record");
    assert.deepEqual(await ingestAll(node.engine, docs), ["duplicate", "refused", "duplicate", "duplicate", "duplicate", "duplicate"]);
    assert.equal(batches.length, 1, "nothing new written");
  });
});

test("a group document after its commit joins through the stored Welcome in its own step: one synced batch, the group record and the key package read once, and what waits after it still applies", async () => {
  await withNodes([{}, {}], async ([owner, alice]) => {
    const { gid, created, added } = await groupAddingMember(owner.engine, alice.engine);
    const g = toHex(gid);
    const second = (await owner.engine.updateGroup(gid)).documents;
    const store = storeOf(alice.engine);
    const batches: Array<{ ops: readonly StoreOp[]; sync: boolean }> = [];
    const batch = store.batch.bind(store);
    store.batch = (ops, options) => {
      if (ops.length > 0) batches.push({ ops, sync: options?.sync === true });
      return batch(ops, options);
    };
    let keyPackageOpens = 0;
    const open = store.sealer.open.bind(store.sealer);
    store.sealer.open = (sub, key, sealed, ownKey) => {
      if (sub === Sublevel.KeyPackages) keyPackageOpens++;
      return open(sub, key, sealed, ownKey);
    };
    assert.deepEqual(await ingestAll(alice.engine, added), ["pending"]);
    assert.ok(await store.has(Sublevel.Welcomes, `${g}/${toHex(decodeDocument(added[0]!).id)}`), "the Welcome is stored for the group document");
    batches.length = 0;
    assert.deepEqual(await ingestAll(alice.engine, created), ["applied"]);
    assert.equal(batches.length, 1, "the group document and the join: one batch");
    const [joined] = batches;
    assert.ok(joined!.sync, "durable: the key package is consumed");
    assert.ok(joined!.ops.some((op) => op.sub === Sublevel.Docs && op.key === g), "the group document");
    assert.ok(joined!.ops.some((op) => op.sub === Sublevel.State), "the joined state");
    assert.equal(joined!.ops.filter((op) => op.sub === Sublevel.Groups && op.key === g).length, 1, "the group record's cold half written once");
    assert.equal(keyPackageOpens, 1, "the key package record opened once: the commit's step only looked it up");
    assert.deepEqual(await store.keys(Sublevel.Welcomes, `${g}/`), [], "the Welcome entry is gone");
    assert.equal((await alice.engine.describe(gid)).status, "member");

    // a later commit that arrives first waits; the group document's join is then not the end:
    // the drain after it applies the later commit
    const other = (await groupAddingMember(owner.engine, alice.engine)) as { gid: Uint8Array; created: Uint8Array[]; added: Uint8Array[] };
    const later = (await owner.engine.updateGroup(other.gid)).documents;
    assert.deepEqual(await ingestAll(alice.engine, [...later, ...other.added]), ["pending", "pending"]);
    assert.deepEqual(await ingestAll(alice.engine, other.created), ["applied"]);
    assert.equal((await alice.engine.describe(other.gid)).mlsEpoch, (await owner.engine.describe(other.gid)).mlsEpoch, "the later commit applied");
    assert.deepEqual(await ingestAll(alice.engine, second), ["applied"]);
    const message = await owner.engine.encrypt(gid, utf8("joined"), { scheme: "sender-ratchet" });
    assert.deepEqual((await alice.engine.decrypt([message])).map((m) => (m instanceof Uint8Array ? new TextDecoder().decode(m) : m)), ["joined"]);
  });
});
