/**
 * Secrets at rest in the engine: long-term nonce counters across restarts without any commit
 * (same key, same MLS epoch: only the counter tells two nonces apart), the batches that must
 * reach the disk before their result is used, and key package private keys once joined.
 */
import type { Identity } from "../src/identity.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { Level } from "level";
import { toHex, utf8 } from "../src/bytes.js";
import { decodeSecretGroupMessage } from "../src/message.js";
import { EngineStore } from "../src/engine/store/store.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { readGroupRecord } from "../src/engine/store/groups.js";
import { readKeyPackage, decodeDocument } from "../src/documents/index.js";
import { keyPackageInfo } from "../src/keyPackage.js";
import { ingestAll, openNode, openStore } from "./engine-helpers.js";

const text = (b: Uint8Array | Error | undefined): string => {
  if (!(b instanceof Uint8Array)) throw b ?? new Error("missing");
  return new TextDecoder().decode(b);
};

/** Every LevelDB batch of this process, with its `sync` option, while `watch.on` is set. */
const watch = { on: false, batches: [] as boolean[] };
interface Chained {
  write(options?: { sync?: boolean }): Promise<void>;
}
const levelProto = Level.prototype as unknown as { batch: (...args: unknown[]) => Promise<void> | Chained };
const originalBatch = levelProto.batch;
levelProto.batch = function (this: unknown, ...args: unknown[]) {
  if (args.length === 0) {
    // the store writes each atomic batch as one chained batch: its sync option is write()'s
    const chained = originalBatch.call(this) as Chained;
    const write = chained.write.bind(chained);
    chained.write = (options) => {
      if (watch.on) watch.batches.push(options?.sync === true);
      return write(options);
    };
    return chained;
  }
  const [ops, options] = args as [unknown, { sync?: boolean } | undefined];
  if (watch.on && Array.isArray(ops)) watch.batches.push(options?.sync === true);
  return originalBatch.call(this, ops, options);
};
async function watched<T>(fn: () => Promise<T>): Promise<{ value: T; syncs: boolean[] }> {
  watch.batches = [];
  watch.on = true;
  try {
    return { value: await fn(), syncs: watch.batches };
  } finally {
    watch.on = false;
  }
}

