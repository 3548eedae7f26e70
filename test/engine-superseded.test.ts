/**
 * A commit older than a member's state is kept for the history but never applied: the member
 * reports it `superseded` (not `applied`), stores it so, and the follower still chains it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "../src/bytes.js";
import { decodeDocument } from "../src/documents/index.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { decodeCommitRecord } from "../src/engine/store/records.js";
import { ingestAll, openStore, withNodes } from "./engine-helpers.js";

test("a late joiner's earlier commits are superseded here, and still make the history", async () => {
  await withNodes([{}, {}, {}], async ([owner, alice, bob]) => {
    const aliceKp = (await alice.engine.publishKeyPackage()).documents;
    const bobKp = (await bob.engine.publishKeyPackage()).documents;
    const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const gid = created.groupId as Uint8Array;
    const c1 = await owner.engine.addMembers(gid, aliceKp);
    const c2 = await owner.engine.updateGroup(gid);
    const c3 = await owner.engine.addMembers(gid, bobKp);
    const c4 = await owner.engine.rotate(gid);
    // bob joins through c3 before he sees c1 and c2
    assert.deepEqual(await ingestAll(bob.engine, [...created.documents, ...c3.documents]), ["applied", "applied"]);
    assert.equal(await bob.engine.status(gid), "member");
    assert.deepEqual(await ingestAll(bob.engine, [...c1.documents, ...c2.documents]), ["superseded", "superseded"]);
    assert.deepEqual(await ingestAll(bob.engine, c4.documents), ["applied"]);
    assert.equal((await bob.engine.describe(gid)).mlsEpoch, (await owner.engine.describe(gid)).mlsEpoch);
    assert.equal((await bob.engine.history(gid)).length, 4, "the follower chained every commit");
    const path = bob.path;
    await bob.engine.close();
    const store = await openStore(path, bob.identity);
    try {
      const statusOf = async (docs: Uint8Array[]) => {
        const cid = toHex(decodeDocument(docs[0] as Uint8Array).id);
        return decodeCommitRecord((await store.get(Sublevel.Commits, `${toHex(gid)}/${cid}`, "commit record")) as Uint8Array).status;
      };
      assert.deepEqual([await statusOf(c1.documents), await statusOf(c2.documents), await statusOf(c3.documents), await statusOf(c4.documents)], ["superseded", "superseded", "applied", "applied"]);
    } finally {
      await store.close();
    }
    await bob.reopen();
  });
});
