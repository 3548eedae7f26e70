/**
 * Restarts, nonce reservation, pending commits, eviction of idle actors.
 */
import type { Identity } from "../src/identity.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex, utf8 } from "../src/bytes.js";
import { decodeSecretGroupMessage } from "../src/message.js";
import { decodeDocument } from "../src/documents/index.js";
import { readGroupRecord } from "../src/engine/store/groups.js";
import { ingestAll, keySet, openNode, openStore } from "./engine-helpers.js";

const text = (b: Uint8Array | Error | undefined): string => {
  if (!(b instanceof Uint8Array)) throw b ?? new Error("missing");
  return new TextDecoder().decode(b);
};

async function readRecord(path: string, self: Identity, gid: Uint8Array) {
  const store = await openStore(path, self);
  try {
    const record = await readGroupRecord(store, toHex(gid));
    assert.ok(record !== undefined);
    return record;
  } finally {
    await store.close();
  }
}

function nonceOf(message: Uint8Array): string {
  const m = decodeSecretGroupMessage(message);
  assert.equal(m.type, "long-term");
  return m.type === "long-term" ? toHex(m.ciphertext.nonce) : "";
}

test("closing and reopening mid-stream loses nothing and never reuses a nonce counter", async () => {
  const owner = await openNode({ nonceBlock: 4 });
  const alice = await openNode();
  let ownerEngine = owner.engine;
  let aliceEngine = alice.engine;
  try {
    const kp = (await aliceEngine.publishKeyPackage()).documents;
    const created = await ownerEngine.createGroup({ ciphersuite: "PANDA10_CHACHA20POLY1305" });
    const gid = created.groupId as Uint8Array;
    const c1 = await ownerEngine.addMembers(gid, kp);
    const c2 = await ownerEngine.updateGroup(gid);
    const nonces = new Set<string>();
    const messages: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await ownerEngine.encrypt(gid, utf8(`m${i}`), { scheme: "long-term" });
      nonces.add(nonceOf(m));
      messages.push(m);
    }
    await ownerEngine.close();
    const before = await readRecord(owner.path, owner.identity, gid);
    assert.ok(before.nonceReserved >= 3n, "the used counters were reserved before use");

    ownerEngine = await owner.reopen();
    const c3 = await ownerEngine.rotate(gid);
    const m3 = await ownerEngine.encrypt(gid, utf8("after restart"), { scheme: "long-term" });
    assert.ok(!nonces.has(nonceOf(m3)));
    messages.push(m3);
    await ownerEngine.close();
    const after = await readRecord(owner.path, owner.identity, gid);
    // restarted at the reserved end, used the next counter, reserved one more block
    assert.equal(after.nonceReserved, before.nonceReserved + 1n + 4n);
    ownerEngine = await owner.reopen();

    // alice gets half the stream, restarts, gets the rest
    await ingestAll(aliceEngine, [...created.documents, ...c1.documents]);
    assert.equal(await aliceEngine.status(gid), "member");
    await aliceEngine.close();
    aliceEngine = await alice.reopen();
    assert.equal(await aliceEngine.status(gid), "member");
    const pendingNow = await aliceEngine.decrypt([m3]);
    assert.equal((pendingNow[0] as Error & { code: string }).code, "PENDING");
    await ingestAll(aliceEngine, [...c3.documents, ...c2.documents]);
    const read = await aliceEngine.decrypt(messages);
    assert.deepEqual(read.map(text), ["m0", "m1", "m2", "after restart"]);
    assert.deepEqual(keySet(await aliceEngine.members(gid)), keySet(await ownerEngine.members(gid)));
    // both still talk after the restarts
    const back = await aliceEngine.encrypt(gid, utf8("hello owner"), { scheme: "sender-ratchet" });
    assert.equal(text((await ownerEngine.decrypt([back]))[0]), "hello owner");
  } finally {
    await ownerEngine.close();
    await aliceEngine.close();
    await owner.cleanup();
    await alice.cleanup();
  }
});

test("pending commits apply once their predecessor arrives", async () => {
  const owner = await openNode();
  const alice = await openNode();
  try {
    const kp = (await alice.engine.publishKeyPackage()).documents;
    const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES128GCM" });
    const gid = created.groupId as Uint8Array;
    const c1 = await owner.engine.addMembers(gid, kp);
    const c2 = await owner.engine.updateGroup(gid);
    const c3 = await owner.engine.rotate(gid);
    const m = await owner.engine.encrypt(gid, utf8("epoch 3"), { scheme: "sender-ratchet" });

    // commits first, group document last: everything waits
    assert.deepEqual(await ingestAll(alice.engine, [...c3.documents, ...c2.documents]), ["pending", "pending"]);
    await assert.rejects(alice.engine.status(gid), { code: "UNKNOWN_GROUP" });
    assert.deepEqual(await ingestAll(alice.engine, created.documents), ["applied"]);
    assert.equal(await alice.engine.status(gid), "awaiting-welcome");
    assert.equal(((await alice.engine.decrypt([m]))[0] as Error & { code: string }).code, "PENDING");
    // the welcome closes the gap: join, then c2 and c3 from the pending store
    assert.deepEqual(await ingestAll(alice.engine, c1.documents), ["applied"]);
    assert.equal(await alice.engine.status(gid), "member");
    assert.equal(text((await alice.engine.decrypt([m]))[0]), "epoch 3");
    // a duplicate is a no-op
    assert.deepEqual(await ingestAll(alice.engine, [...c2.documents, ...created.documents]), ["duplicate", "duplicate"]);
    // the join consumed the key package: its deletion document waits in the outbox after the
    // key package itself, until acknowledged
    const outbox = (await alice.engine.outbox()).map((d) => decodeDocument(d));
    assert.deepEqual(outbox.map((d) => d.schema), ["key_package_v1", "key_package_deletion_v1"]);
    assert.equal(await alice.engine.acknowledge(outbox.map((d) => d.id)), 2);
    assert.deepEqual(await alice.engine.outbox(), []);
  } finally {
    await owner.engine.close();
    await alice.engine.close();
    await owner.cleanup();
    await alice.cleanup();
  }
});

test("a removed member stops at the removal and the rest continue", async () => {
  const owner = await openNode();
  const alice = await openNode();
  const bob = await openNode();
  try {
    const kps = [...(await alice.engine.publishKeyPackage()).documents, ...(await bob.engine.publishKeyPackage()).documents];
    const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const gid = created.groupId as Uint8Array;
    const c1 = await owner.engine.addMembers(gid, kps);
    const c2 = await owner.engine.removeMembers(gid, [toHex(bob.identity.publicKey)]);
    const secret = await owner.engine.encrypt(gid, utf8("after bob left"), { scheme: "long-term" });
    const docs = [...created.documents, ...kps, ...c1.documents, ...c2.documents];
    await ingestAll(alice.engine, docs);
    await ingestAll(bob.engine, docs);
    assert.equal(await alice.engine.status(gid), "member");
    assert.equal(await bob.engine.status(gid), "removed");
    assert.deepEqual(keySet(await alice.engine.members(gid)), keySet([owner.identity.publicKey, alice.identity.publicKey]));
    assert.equal(text((await alice.engine.decrypt([secret]))[0]), "after bob left");
    const atBob = (await bob.engine.decrypt([secret]))[0];
    assert.ok(atBob instanceof Error);
    await assert.rejects(bob.engine.encrypt(gid, utf8("x"), { scheme: "long-term" }), { code: "NOT_MEMBER" });
  } finally {
    for (const n of [owner, alice, bob]) {
      await n.engine.close();
      await n.cleanup();
    }
  }
});
