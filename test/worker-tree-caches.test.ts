/**
 * The worker's tasks, run in this thread (src/engine/worker/tasks.ts), let the patched ts-mls's
 * tree-hash snapshots and key summaries of a tree go with the state that held it
 * (src/mls/treeCaches.ts): when a state made from nothing (a join) is staged over a group's
 * cached state, when a stale state (another token) is replaced by the stored one, and when the
 * engine drops the group. Each check counts the thread's caches, which hold nothing else here:
 * the library's own trees are forgotten before the first count. And the list of hashes the
 * release walks holds them weakly, so a hash no longer used still takes its caches with it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeSecretGroupCommit } from "../src/commit.js";
import { addMembers, createGroup, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { runWorkerTask } from "../src/engine/worker/tasks.js";
import type { KeyPackageOut, StateOut, StateRef, TaskRequest } from "../src/engine/worker/protocol.js";
import { forgetTreeCaches, treeCacheSizes } from "../src/mls/treeCaches.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { treeHash } from "ts-mls/treeHash.js";
import type { RatchetTree } from "ts-mls";

const BOUNDS = { cacheLimit: 16, cacheBytes: 1 << 30 };

async function run<T>(task: TaskRequest): Promise<T> {
  const out = await runWorkerTask(task);
  if (!out.ok) throw new Error(`task ${task.op} failed: ${JSON.stringify(out.error)}`);
  return out.value as T;
}

/** A group of 4 whose owner adds `kp`, and an update commit after it; the owner's trees forgotten. */
async function groupFor(kp: Uint8Array): Promise<{ owner: Uint8Array; add: Uint8Array; update: Uint8Array; states: GroupState[] }> {
  const owner = generateIdentity();
  const created = await createGroup({ identity: owner, groupId: crypto.getRandomValues(new Uint8Array(32)), ciphersuite: "PANDA10_AES256GCM" });
  const others = await Promise.all([0, 1].map(async () => (await createKeyPackage(generateIdentity())).keyPackage));
  const added = await addMembers(created, [kp, ...others]);
  const updated = await updateGroup(added.state);
  return { owner: owner.publicKey, add: added.commit, update: updated.commit, states: [created, added.state, updated.state] };
}

const sizes = (): [number, number] => {
  const { snapshots, summaries } = treeCacheSizes();
  return [snapshots, summaries];
};

test("a joined state staged over a group's state, a stale state replaced by the stored one and a dropped state each take their tree's caches with them", async () => {
  const alice = generateIdentity();
  const kps = [await run<KeyPackageOut>({ op: "keyPackage", identity: alice }), await run<KeyPackageOut>({ op: "keyPackage", identity: alice })];
  const groups = [await groupFor(kps[0]!.keyPackage), await groupFor(kps[1]!.keyPackage)];
  for (const g of groups) for (const s of g.states) forgetTreeCaches(s.mls);
  const start = sizes();

  const ref: StateRef = { key: "engine:group", ...BOUNDS };
  const join = (i: number): Promise<StateOut> =>
    run<StateOut>({ op: "join", ref, identity: alice, secret: kps[i]!.secret, owner: groups[i]!.owner, commit: decodeSecretGroupCommit(groups[i]!.add) });

  await join(0);
  const one = sizes();
  assert.ok(one[0] > start[0] && one[1] > start[1], `a join hashes and summarises its tree: ${start} -> ${one}`);

  // the second group's join over the first's entry (as a rejoin would): the first tree's caches go
  const second = await join(1);
  assert.deepEqual(sizes(), one, "one joined state's caches, not two");

  // a stale entry (the engine names another token): the stored state replaces it, and the stale tree's caches go
  const stored: StateRef = { ...ref, token: "persisted elsewhere", parts: second.change!.parts.flatMap(([k, v]) => (v === null ? [] : [[k, v] as const])) };
  await run<StateOut>({ op: "process", ref: stored, commit: decodeSecretGroupCommit(groups[1]!.update) });
  const loaded = sizes();

  // dropped: nothing of this group's trees is left
  await run<null>({ op: "drop", key: ref.key });
  assert.deepEqual(sizes(), start, `after the drop (loaded and applied: ${loaded})`);
});

test("a hash no longer used takes its tree-hash caches with it: the list that lets a tree's snapshots be dropped holds hashes weakly", async () => {
  const { gc } = await import("../bench/memory.js");
  const owner = generateIdentity();
  const created = await createGroup({ identity: owner, groupId: crypto.getRandomValues(new Uint8Array(32)), ciphersuite: "PANDA10_AES256GCM" });
  const added = await addMembers(created, await Promise.all([0, 1, 2].map(async () => (await createKeyPackage(generateIdentity())).keyPackage)));
  const tree = (added.state.mls as { ratchetTree: RatchetTree }).ratchetTree;
  const before = treeCacheSizes().snapshots;
  await (async () => {
    // a hash object of its own, used once and dropped (as by a caller that makes an implementation per call)
    const hash = { digest: async (b: Uint8Array) => new Uint8Array(await crypto.subtle.digest("SHA-256", b)) } as unknown as Parameters<typeof treeHash>[2];
    await treeHash(tree, 3 as Parameters<typeof treeHash>[1], hash);
  })();
  assert.equal(treeCacheSizes().snapshots, before + 1, "its snapshot is kept while the hash lives");
  // a WeakRef's target is kept to the end of the job that last read it: collect after it
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc();
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc();
  assert.equal(treeCacheSizes().snapshots, before, "collected with its hash");
});
