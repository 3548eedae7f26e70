/**
 * A drain cut short by a crash is finished after the restart (the group machine queues it
 * first at hydration, when the group's owner is known): ingesting a commit and applying what it unblocks (a
 * member's next commits) are separate batches, and the process may die between them; a join
 * through a Welcome stored before its group document is one batch with that document. The crash is simulated deterministically: from the chosen batch on, the store
 * writes nothing (as a killed process), then the engine is reopened on the same folder. The
 * application does not ingest anything again: the first job after the restart must already see
 * the drain done (test/engine-crash.test.ts met this with seed 1051505277).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { utf8 } from "../src/bytes.js";
import { decodeDocument } from "../src/documents/index.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import type { EngineContext } from "../src/engine/context.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { groupAddingMember, ingestAll, withNodes } from "./engine-helpers.js";

const text = (b: Uint8Array | Error | undefined): string => (b instanceof Uint8Array ? new TextDecoder().decode(b) : `error ${(b as Error & { code?: string })?.code}`);

/** From the `nth` batch that writes MLS state on, `engine`'s store writes nothing (a killed process). */
function dieAtStateBatch(engine: SecretGroupEngine, nth: number): { died: () => boolean } {
  const store = (engine as unknown as { ctx: EngineContext }).ctx.store;
  const batch = store.batch.bind(store);
  let seen = 0;
  let dead = false;
  store.batch = (ops, options = {}) => {
    if (!dead && ops.some((op) => op.sub === Sublevel.State) && ++seen === nth) dead = true;
    return dead ? Promise.reject(new Error("killed")) : batch(ops, options);
  };
  return { died: () => dead };
}

test("a join through a stored Welcome is one batch with its group document: cut short, neither is stored, and the group document ingested again joins", () =>
  withNodes([{}, {}], async ([owner, alice]) => {
    const { gid, created, added } = await groupAddingMember(owner.engine, alice.engine);

    // the commit (with alice's Welcome) arrives before its group, so it is stored; the join is
    // in the group document's step, one batch with it, and that batch is not written
    const crash = dieAtStateBatch(alice.engine, 1);
    assert.deepEqual(await ingestAll(alice.engine, added), ["pending"]);
    assert.notDeepEqual(await ingestAll(alice.engine, created).catch(() => undefined), ["applied"], "the group document's ingest fails with its batch");
    assert.ok(crash.died(), "the join's batch was the one cut");
    await alice.engine.close().catch(() => undefined);

    const restarted = await alice.reopen();
    await assert.rejects(restarted.describe(gid), "the group document was not stored either");
    assert.deepEqual(await ingestAll(restarted, created), ["applied"], "the group document was not stored: not a duplicate");
    const message = await restarted.encrypt(gid, utf8("after the restart"), { scheme: "sender-ratchet" });
    assert.equal((await restarted.describe(gid)).status, "member");
    assert.deepEqual((await owner.engine.decrypt([message])).map(text), ["after the restart"]);
    // the join's key package deletion is in the outbox, as after an uninterrupted join
    assert.deepEqual((await restarted.outbox()).map((d) => decodeDocument(d).schema), ["key_package_v1", "key_package_deletion_v1"]);
  }));

test("a member's drain cut short (a later commit stored before its predecessor, not applied yet) is applied after the restart", () =>
  withNodes([{}, {}], async ([owner, alice]) => {
    const { gid, created, added } = await groupAddingMember(owner.engine, alice.engine);
    await alice.engine.ingest([...created, ...added]);
    const first = (await owner.engine.rotate(gid)).documents;
    const second = (await owner.engine.updateGroup(gid)).documents;
    const later = await owner.engine.encrypt(gid, utf8("at the owner's epoch"), { scheme: "sender-ratchet" });

    // the second commit waits (pending); the first is applied; the drain applying the second is cut
    const crash = dieAtStateBatch(alice.engine, 2);
    await ingestAll(alice.engine, [...second, ...first]).catch(() => undefined);
    assert.ok(crash.died(), "the drain's batch was the one cut");
    await alice.engine.close().catch(() => undefined);

    const restarted = await alice.reopen();
    assert.deepEqual((await restarted.decrypt([later])).map(text), ["at the owner's epoch"]);
    assert.equal((await restarted.describe(gid)).mlsEpoch, (await owner.engine.describe(gid)).mlsEpoch);
  }));

test("a join in the step of its commit (its group known) cut short leaves nothing of the commit: ingested again after the restart, it joins", () =>
  withNodes([{}, {}], async ([owner, alice]) => {
    const { gid, created, added } = await groupAddingMember(owner.engine, alice.engine);
    assert.deepEqual(await ingestAll(alice.engine, created), ["applied"]);

    const crash = dieAtStateBatch(alice.engine, 1);
    await ingestAll(alice.engine, added).catch(() => undefined);
    assert.ok(crash.died(), "the join's batch was the one cut");
    await alice.engine.close().catch(() => undefined);

    const restarted = await alice.reopen();
    assert.notEqual((await restarted.describe(gid)).status, "member");
    assert.deepEqual(await ingestAll(restarted, added), ["applied"], "the commit was not stored: not a duplicate");
    const message = await restarted.encrypt(gid, utf8("after the restart"), { scheme: "sender-ratchet" });
    assert.deepEqual((await owner.engine.decrypt([message])).map(text), ["after the restart"]);
    assert.deepEqual((await restarted.outbox()).map((d) => decodeDocument(d).schema), ["key_package_v1", "key_package_deletion_v1"]);
  }));
