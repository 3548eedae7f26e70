/**
 * Pending operations (issue 10): a member that receives operations before the commits that make
 * them readable keeps them pending across a restart and reads them when the commits arrive
 * afterwards; the pending limits drop the oldest pending operations (per group at once, over
 * all groups through the other group's actor), count them in stats().dropped, and never drop a
 * decrypted one; a dropped operation can be ingested again.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "../src/bytes.js";
import { signDocument } from "../src/documents/index.js";
import type { SchemeName } from "../src/constants.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import type { EngineEvent } from "../src/engine/watch.js";
import type { Identity } from "../src/identity.js";
import { EngineStore } from "../src/engine/store/store.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import type { StoreOp } from "../src/engine/store/store.js";
import { groupWithMember, withNodes, withPool } from "./engine-helpers.js";

const SCHEMA = "note_v1";

async function op(engine: SecretGroupEngine, identity: Identity, gid: Uint8Array, body: string, scheme: SchemeName): Promise<{ id: string; bytes: Uint8Array }> {
  const fields = await engine.encryptFields(gid, { body }, { scheme, schema: SCHEMA });
  const doc = signDocument(identity, SCHEMA, fields);
  return { id: toHex(doc.id), bytes: doc.bytes };
}

test("operations pending across a restart are read when the commits arrive afterwards, sender-ratchet included", async () => {
  await withPool(2, (pool) => withNodes([{ pool }, { pool }], async ([owner, member]) => {
    const { gid } = await groupWithMember(owner.engine, member.engine);
    const commits = [...(await owner.engine.updateGroup(gid)).documents, ...(await owner.engine.rotate(gid)).documents];
    const ops = [await op(owner.engine, owner.identity, gid, "long-term after", "long-term"), await op(owner.engine, owner.identity, gid, "ratchet after", "sender-ratchet")];
    assert.deepEqual((await member.engine.ingest(ops.map((o) => o.bytes))).outcomes, ["pending", "pending"]);
    for (const o of ops) assert.deepEqual((await member.engine.read(o.id))?.pending, ["body"]);
    await member.engine.close();
    const engine = await member.reopen();
    try {
      for (const o of ops) assert.deepEqual((await engine.read(o.id))?.pending, ["body"], "still pending after the restart");
      const events: EngineEvent[] = [];
      const watching = (async () => {
        for await (const e of engine.watch()) events.push(e);
      })();
      await engine.ingest(commits);
      assert.equal((await engine.read(ops[0]!.id))?.fields["body"], "long-term after");
      assert.equal((await engine.read(ops[1]!.id))?.fields["body"], "ratchet after");
      for (const o of ops) assert.deepEqual((await engine.read(o.id))?.pending, []);
      await engine.close();
      await watching;
      assert.deepEqual(
        events.filter((e) => e.type === "decrypted").map((e) => toHex((e as { operationId: Uint8Array }).operationId)).sort(),
        ops.map((o) => o.id).sort(),
      );
      assert.deepEqual(events.filter((e) => e.type === "commit").map((e) => (e as { epoch: bigint }).epoch), [2n, 3n]);
    } finally {
      await engine.close();
    }
  }));
});

test("the per-group limits drop the oldest pending operations, never a decrypted one; a dropped one can come again", async () => {
  await withPool(2, (pool) => withNodes([{ pool }, { pool, limits: { pendingOperationsPerGroup: 3 } }], async ([owner, member]) => {
    const { gid } = await groupWithMember(owner.engine, member.engine);
    const read = await op(owner.engine, owner.identity, gid, "read at once", "long-term");
    const rotation = (await owner.engine.rotate(gid)).documents;
    const later: Array<{ id: string; bytes: Uint8Array }> = [];
    for (let i = 0; i < 5; i++) later.push(await op(owner.engine, owner.identity, gid, `later ${i}`, i % 2 === 0 ? "long-term" : "sender-ratchet"));
    await member.engine.ingest([read.bytes]);
    for (const o of later) await member.engine.ingest([o.bytes]);
    assert.deepEqual(member.engine.stats().dropped, { pendingOperationsPerGroup: 2 });
    assert.equal(await member.engine.read(later[0]!.id), null, "the oldest pending one was dropped");
    assert.equal(await member.engine.read(later[1]!.id), null);
    assert.equal((await member.engine.read(read.id))?.fields["body"], "read at once", "a decrypted operation is never dropped");
    const listed = (await member.engine.operations(gid)).operations.map((o) => toHex(o.operationId));
    assert.deepEqual(listed, [read.id, ...later.slice(2).map((o) => o.id)]);
    await member.engine.ingest(rotation);
    for (const o of later.slice(2)) assert.equal((await member.engine.read(o.id))?.fields["body"], `later ${later.indexOf(o)}`);
    // dropped, so not a duplicate: it comes again and is read now
    assert.deepEqual((await member.engine.ingest([later[0]!.bytes])).outcomes, ["applied"]);
    assert.equal((await member.engine.read(later[0]!.id))?.fields["body"], "later 0");
    const again = (await member.engine.operations(gid)).operations.map((o) => toHex(o.operationId));
    assert.deepEqual(again, [read.id, ...later.slice(2).map((o) => o.id), later[0]!.id], "arrival order; a dropped one's number is not reused");
  }));
});

test("the total and byte limits drop the oldest pending operations of any group, through that group's actor", async () => {
  await withPool(2, (pool) => withNodes([{ pool }, { pool, limits: { pendingOperationsTotal: 4 } }], async ([owner, outsider]) => {
    const groups: Array<{ gid: Uint8Array; docs: Uint8Array[]; ops: Array<{ id: string; bytes: Uint8Array }> }> = [];
    for (let g = 0; g < 2; g++) {
      const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
      const gid = created.groupId as Uint8Array;
      const ops = [];
      for (let i = 0; i < 3; i++) ops.push(await op(owner.engine, owner.identity, gid, `g${g} ${i}`, "long-term"));
      groups.push({ gid, docs: created.documents, ops });
    }
    // not a member of either group: everything stays pending
    for (const g of groups) await outsider.engine.ingest(g.docs);
    for (const g of groups) for (const o of g.ops) await outsider.engine.ingest([o.bytes]);
    await outsider.engine.close();
    assert.deepEqual(outsider.engine.stats().dropped, { pendingOperationsTotal: 2 });
    const engine = await outsider.reopen({ limits: { pendingOperationsTotal: 4, pendingOperationBytesPerGroup: groups[1]!.ops[0]!.bytes.length * 2 + 10 } });
    try {
      const [g0, g1] = groups as [(typeof groups)[0], (typeof groups)[0]];
      assert.equal(await engine.read(g0.ops[0]!.id), null);
      assert.equal(await engine.read(g0.ops[1]!.id), null);
      for (const o of [g0.ops[2]!, ...g1.ops]) assert.deepEqual((await engine.read(o.id))?.pending, ["body"]);
      // a byte limit per group: two operations fit, the third pushes out the oldest
      const more = await op(owner.engine, owner.identity, g1.gid, "g1 more", "long-term");
      await engine.ingest([more.bytes]);
      assert.equal(engine.stats().dropped["pendingOperationBytesPerGroup"], 2);
      assert.deepEqual((await engine.operations(g1.gid)).operations.map((o) => toHex(o.operationId)), [g1.ops[2]!.id, more.id]);
    } finally {
      await engine.close();
    }
  }));
});

test("a sender-ratchet read writes the consumed ratchet key and the plaintext in one batch", async () => {
  const batch = EngineStore.prototype.batch;
  const batches: Array<readonly StoreOp[]> = [];
  await withPool(2, (pool) => withNodes([{ pool }, { pool }], async ([owner, member]) => {
    try {
      const { gid } = await groupWithMember(owner.engine, member.engine);
      const ratchet = await op(owner.engine, owner.identity, gid, "ratchet", "sender-ratchet");
      EngineStore.prototype.batch = function (ops, options) {
        batches.push(ops);
        return batch.call(this, ops, options);
      };
      await member.engine.ingest([ratchet.bytes]);
      EngineStore.prototype.batch = batch;
      const state = batches.filter((ops) => ops.some((o) => o.sub === Sublevel.State));
      assert.equal(state.length, 1, "one batch changes the group state");
      const subs = new Set(state[0]!.map((o) => o.sub));
      for (const sub of [Sublevel.State, Sublevel.OperationValues, Sublevel.Operations, Sublevel.Docs]) assert.ok(subs.has(sub), `the same batch writes ${sub}`);
      assert.equal(batches.filter((ops) => ops.some((o) => o.sub === Sublevel.OperationValues)).length, 1);
    } finally {
      EngineStore.prototype.batch = batch;
    }
  }));
});
