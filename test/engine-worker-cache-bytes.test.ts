/**
 * The workers' caches of decoded MLS states are bounded by bytes: each state weighs exactly the
 * bytes it is stored in (its parts under `state/<gid>/`, kept through incremental stages), the
 * least recently used states go when the sum passes `workerCacheBytes` although the count bound
 * would keep them, and an evicted group reloads from the store and keeps working.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CACHED_STATE_ENTRY_BYTES } from "../src/constants.js";
import { createPool, runTask } from "../src/engine/pool.js";
import type { WorkerMemory } from "../src/engine/worker/protocol.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { keyPackageDocument } from "../src/documents/index.js";
import { toHex, utf8 } from "../src/bytes.js";
import { openNode, openStore } from "./engine-helpers.js";

const cached = (pool: ReturnType<typeof createPool>): Promise<WorkerMemory> => runTask<WorkerMemory>(pool, { op: "memory", list: true });

/** Stored bytes of each group's state (what a cached entry must weigh, besides its fixed overhead). */
async function storedBytes(path: string, identity: ReturnType<typeof generateIdentity>, gids: readonly string[]): Promise<Map<string, number>> {
  const store = await openStore(path, identity);
  try {
    const out = new Map<string, number>();
    for (const gid of gids) {
      const parts = await store.scan(Sublevel.State, `${gid}/`, "group state");
      out.set(gid, parts.reduce((a, [, v]) => a + v.length, 0));
    }
    return out;
  } finally {
    await store.close();
  }
}

test("worker state cache: entries weigh their stored bytes, eviction by bytes, evicted groups reload", async () => {
  const pool = createPool({ threads: 1, youngGenerationMb: 16 });
  const node = await openNode({ pool });
  try {
    // one group of 6 members (5 added), then one of 1: their exact weights, incremental stages included
    const big = (await node.engine.createGroup({ ciphersuite: "PANDA10_AES128GCM" })).groupId as Uint8Array;
    const kps = [];
    for (let i = 0; i < 5; i++) {
      const other = generateIdentity();
      kps.push(keyPackageDocument(other, { keyPackage: (await createKeyPackage(other)).keyPackage }).bytes);
    }
    await node.engine.addMembers(big, kps);
    await node.engine.updateGroup(big);
    await node.engine.encrypt(big, utf8("long-term"), { scheme: "long-term" });
    const small = (await node.engine.createGroup({ ciphersuite: "PANDA10_AES128GCM" })).groupId as Uint8Array;
    assert.equal((await cached(pool)).youngGenerationMb, 16, "the pool's workers run with the young generation asked for");
    const weights = new Map((await cached(pool)).entries!.map((e) => [e.key.split(":")[1]!, e.bytes]));
    await node.engine.close();
    const stored = await storedBytes(node.path, node.identity, [toHex(big), toHex(small)]);
    for (const gid of [big, small]) assert.equal(weights.get(toHex(gid)), stored.get(toHex(gid))! + CACHED_STATE_ENTRY_BYTES, `weight of ${toHex(gid)}`);
    const bigBytes = weights.get(toHex(big))!;
    const smallBytes = weights.get(toHex(small))!;
    assert.ok(bigBytes > smallBytes * 1.5, `a 6-member state (${bigBytes} B) outweighs a 1-member state (${smallBytes} B)`);

    // a bound of 4 small states: 12 groups, never more than the bound, though the count bound (64) keeps all
    const bound = 4 * smallBytes + 100;
    const engine = await node.reopen({ pool, workerCacheBytes: bound, workerCacheSize: 64 });
    try {
      const ids: Uint8Array[] = [];
      for (let i = 0; i < 12; i++) {
        ids.push((await engine.createGroup({ ciphersuite: "PANDA10_AES128GCM" })).groupId as Uint8Array);
        const mem = await cached(pool);
        assert.ok(mem.cacheBytes <= bound, `${mem.cacheBytes} cached bytes, bound ${bound}`);
      }
      const mem = await cached(pool);
      assert.ok(mem.cacheEntries >= 2 && mem.cacheEntries <= 4, `${mem.cacheEntries} states cached`);
      assert.equal(mem.cacheBytes, mem.entries!.reduce((a, e) => a + e.bytes, 0));
      // the first groups were evicted: using them again misses, reloads from the store, and works
      const misses = engine.stats().workerMisses;
      const message = await engine.encrypt(ids[0]!, utf8("after eviction"), { scheme: "long-term" });
      await engine.updateGroup(ids[1]!);
      assert.ok(engine.stats().workerMisses >= misses + 1, "an evicted state was reloaded");
      assert.deepEqual((await engine.decrypt([message])).map((b) => (b instanceof Uint8Array ? new TextDecoder().decode(b) : b)), ["after eviction"]);
      assert.equal(await engine.status(ids[1]!), "member");
      // the large group alone passes the bound: it is cached (the entry just added stays) and the rest go
      await engine.updateGroup(big);
      const after = await cached(pool);
      assert.equal(after.cacheEntries, 1);
      assert.equal(after.entries![0]!.key.split(":")[1], toHex(big));
    } finally {
      await engine.close();
    }
  } finally {
    await node.cleanup();
    await pool.destroy();
  }
});
