/**
 * The in-memory ledger of pending commits counts each document's bytes as a reload of the
 * store does (src/engine/pending.ts): the per-group and total byte limits must not depend on
 * whether the engine restarted since the commits arrived.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { EngineContext } from "../src/engine/context.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import { PendingCommits } from "../src/engine/pending.js";
import { groupAddingMember, ingestAll, withNodes } from "./engine-helpers.js";

const ctxOf = (engine: SecretGroupEngine): EngineContext => (engine as unknown as { ctx: EngineContext }).ctx;

test("pending commits weigh the same in the live ledger and after a reload", async () => {
  await withNodes([{}, {}], async ([owner, member]) => {
    const { gid, created, added } = await groupAddingMember(owner.engine, member.engine);
    assert.deepEqual(await ingestAll(member.engine, [...created, ...added]), ["applied", "applied"]);
    await owner.engine.updateGroup(gid); // never sent: the commits after it wait for it
    const later = [...(await owner.engine.updateGroup(gid)).documents, ...(await owner.engine.updateGroup(gid)).documents];
    assert.deepEqual(await ingestAll(member.engine, later), ["pending", "pending"]);
    const ctx = ctxOf(member.engine);
    assert.equal(ctx.pendingCommits.count, 2);
    const reloaded = await PendingCommits.load(ctx.store);
    assert.equal(reloaded.count, 2);
    assert.ok(reloaded.bytes > 0);
    assert.equal(ctx.pendingCommits.bytes, reloaded.bytes, "the live ledger and a reload count other bytes");
  });
});
