/**
 * A member's drain that reaches a commit the follower has not chained (the member's MLS state is
 * ahead of the index: it joined without the group's earlier commits) and that MLS refuses
 * forgets it whole (follower record, commit record, document), so the genuine commit of that
 * place in the chain still applies when it arrives.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "../src/bytes.js";
import { decodeDocument, readSecretGroupCommit, secretGroupCommitDocument } from "../src/documents/index.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import type { EngineContext } from "../src/engine/context.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import type { Identity } from "../src/identity.js";
import { ingestAll, withNodes } from "./engine-helpers.js";

const ctxOf = (engine: SecretGroupEngine): EngineContext => (engine as unknown as { ctx: EngineContext }).ctx;

/** The commit document `bytes` again, signed by `owner`, with the last byte of its MLS commit (the membership tag) changed. */
function broken(bytes: Uint8Array, owner: Identity): Uint8Array {
  const fields = readSecretGroupCommit(decodeDocument(bytes));
  const mlsCommit = Uint8Array.from(fields.commit.mlsCommit);
  mlsCommit[mlsCommit.length - 1] = (mlsCommit[mlsCommit.length - 1] as number) ^ 1;
  return secretGroupCommitDocument(owner, { ...fields, commit: { ...fields.commit, mlsCommit } }).bytes;
}

test("a pending commit the follower has not chained, refused by MLS in the drain, is forgotten; the genuine one applies after", () =>
  withNodes([{}, {}], async ([owner, alice]) => {
    const kp = (await alice.engine.publishKeyPackage()).documents;
    const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const gid = created.groupId as Uint8Array;
    await owner.engine.updateGroup(gid); // never seen by alice: her index has no chain from the root
    const added = (await owner.engine.addMembers(gid, kp)).documents;
    assert.deepEqual(await ingestAll(alice.engine, [...created.documents, ...kp, ...added]), ["applied", "duplicate", "applied"]);
    const third = (await owner.engine.updateGroup(gid)).documents;
    const fourth = (await owner.engine.updateGroup(gid)).documents;
    const forged = broken(fourth[0] as Uint8Array, owner.identity);
    const forgedId = toHex(decodeDocument(forged).id);

    assert.deepEqual(await ingestAll(alice.engine, [forged]), ["pending"]);
    const ctx = ctxOf(alice.engine);
    assert.equal(ctx.pendingCommits.count, 1);
    // the third commit applies in its step; the drain after it reaches the broken fourth
    assert.deepEqual(await ingestAll(alice.engine, third), ["applied"]);
    assert.equal(ctx.pendingCommits.count, 0, "the broken commit left the pending ledger");
    assert.equal(await ctx.store.has(Sublevel.Docs, forgedId), false, "its document is gone");
    assert.equal(await ctx.store.has(Sublevel.Commits, `${toHex(gid)}/${forgedId}`), false, "its commit record is gone");
    const followerRecords = await ctx.store.keys(Sublevel.Materialise, `q/${toHex(gid)}/`);
    assert.equal(followerRecords.length, 2, "the applied second and third commits stay in the follower's pending records");
    assert.deepEqual(followerRecords.filter((k) => k.endsWith(forgedId)), [], "its follower record is gone");

    assert.deepEqual(await ingestAll(alice.engine, fourth), ["applied"]);
    assert.equal((await alice.engine.describe(gid)).mlsEpoch, (await owner.engine.describe(gid)).mlsEpoch);
  }));
