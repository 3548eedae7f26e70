/**
 * A node that is not a member starts joining through a Welcome naming its key package before
 * the commit is decoded in full and checked (src/engine/commits.ts, `startJoin`), and the worker
 * joins while the follower runs. A commit refused by those checks must leave nothing of that
 * join: here the owner's commit welcoming alice to group A, sent in a document naming group B
 * (whose owner alice knows). The Welcome is valid, so the worker's join succeeds; the document
 * is refused (WRONG_GROUP), alice is no member of B, her key package is not consumed and she
 * joins A from the real commit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeDocument, readSecretGroupCommit, secretGroupCommitDocument } from "../src/documents/index.js";
import { groupAddingMember, ingestAll, withNodes } from "./engine-helpers.js";

test("a commit welcoming this node, refused after the join started (another group's MLS commit), leaves it no member and its key package unused", () =>
  withNodes([{}, {}], async ([owner, alice]) => {
    const a = await groupAddingMember(owner.engine, alice.engine);
    const b = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const gidB = b.groupId as Uint8Array;
    assert.deepEqual(await ingestAll(alice.engine, b.documents), ["applied"]);

    const welcoming = readSecretGroupCommit(decodeDocument(a.added[0] as Uint8Array));
    assert.ok(welcoming.commit.mlsWelcome !== undefined, "the commit welcomes alice");
    const misdirected = secretGroupCommitDocument(owner.identity, { secretGroup: gidB, commit: welcoming.commit }).bytes;
    await assert.rejects(alice.engine.ingest([misdirected]), { code: "WRONG_GROUP" });
    assert.notEqual((await alice.engine.describe(gidB)).status, "member");
    assert.equal((await alice.engine.stats()).stateTasks, 1, "the join ran (and was discarded)");

    assert.deepEqual(await ingestAll(alice.engine, [...a.created, ...a.added]), ["applied", "applied"]);
    assert.equal((await alice.engine.describe(a.gid)).status, "member");
    assert.notEqual((await alice.engine.describe(gidB)).status, "member");
  }));
