/**
 * Three engines (owner, two members) in one process exchange documents in shuffled order.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { utf8 } from "../src/bytes.js";
import { ingestAll, keySet, shuffle, withNodes } from "./engine-helpers.js";

const text = (b: Uint8Array | Error): string => {
  if (b instanceof Error) throw b;
  return new TextDecoder().decode(b);
};

test("owner and two members converge from shuffled documents and read each other", async () => {
  await withNodes([{}, {}, {}], async ([owner, alice, bob]) => {
    const kpA = (await alice.engine.publishKeyPackage()).documents;
    const kpB = (await bob.engine.publishKeyPackage()).documents;
    const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const gid = created.groupId as Uint8Array;
    assert.equal(gid.length, 32);
    const c1 = await owner.engine.addMembers(gid, kpA);
    const early = await owner.engine.encrypt(gid, utf8("before bob"), { scheme: "long-term" });
    const c2 = await owner.engine.addMembers(gid, kpB);
    const ratchet = await owner.engine.encrypt(gid, utf8("ratchet at epoch 2"), { scheme: "sender-ratchet" });
    const c3 = await owner.engine.updateGroup(gid);
    const c4 = await owner.engine.rotate(gid);
    const all = [...created.documents, ...kpA, ...kpB, ...c1.documents, ...c2.documents, ...c3.documents, ...c4.documents];

    // alice receives everything in a shuffled order, in three batches
    const forAlice = shuffle(all, 1);
    for (const chunk of [forAlice.slice(0, 3), forAlice.slice(3, 5), forAlice.slice(5)]) {
      const outcomes = await ingestAll(alice.engine, chunk);
      assert.ok(!outcomes.includes("refused"), `alice refused: ${outcomes}`);
    }
    // bob gets one shuffled batch, then everything again (duplicates are no-ops)
    await ingestAll(bob.engine, shuffle(all, 2));
    const again = await ingestAll(bob.engine, all);
    assert.ok(again.every((o) => o === "duplicate" || o === "applied"), `second ingest: ${again}`);

    for (const node of [owner, alice, bob]) {
      assert.equal(await node.engine.status(gid), "member");
      assert.deepEqual(keySet(await node.engine.members(gid)), keySet([owner.identity.publicKey, alice.identity.publicKey, bob.identity.publicKey]));
    }

    // owner's messages: long-term (epoch 0) for both, sender-ratchet at epoch 2 for both
    const [a1, a2] = await alice.engine.decrypt([early, ratchet]);
    assert.equal(text(a1 as Uint8Array), "before bob");
    assert.equal(text(a2 as Uint8Array), "ratchet at epoch 2");
    const [b1, b2] = await bob.engine.decrypt([early, ratchet]);
    assert.equal(text(b1 as Uint8Array), "before bob");
    assert.equal(text(b2 as Uint8Array), "ratchet at epoch 2");
    // the sender reads its own sender-ratchet message from its kept plaintext
    assert.equal(text((await owner.engine.decrypt([ratchet]))[0] as Uint8Array), "ratchet at epoch 2");

    // members write, everyone reads, in both schemes
    for (const scheme of ["long-term", "sender-ratchet"] as const) {
      const fromAlice = await alice.engine.encrypt(gid, utf8(`alice ${scheme}`), { scheme });
      const fromBob = await bob.engine.encrypt(gid, utf8(`bob ${scheme}`), { scheme });
      const atOwner = await owner.engine.decrypt([fromAlice, fromBob]);
      assert.deepEqual(atOwner.map((r) => text(r)), [`alice ${scheme}`, `bob ${scheme}`]);
      assert.equal(text((await bob.engine.decrypt([fromAlice]))[0] as Uint8Array), `alice ${scheme}`);
      assert.equal(text((await alice.engine.decrypt([fromBob]))[0] as Uint8Array), `bob ${scheme}`);
    }

    // a sender-ratchet message read twice is a replay
    const once = await alice.engine.encrypt(gid, utf8("once"), { scheme: "sender-ratchet" });
    assert.equal(text((await bob.engine.decrypt([once]))[0] as Uint8Array), "once");
    const replay = (await bob.engine.decrypt([once]))[0];
    assert.ok(replay instanceof Error);
    assert.equal((replay as Error & { code: string }).code, "REPLAY");
  });
});

test("groups created in a burst get distinct ids", async () => {
  await withNodes([{}], async ([node]) => {
    const ids = await Promise.all(Array.from({ length: 8 }, () => node.engine.createGroup({ ciphersuite: "PANDA10_AES128GCM" })));
    assert.equal(new Set(ids.map((c) => Buffer.from(c.groupId as Uint8Array).toString("hex"))).size, 8);
  });
});
