/**
 * Hot and cold group records: messages and commits that change no member write only the small
 * hot half (chain head, state token, epochs, nonce reservation; the head since format 5); long-term encryption writes nothing between
 * reservations; the halves read back as one record.
 */
import type { Identity } from "../src/identity.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex, utf8 } from "../src/bytes.js";
import { EngineStore } from "../src/engine/store/store.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { decodeGroupRecord, emptyGroupRecord, encodeColdRecord, encodeHotRecord } from "../src/engine/store/records.js";
import type { GroupRecord } from "../src/engine/store/records.js";
import { DecodeError } from "../src/errors.js";
import { ingestAll, openNode, openStore } from "./engine-helpers.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";

async function rawGroupRows(path: string, self: Identity, gid: Uint8Array): Promise<Map<string, string>> {
  const store = await openStore(path, self);
  try {
    return new Map((await store.scan(Sublevel.Groups, toHex(gid), "group record")).map(([k, v]) => [k, toHex(v)]));
  } finally {
    await store.close();
  }
}

/** Records the keys of every batch the engine writes (through its private store: a test-only look inside). */
function spyBatches(engine: SecretGroupEngine): string[][] {
  const store = (engine as unknown as { ctx: { store: EngineStore } }).ctx.store;
  const batches: string[][] = [];
  const batch = store.batch.bind(store);
  store.batch = async (ops) => {
    batches.push(ops.filter((op) => op.sub === Sublevel.Groups).map((op) => `${op.sub}:${op.key}`));
    return batch(ops);
  };
  return batches;
}

test("cold and hot halves round trip; a damaged half is a DecodeError", () => {
  const rec: GroupRecord = {
    ...emptyGroupRecord(),
    status: "member",
    owner: new Uint8Array(32).fill(1),
    ciphersuite: "PANDA10_AES256GCM",
    head: new Uint8Array(32).fill(2),
    members: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(3)],
    mlsEpoch: 4n,
    ltsEpoch: 2n,
    stateToken: new Uint8Array(16).fill(9),
    nonceReserved: 2048n,
  };
  assert.deepEqual(decodeGroupRecord(encodeColdRecord(rec), encodeHotRecord(rec)), rec);
  assert.ok(encodeHotRecord({ ...rec, members: Array.from({ length: 1000 }, () => new Uint8Array(32)) }).length < 96, "the hot half (head included) does not grow with the group");
  // without a hot half (nothing hot written yet): no state
  const cold = decodeGroupRecord(encodeColdRecord(rec));
  assert.equal(cold.stateToken, undefined);
  assert.equal(cold.nonceReserved, 0n);
  assert.throws(() => decodeGroupRecord(encodeColdRecord(rec).subarray(0, 5)), DecodeError);
  assert.throws(() => decodeGroupRecord(encodeColdRecord(rec), encodeHotRecord(rec).subarray(1)), DecodeError);
  assert.throws(() => decodeGroupRecord(encodeColdRecord(rec), encodeHotRecord(rec).subarray(0, 20)), DecodeError);
});

