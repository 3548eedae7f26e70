/**
 * A joined small group's state takes a place in its worker's cache only when one is free, unless
 * work for the group waits (src/engine/joinKeep.ts): a stream of many groups must not evict
 * cached states for joined ones nothing uses soon. A state not kept is loaded from the store by
 * the group's next task, which works as before.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { decodeSecretGroupCommit } from "../src/commit.js";
import type { SecretGroupCommit } from "../src/commit.js";
import { JOIN_KEEP_MIN_BYTES } from "../src/constants.js";
import type { EngineContext } from "../src/engine/context.js";
import { keepsJoinedState } from "../src/engine/joinKeep.js";
import { runTask } from "../src/engine/pool.js";
import { isMiss } from "../src/engine/worker/protocol.js";
import type { JoinTask, StateOut, WorkerMemory } from "../src/engine/worker/protocol.js";
import { addMembers, createGroup } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { signDocument } from "../src/documents/index.js";
import type { Piscina } from "piscina";
import { groupAddingMember, ingestAll, withNodes, withPool } from "./engine-helpers.js";

const SUITE = "PANDA10_AES128GCM";
const LIMIT = 2;
const refOf = (key: string, token?: string) => ({ key, cacheLimit: LIMIT, cacheBytes: 8 * 1024 * 1024, ...(token === undefined ? {} : { token }) });

/** A join task for `member` into a fresh 2-member group, cached under `key`. */
async function joinTask(member: Identity, key: string, keepState?: boolean): Promise<JoinTask> {
  const owner = generateIdentity();
  const kp = await createKeyPackage(member);
  const created = await createGroup({ identity: owner, groupId: randomBytes(32), ciphersuite: SUITE });
  const added = await addMembers(created, [kp.keyPackage]);
  return { op: "join", ref: refOf(key), identity: member, secret: kp.secret, owner: owner.publicKey, commit: decodeSecretGroupCommit(added.commit), ...(keepState === undefined ? {} : { keepState }) };
}

const cachedKeys = async (pool: Piscina): Promise<string[]> =>
  ((await runTask<WorkerMemory>(pool, { op: "memory", list: true })).entries ?? []).map((e) => e.key).sort();

test("worker: a join not asked to keep its state takes a free place only; asked, it evicts the least recently used", async () => {
  await withPool(1, async (pool) => {
    const member = generateIdentity();
    const join = async (key: string, keep?: boolean) => (await runTask<StateOut>(pool, await joinTask(member, key, keep))).change!.token;
    await join("keep-test:a");
    await join("keep-test:b", false);
    assert.deepEqual(await cachedKeys(pool), ["keep-test:a", "keep-test:b"], "a free place was taken");
    const c = await join("keep-test:c", false);
    assert.deepEqual(await cachedKeys(pool), ["keep-test:a", "keep-test:b"], "a full cache evicts nothing for it");
    // its next task misses (the engine then sends the stored parts)
    const next = await runTask<StateOut>(pool, { op: "decrypt", ref: refOf("keep-test:c", c), messages: [] });
    assert.ok(isMiss(next), "the state not kept is not there");
    // the same group joined again replaces its own entry: no other is evicted
    await join("keep-test:b", false);
    assert.deepEqual(await cachedKeys(pool), ["keep-test:a", "keep-test:b"]);
    await join("keep-test:d", true);
    assert.deepEqual(await cachedKeys(pool), ["keep-test:b", "keep-test:d"], "asked to keep, it evicts the least recently used");
  });
});

/** A context holding only what keepsJoinedState reads. */
function contextWith(ops: Record<string, number>, commits: Record<string, string[]>): EngineContext {
  return {
    pendingOps: { entries: (gid: string) => Array.from({ length: ops[gid] ?? 0 }, (_, i) => [`op${i}`, {}]) },
    pendingCommits: { ofGroup: (gid: string) => (commits[gid] ?? []).map((cid) => ({ gid, cid, indexKey: "", bytes: 0 })) },
  } as unknown as EngineContext;
}

test("keepsJoinedState: large joins and groups with pending operations or later pending commits keep their state", () => {
  const small: SecretGroupCommit = { mlsCommit: new Uint8Array(2000), mlsWelcome: new Uint8Array(1000) } as SecretGroupCommit;
  const large: SecretGroupCommit = { ...small, mlsWelcome: new Uint8Array(JOIN_KEEP_MIN_BYTES - 2000) } as SecretGroupCommit;
  assert.equal(keepsJoinedState(contextWith({}, {}), "g", "c1", small), false, "nothing waits");
  assert.equal(keepsJoinedState(contextWith({}, {}), "g", "c1", large), true, "a large group");
  assert.equal(keepsJoinedState(contextWith({ g: 1 }, {}), "g", "c1", small), true, "an operation waits");
  assert.equal(keepsJoinedState(contextWith({ other: 3 }, { other: ["c9"] }), "g", "c1", small), false, "another group's work");
  assert.equal(keepsJoinedState(contextWith({}, { g: ["c1"] }), "g", "c1", small), false, "only the joined commit itself was pending");
  assert.equal(keepsJoinedState(contextWith({}, { g: ["c1", "c2"] }), "g", "c1", small), true, "a later commit waits");
});

test("engine: groups joined past a full cache reload on their next commit and work; a group whose operation waits keeps its state", async () => {
  await withPool(1, (pool) =>
    withNodes([{}, { pool, workerCacheSize: LIMIT }], async ([owner, alice]) => {
      // four small groups in one ingest: the first two take the free places
      const made = [];
      for (let i = 0; i < 4; i++) made.push(await groupAddingMember(owner.engine, alice.engine, SUITE));
      const outcomes = await ingestAll(alice.engine, made.flatMap((m) => [...m.created, ...m.keyPackage, ...m.added]));
      assert.ok(outcomes.every((o) => o === "applied" || o === "duplicate"), outcomes.join());
      assert.equal((await cachedKeys(pool)).length, LIMIT);
      const before = alice.engine.stats().workerMisses;
      const updates = [];
      for (const m of made) updates.push(...(await owner.engine.updateGroup(m.gid)).documents);
      assert.deepEqual(await ingestAll(alice.engine, updates), updates.map(() => "applied"));
      assert.equal(alice.engine.stats().workerMisses, before + made.length - LIMIT, "the states not kept were loaded from the store");

      // a sender-ratchet operation arrives before its group: the join keeps the state, and the
      // drain after it decrypts the operation from the cache
      const waiting = await groupAddingMember(owner.engine, alice.engine, SUITE);
      const fields = await owner.engine.encryptFields(waiting.gid, { body: "before the join" }, { scheme: "sender-ratchet", schema: "chat_message_v1", names: ["body"] });
      const op = signDocument(owner.identity, "chat_message_v1", fields);
      assert.deepEqual(await ingestAll(alice.engine, [op.bytes]), ["pending"]);
      const misses = alice.engine.stats().workerMisses;
      await ingestAll(alice.engine, [...waiting.created, ...waiting.keyPackage, ...waiting.added]);
      assert.equal(alice.engine.stats().workerMisses, misses, "the drain found the joined state cached");
      assert.equal((await alice.engine.read(op.id))?.fields["body"], "before the join");
    }),
  );
});