async function storeOf<T>(path: string, self: Identity, fn: (store: EngineStore) => Promise<T>): Promise<T> {
  const store = await openStore(path, self);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

test("restarts without a commit never repeat a long-term nonce under the same key and epoch", async () => {
  const owner = await openNode({ nonceBlock: 4 });
  const alice = await openNode();
  let ownerEngine = owner.engine;
  try {
    const kp = (await alice.engine.publishKeyPackage()).documents;
    const created = await ownerEngine.createGroup({ ciphersuite: "PANDA10_AES128GCM" });
    const gid = created.groupId as Uint8Array;
    const added = await ownerEngine.addMembers(gid, kp);
    const epoch = (await ownerEngine.describe(gid)).mlsEpoch;
    const messages: Uint8Array[] = [];
    const reserved: bigint[] = [];
    // 4 runs of 3 encryptions with blocks of 4: runs end inside a block and across block ends
    for (let run = 0; run < 4; run++) {
      for (let i = 0; i < 3; i++) messages.push(await ownerEngine.encrypt(gid, utf8(`run ${run} message ${i}`), { scheme: "long-term" }));
      assert.equal((await ownerEngine.describe(gid)).mlsEpoch, epoch, "no commit: the nonce exporter is the same");
      await ownerEngine.close();
      reserved.push(await storeOf(owner.path, owner.identity, async (s) => (await readGroupRecord(s, toHex(gid)))!.nonceReserved));
      ownerEngine = await owner.reopen();
    }
    const parsed = messages.map((m) => decodeSecretGroupMessage(m));
    const nonces = parsed.map((m) => (m.type === "long-term" ? toHex(m.ciphertext.nonce) : assert.fail("long-term expected")));
    // one key for all of them: the long-term epoch never moved
    assert.deepEqual(new Set(parsed.map((m) => (m.type === "long-term" ? m.ciphertext.epoch : -1n))), new Set([0n]));
    assert.equal(new Set(nonces).size, messages.length, "a nonce was used twice under the same key");
    // every restart resumes after the reserved block, and reserves before it encrypts again
    for (let run = 1; run < reserved.length; run++) assert.ok((reserved[run] as bigint) > (reserved[run - 1] as bigint));
    // and the member reads them all
    await ingestAll(alice.engine, [...created.documents, ...added.documents]);
    assert.deepEqual((await alice.engine.decrypt(messages)).map(text), Array.from({ length: 12 }, (_, k) => `run ${Math.floor(k / 3)} message ${k % 3}`));
  } finally {
    await ownerEngine.close();
    await alice.engine.close();
    await owner.cleanup();
    await alice.cleanup();
  }
});

test("nonce reservations, sender-ratchet encryptions and consumed ratchet keys are written with sync", async () => {
  const owner = await openNode({ nonceBlock: 2 });
  const alice = await openNode();
  try {
    const kp = (await alice.engine.publishKeyPackage()).documents;
    const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const gid = created.groupId as Uint8Array;
    const added = await owner.engine.addMembers(gid, kp);
    await ingestAll(alice.engine, [...created.documents, ...added.documents]);
    // long-term: a call that reserves a block (nonceBlock 2) writes the reservation, with sync;
    // the encryptions inside a reservation write nothing (their counters are in memory)
    const calls: boolean[][] = [];
    for (let i = 0; i < 6; i++) calls.push((await watched(() => owner.engine.encrypt(gid, utf8(`lt ${i}`), { scheme: "long-term" }))).syncs);
    const reserving = calls.filter((c) => c.length > 0);
    assert.ok(reserving.length >= 2, `reservations seen: ${JSON.stringify(calls)}`);
    assert.ok(reserving.length < calls.length, `encryptions inside a reservation write nothing: ${JSON.stringify(calls)}`);
    for (const c of reserving) assert.deepEqual(c, [true], `the reservation was not synced: ${JSON.stringify(calls)}`);
    const sr = await watched(() => owner.engine.encrypt(gid, utf8("sender-ratchet"), { scheme: "sender-ratchet" }));
    assert.ok(sr.syncs.length >= 1);
    assert.deepEqual(sr.syncs, sr.syncs.map(() => true));
    const read = await watched(() => alice.engine.decrypt([sr.value]));
    assert.equal(text(read.value[0]), "sender-ratchet");
    assert.ok(read.syncs.length >= 1, "the used ratchet key was deleted in a batch");
    assert.deepEqual(read.syncs, read.syncs.map(() => true));
  } finally {
    for (const n of [owner, alice]) {
      await n.engine.close();
      await n.cleanup();
    }
  }
});

test("a key package's private keys leave the store once it was used to join; an unused one stays", async () => {
  const owner = await openNode();
  const alice = await openNode();
  try {
    const used = (await alice.engine.publishKeyPackage()).documents;
    const unused = (await alice.engine.publishKeyPackage()).documents;
    const refOf = (docs: Uint8Array[]) => toHex(keyPackageInfo(readKeyPackage(decodeDocument(docs[0] as Uint8Array)).keyPackage).ref);
    const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_CHACHA20POLY1305" });
    const gid = created.groupId as Uint8Array;
    const added = await owner.engine.addMembers(gid, used);
    await alice.engine.close();
    const before = await storeOf(alice.path, alice.identity, async (s) => (await s.scan(Sublevel.KeyPackages, "", "key package record")).map(([k]) => k));
    assert.deepEqual(before.sort(), [refOf(used), refOf(unused)].sort(), "both records are stored before the join");

    const engine = await alice.reopen();
    try {
      await ingestAll(engine, [...created.documents, ...added.documents]);
      assert.equal(await engine.status(gid), "member");
    } finally {
      await engine.close();
    }
    const after = await storeOf(alice.path, alice.identity, async (s) => (await s.scan(Sublevel.KeyPackages, "", "key package record")).map(([k]) => k));
    assert.deepEqual(after, [refOf(unused)]);
  } finally {
    await owner.engine.close();
    await owner.cleanup();
    await alice.cleanup();
  }
});
