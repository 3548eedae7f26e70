/**
 * An engine on a pool it was given (`pool` option) leaves nothing of its own in the pool's workers
 * when it closes: its decoded MLS states, the long-term keys its bulk decryption sent and its
 * identity are dropped from every worker (task `forget`, run on each thread), while another
 * engine's stay. Before, they stayed until the caches' bounds evicted them: unusable (a reopened
 * engine has another id) but held, secrets included, and marked by every full collection.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { utf8 } from "../src/bytes.js";
import { POOL_DECRYPT_MIN_VALUES } from "../src/constants.js";
import type { EngineContext } from "../src/engine/context.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import { runOnEachThread } from "../src/engine/pool.js";
import type { WorkerMemory } from "../src/engine/worker/protocol.js";
import { groupWithMember, withNodes, withPool } from "./engine-helpers.js";

const idOf = (engine: SecretGroupEngine): string => (engine as unknown as { ctx: EngineContext }).ctx.engineId;
const sum = (ms: readonly WorkerMemory[], f: (m: WorkerMemory) => number): number => ms.reduce((a, m) => a + f(m), 0);
const keysOf = (ms: readonly WorkerMemory[]): string[] => ms.flatMap((m) => (m.entries ?? []).map((e) => e.key)).sort();

test("runOnEachThread runs a task once on every worker of the pool", async () => {
  await withPool(2, async (pool) => {
    const seen = await runOnEachThread<WorkerMemory>(pool, { op: "memory" });
    assert.equal(seen.length, 2);
    assert.equal(new Set(seen.map((m) => m.threadId)).size, 2);
  });
});

test("an engine closing on a shared pool leaves none of its states, long-term keys or identity in the workers; the other engine's stay", async () => {
  await withPool(2, (pool) =>
    withNodes([{ pool }, { pool, bulkDecrypt: "pool" }], async ([owner, alice]) => {
      const { gid } = await groupWithMember(owner.engine, alice.engine);
      const messages: Uint8Array[] = [];
      for (let i = 0; i < POOL_DECRYPT_MIN_VALUES + 16; i++) messages.push(await owner.engine.encrypt(gid, utf8(`value ${i}`), { scheme: "long-term" }));
      const read = await alice.engine.decrypt(messages);
      assert.deepEqual(read, messages.map((_, i) => utf8(`value ${i}`)));
      const aliceId = idOf(alice.engine);
      const ownerId = idOf(owner.engine);
      const before = await runOnEachThread<WorkerMemory>(pool, { op: "memory", list: true });
      assert.ok(keysOf(before).some((k) => k.startsWith(`${aliceId}:`)), "alice's state is cached before she closes");
      assert.ok(keysOf(before).some((k) => k.startsWith(`${ownerId}:`)));
      assert.ok(sum(before, (m) => m.longTermKeys) > 0, "the bulk decryption sent its keys");
      const identitiesBefore = sum(before, (m) => m.identities);

      await alice.engine.close();
      const after = await runOnEachThread<WorkerMemory>(pool, { op: "memory", list: true });
      assert.deepEqual(keysOf(after), keysOf(before).filter((k) => !k.startsWith(`${aliceId}:`)), "only alice's states went");
      assert.equal(sum(after, (m) => m.longTermKeys), 0);
      assert.ok(sum(after, (m) => m.identities) < identitiesBefore, "alice's identity went");

      // another engine of hers on the same pool and store reads as before, and the owner's still works
      await alice.reopen();
      assert.deepEqual(await alice.engine.decrypt(messages), read);
      assert.deepEqual(await alice.engine.decrypt([await owner.engine.encrypt(gid, utf8("after"), { scheme: "long-term" })]), [utf8("after")]);
    }),
  );
});

test("a state the worker lets go takes the patched ts-mls's tree-hash snapshots and key summaries of its tree with it", async () => {
  // alice alone on her pool: what its worker keeps of trees is hers
  await withPool(1, (ownerPool) =>
    withPool(1, (alicePool) =>
      withNodes([{ pool: ownerPool }, { pool: alicePool }], async ([owner, alice]) => {
        const { gid } = await groupWithMember(owner.engine, alice.engine);
        // a commit she applies: her worker hashes and summarises the next tree
        const { documents } = await owner.engine.updateGroup(gid);
        assert.deepEqual((await alice.engine.ingest(documents)).outcomes, documents.map(() => "applied"));
        const [before] = await runOnEachThread<WorkerMemory>(alicePool, { op: "memory" });
        assert.ok(before!.cacheEntries > 0 && before!.treeSnapshots > 0 && before!.keySummaries > 0, "her state, its tree's snapshot and key summary are kept");

        await alice.engine.close();
        const [after] = await runOnEachThread<WorkerMemory>(alicePool, { op: "memory" });
        assert.deepEqual([after!.cacheEntries, after!.treeSnapshots, after!.keySummaries], [0, 0, 0], "her state went, and nothing held its tree");

        // reopened, she loads her state again and applies the next commit
        await alice.reopen();
        const next = await owner.engine.updateGroup(gid);
        assert.deepEqual((await alice.engine.ingest(next.documents)).outcomes, next.documents.map(() => "applied"));
        assert.deepEqual(await alice.engine.decrypt([await owner.engine.encrypt(gid, utf8("after"), { scheme: "sender-ratchet" })]), [utf8("after")]);
      }),
    ),
  );
});
