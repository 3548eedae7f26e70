/**
 * A node not yet a member starts joining through a commit's Welcome beside the commit
 * document's signature check (src/engine/commits.ts: the join is speculative). A forged copy
 * (the genuine commit in an envelope whose signature does not verify) must leave no trace of
 * that join: no stored state or record change, no state cached on the worker, no event; a second
 * forged copy starts no join at all (dropRun); the genuine commit then joins as usual.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "../src/bytes.js";
import { decodeCanonical, encodeCanonical } from "../src/documents/cbor.js";
import { decodeDocumentDeferred } from "../src/documents/document.js";
import type { EngineContext } from "../src/engine/context.js";
import type { EngineEvent } from "../src/engine/watch.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import { runTask } from "../src/engine/pool.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import type { WorkerMemory } from "../src/engine/worker/protocol.js";
import { groupAddingMember, ingestAll, withNodes, withPool } from "./engine-helpers.js";

/** The same document with bits of its signature flipped (`bit` at byte 5): another id per `bit`. */
function forged(bytes: Uint8Array, bit: number): Uint8Array {
  const envelope = decodeCanonical(bytes) as { payload: Uint8Array; signature: Uint8Array };
  return encodeCanonical({ payload: envelope.payload, signature: Uint8Array.from(envelope.signature, (x, i) => (i === 5 ? x ^ bit : x)) });
}

const storeOf = (engine: SecretGroupEngine): EngineContext["store"] => (engine as unknown as { ctx: EngineContext }).ctx.store;

test("a forged copy of the commit adding this node joins beside its check and leaves no trace (store, worker cache, events); a second copy starts no join; the genuine commit joins", async () => {
  await withPool(2, (pool) =>
    withNodes([{}, { pool }], async ([owner, alice]) => {
      const { gid, created, added } = await groupAddingMember(owner.engine, alice.engine);
      const gidHex = toHex(gid);
      assert.deepEqual(await ingestAll(alice.engine, created), ["applied"], "the owner is known: a Welcome for this node is joined in the commit's step");
      const events: EngineEvent[] = [];
      const watching = (async () => {
        for await (const e of alice.engine.watch()) events.push(e);
      })();
      const store = storeOf(alice.engine);
      const statusBefore = (await alice.engine.describe(gid)).status;
      const cachedStates = async (): Promise<string[]> => {
        const memory = await runTask<WorkerMemory>(pool, { op: "memory", list: true }, gidHex); // the group's worker
        return (memory.entries ?? []).map((e) => e.key).filter((k) => k.endsWith(`:${gidHex}`));
      };
      const commit = added[0]!;
      const before = alice.engine.stats();
      await assert.rejects(alice.engine.ingest([forged(commit, 1)]), { code: "INVALID_SIGNATURE" });
      assert.equal(alice.engine.stats().stateTasks, before.stateTasks + 1, "the forged copy's join ran on the worker beside its check");
      assert.deepEqual(await cachedStates(), [], "the speculative join's state is gone from the worker's cache");
      assert.deepEqual(await store.scan(Sublevel.State, `${gidHex}/`, "group state"), [], "no state part stored");
      assert.equal((await alice.engine.describe(gid)).status, statusBefore, "the group record is as it was");
      assert.equal(await store.has(Sublevel.Docs, toHex(decodeDocumentDeferred(forged(commit, 1)).doc.id)), false, "the forged document is not stored");
      // a second forged copy (another id) starts no join: the group's speculative join was dropped at this epoch
      await assert.rejects(alice.engine.ingest([forged(commit, 2)]), { code: "INVALID_SIGNATURE" });
      assert.equal(alice.engine.stats().stateTasks, before.stateTasks + 1, "a second forged copy started no join");
      assert.equal(events.length, 0, "no event for a forged join");
      // the genuine commit joins (after its check: the group's speculation was dropped) and then applies the next one
      assert.deepEqual(await ingestAll(alice.engine, [commit]), ["applied"]);
      assert.equal((await alice.engine.describe(gid)).status, "member");
      assert.equal((await cachedStates()).length, 1, "the genuine join's state is cached");
      assert.deepEqual(await ingestAll(alice.engine, (await owner.engine.updateGroup(gid)).documents), ["applied"]);
      await alice.engine.close();
      await watching;
      assert.deepEqual(
        events.map((e) => e.type),
        ["joined", "commit"],
      );
    }),
  );
});
