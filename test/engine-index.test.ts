/**
 * The engine keeps the materialisation index in the same batches as its groups: every node,
 * member or not, can tell who was added and removed when.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "../src/bytes.js";
import { decodeDocument } from "../src/documents/index.js";
import { groupAddingMember, ingestAll, shuffle, withNodes } from "./engine-helpers.js";

test("history, groupsOf and welcomeFor on an owner and on a node that is not a member", async () => {
  await withNodes([{}, {}, {}], async ([owner, alice, observer]) => {
    const { gid, keyPackage, created, added } = await groupAddingMember(owner.engine, alice.engine);
    const c2 = (await owner.engine.updateGroup(gid)).documents;
    const c3 = (await owner.engine.removeMembers(gid, [alice.identity.publicKey])).documents;
    const ids = [added, c2, c3].map((c) => toHex(decodeDocument(c[0] as Uint8Array).id));
    const docs = [...created, ...keyPackage, ...added, ...c2, ...c3];
    const outcomes = await ingestAll(observer.engine, shuffle(docs, 5));
    assert.ok(!outcomes.includes("refused"), String(outcomes));
    assert.equal(await observer.engine.status(gid), "awaiting-welcome");

    for (const node of [owner, observer]) {
      const h = await node.engine.history(gid);
      assert.deepEqual(h.map((e) => toHex(e.commitId)), ids);
      assert.deepEqual(h.map((e) => e.kind), ["add", "update", "remove"]);
      assert.deepEqual(h[0]?.added.map(toHex), [toHex(alice.identity.publicKey)]);
      assert.deepEqual(h[2]?.removed.map(toHex), [toHex(alice.identity.publicKey)]);
      const [membership] = await node.engine.groupsOf(alice.identity.publicKey);
      assert.equal(toHex(membership?.groupId as Uint8Array), toHex(gid));
      assert.deepEqual(membership?.added.map(toHex), [ids[0]]);
      assert.deepEqual(membership?.removed.map(toHex), [ids[2]]);
      const welcome = await node.engine.welcomeFor(alice.identity.publicKey, gid);
      assert.equal(toHex(welcome?.commitId as Uint8Array), ids[0]);
      assert.equal(toHex(decodeDocument(welcome?.document as Uint8Array).id), ids[0]);
      assert.equal(await node.engine.welcomeFor(owner.identity.publicKey, gid), null);
      const [owned] = await node.engine.groupsOf(owner.identity.publicKey);
      assert.equal(owned?.owner, true);
    }
    // the engine's own view agrees
    const [info] = await observer.engine.groups();
    assert.equal(toHex(info?.groupId as Uint8Array), toHex(gid));
    assert.equal(info?.status, "awaiting-welcome");
  });
});