test("long-term encryption never rewrites the member list; sender-ratchet writes the hot half only", async () => {
  const owner = await openNode({ nonceBlock: 8 });
  const alice = await openNode();
  try {
    const kp = (await alice.engine.publishKeyPackage()).documents;
    const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const gid = created.groupId as Uint8Array;
    const add = await owner.engine.addMembers(gid, kp);
    await ingestAll(alice.engine, [...created.documents, ...add.documents]);
    await owner.engine.encrypt(gid, utf8("reserve"), { scheme: "long-term" });
    const path = owner.path;
    const self = owner.identity;
    await owner.engine.close();
    const before = await rawGroupRows(path, self, gid);
    const coldKey = toHex(gid);
    assert.ok(before.has(coldKey) && before.has(`${coldKey}/hot`));
    owner.engine = await owner.reopen();
    const written = spyBatches(owner.engine);
    await owner.engine.encrypt(gid, utf8("first after restart"), { scheme: "long-term" }); // reserves a block
    assert.deepEqual(written.splice(0), [[`groups:${coldKey}/hot`]], "a reservation writes the hot half alone");
    // within one reserved block: nothing at all is written for long-term encryption
    for (let i = 0; i < 5; i++) await owner.engine.encrypt(gid, utf8(`m${i}`), { scheme: "long-term" });
    assert.deepEqual(written.splice(0), []);
    await owner.engine.encrypt(gid, utf8("sr"), { scheme: "sender-ratchet" });
    const keys = written.splice(0).flat();
    assert.ok(keys.includes(`groups:${coldKey}/hot`) && !keys.includes(`groups:${coldKey}`), keys.join(" "));
    await owner.engine.close();
    const after = await rawGroupRows(path, self, gid);
    assert.equal(after.get(coldKey), before.get(coldKey), "the cold half is untouched by messages");
    assert.notEqual(after.get(`${coldKey}/hot`), before.get(`${coldKey}/hot`), "the hot half follows the state");
    owner.engine = await owner.reopen();
    const commits = spyBatches(owner.engine);
    const rot = await owner.engine.rotate(gid);
    assert.deepEqual(commits.splice(0), [[`groups:${coldKey}/hot`]], "an update commit writes the hot half alone");
    const receiver = spyBatches(alice.engine);
    await ingestAll(alice.engine, rot.documents);
    assert.deepEqual(receiver.flat(), [`groups:${coldKey}/hot`], "so does applying it");
    await owner.engine.close();
    const rotated = await rawGroupRows(path, self, gid);
    // storage format 5: the head is in the hot half; a commit that changes no member leaves the cold half alone
    assert.equal(rotated.get(coldKey), after.get(coldKey), "an update commit does not rewrite the member list");
    assert.notEqual(rotated.get(`${coldKey}/hot`), after.get(`${coldKey}/hot`), "the commit's head and epoch are in the hot half");
    owner.engine = await owner.reopen();
    const m = await owner.engine.encrypt(gid, utf8("after"), { scheme: "long-term" });
    assert.equal(new TextDecoder().decode((await alice.engine.decrypt([m]))[0] as Uint8Array), "after");
    assert.equal((await owner.engine.describe(gid)).members.length, 2);
  } finally {
    for (const n of [owner, alice]) {
      await n.engine.close();
      await n.cleanup();
    }
  }
});

test("a group document seen first writes the cold half alone (its hot half would be empty); it reads back, and the join writes both", async () => {
  const owner = await openNode();
  const alice = await openNode();
  try {
    const kp = (await alice.engine.publishKeyPackage()).documents;
    const creating = spyBatches(owner.engine);
    const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const gid = created.groupId as Uint8Array;
    const coldKey = toHex(gid);
    // the owner's first record has a state: both halves
    assert.deepEqual(creating.flat().sort(), [`groups:${coldKey}`, `groups:${coldKey}/hot`]);
    const add = await owner.engine.addMembers(gid, kp);
    const written = spyBatches(alice.engine);
    assert.deepEqual(await ingestAll(alice.engine, created.documents), ["applied"]);
    assert.deepEqual(written.splice(0).filter((b) => b.length > 0), [[`groups:${coldKey}`]], "the cold half alone");
    const seen = await alice.engine.describe(gid);
    assert.equal(seen.status, "awaiting-welcome");
    assert.equal(seen.mlsEpoch, 0n);
    // the record as read from the store (a fresh engine hydrates it) is the one written
    const path = alice.path;
    const self = alice.identity;
    await alice.engine.close();
    const rows = await rawGroupRows(path, self, gid);
    assert.deepEqual([...rows.keys()], [coldKey]);
    const read = decodeGroupRecord(new Uint8Array(Buffer.from(rows.get(coldKey)!, "hex")));
    assert.deepEqual(read, { ...emptyGroupRecord(), owner: owner.identity.publicKey, ciphersuite: "PANDA10_AES256GCM" });
    alice.engine = await alice.reopen();
    const joined = spyBatches(alice.engine);
    assert.deepEqual(await ingestAll(alice.engine, add.documents), ["applied"]);
    assert.deepEqual(joined.flat().sort(), [`groups:${coldKey}`, `groups:${coldKey}/hot`], "the join writes both halves");
    const m = await owner.engine.encrypt(gid, utf8("hello"), { scheme: "long-term" });
    assert.equal(new TextDecoder().decode((await alice.engine.decrypt([m]))[0] as Uint8Array), "hello");
  } finally {
    for (const n of [owner, alice]) {
      await n.engine.close();
      await n.cleanup();
    }
  }
});
