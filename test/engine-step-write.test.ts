/**
 * The engine's `execute` actor writes its step's batch before it resolves, and the group
 * machine settles the caller's promise only then; a write that fails rejects the job with a
 * StorageError, leaves the stored state and the actor's group as they were, and the group goes
 * on (the machine alone, with fake actors: engine-machine.test.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { utf8 } from "../src/bytes.js";
import { StorageError } from "../src/errors.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import type { EngineContext } from "../src/engine/context.js";
import type { EngineStore } from "../src/engine/store/store.js";
import { groupWithMember, ingestAll, withNodes } from "./engine-helpers.js";

const storeOf = (engine: SecretGroupEngine): EngineStore => (engine as unknown as { ctx: EngineContext }).ctx.store;
const text = (b: Uint8Array | Error | undefined): string => (b instanceof Uint8Array ? new TextDecoder().decode(b) : `error ${(b as Error & { code?: string })?.code}`);

test("a job settles only after its step's batch is written (a commit, a sender-ratchet encryption, an ingest)", () =>
  withNodes([{}, {}], async ([owner, alice]) => {
    const { gid } = await groupWithMember(owner.engine, alice.engine);
    const log: string[] = [];
    for (const node of [owner, alice]) {
      const store = storeOf(node.engine);
      const batch = store.batch.bind(store);
      // a slow disk: a job settled before its write ends would log before "written"
      store.batch = async (ops, options) => {
        await new Promise((r) => setTimeout(r, 25));
        await batch(ops, options);
        log.push("written");
      };
    }
    const update = await owner.engine.updateGroup(gid).finally(() => log.push("settled update"));
    assert.deepEqual(log, ["written", "settled update"]);
    log.length = 0;
    const message = await owner.engine.encrypt(gid, utf8("after the write"), { scheme: "sender-ratchet" }).finally(() => log.push("settled encrypt"));
    assert.deepEqual(log, ["written", "settled encrypt"]);
    log.length = 0;
    assert.deepEqual(await ingestAll(alice.engine, update.documents).finally(() => log.push("settled ingest")), ["applied"]);
    assert.equal(log.at(-1), "settled ingest");
    assert.ok(log.includes("written"), log.join(" | "));
    assert.deepEqual((await alice.engine.decrypt([message])).map(text), ["after the write"]);
  }));

test("a failed write rejects the job with a StorageError, changes nothing stored or held, and the group goes on", () =>
  withNodes([{}, {}], async ([owner, alice]) => {
    const { gid } = await groupWithMember(owner.engine, alice.engine);
    const before = await owner.engine.describe(gid);
    const outboxBefore = (await owner.engine.outbox()).length;
    // LevelDB refuses the next write (a full disk), once
    const db = (storeOf(owner.engine) as unknown as { db: { batch: (...args: unknown[]) => { write: (o?: unknown) => Promise<void> } } }).db;
    const chained = db.batch.bind(db);
    let fail = true;
    db.batch = (...args: unknown[]) => {
      const b = chained(...args);
      const write = b.write.bind(b);
      b.write = (o) => {
        if (!fail) return write(o);
        fail = false;
        return Promise.reject(new Error("disk full"));
      };
      return b;
    };
    await assert.rejects(owner.engine.updateGroup(gid), (e) => e instanceof StorageError && e.code === "STORAGE_ERROR" && /disk full/.test(e.message));
    assert.equal(fail, false, "the write was attempted");
    assert.deepEqual(await owner.engine.describe(gid), before, "the group as it was");
    assert.equal((await owner.engine.outbox()).length, outboxBefore, "the refused commit is not in the outbox");

    // the next commit goes from the same epoch, and the member follows it
    const update = await owner.engine.updateGroup(gid);
    assert.equal((await owner.engine.describe(gid)).mlsEpoch, before.mlsEpoch + 1n);
    assert.deepEqual(await ingestAll(alice.engine, update.documents), ["applied"]);
    const message = await owner.engine.encrypt(gid, utf8("after the failed write"), { scheme: "sender-ratchet" });
    assert.deepEqual((await alice.engine.decrypt([message])).map(text), ["after the failed write"]);

    await owner.engine.close();
    const reopened = await owner.reopen();
    assert.equal((await reopened.describe(gid)).mlsEpoch, before.mlsEpoch + 1n, "stored: the epoch of the written commit");
  }));
