/**
 * Hostile and broken input gets a typed error and never corrupts stored state; worker faults
 * reach the caller as typed errors; unknown storage versions are refused.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex, utf8 } from "../src/bytes.js";
import { SecretGroupError } from "../src/errors.js";
import { readSecretGroupCommit, secretGroupCommitDocument, decodeDocument } from "../src/documents/index.js";
import { createPool, runTask } from "../src/engine/pool.js";
import { EngineStore } from "../src/engine/store/store.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { IngestRefusedError } from "../src/engine/ingest.js";
import { ingestAll, keySet, openNode, openStore } from "./engine-helpers.js";

const text = (b: Uint8Array | Error | undefined): string => {
  if (!(b instanceof Uint8Array)) throw b ?? new Error("missing");
  return new TextDecoder().decode(b);
};

test("a fault inside a worker reaches the caller as its typed error", async () => {
  const pool = createPool({ threads: 1 });
  try {
    await assert.rejects(runTask(pool, { op: "fail", error: { code: "REPLAY", message: "seen before" } }, "g"), (e: unknown) => {
      assert.ok(e instanceof SecretGroupError);
      assert.equal(e.code, "REPLAY");
      assert.equal(e.source, "validation");
      assert.equal(e.message, "seen before");
      return true;
    });
    await assert.rejects(runTask(pool, { op: "fail", error: { code: "STORAGE_VERSION", message: "v9" } }), { code: "STORAGE_VERSION", name: "StorageError" });
    // a worker that dies (here: cannot even load) is an internal WORKER_FAILED, not a hang
    await assert.rejects(runTask(pool, { op: "drop", key: "x" }, undefined, "no-such-worker"), { code: "WORKER_FAILED", name: "InternalError" });
  } finally {
    await pool.destroy();
  }
});

test("forged, misdirected, truncated and broken documents are refused; the group state survives", async () => {
  const owner = await openNode();
  const alice = await openNode();
  const mallory = await openNode();
  let aliceEngine = alice.engine;
  try {
    const kp = (await aliceEngine.publishKeyPackage()).documents;
    const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const gid = created.groupId as Uint8Array;
    const other = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const c1 = await owner.engine.addMembers(gid, kp);
    const c2 = await owner.engine.updateGroup(gid);
    const o1 = await owner.engine.updateGroup(other.groupId as Uint8Array);
    const m = await owner.engine.encrypt(gid, utf8("epoch 2"), { scheme: "sender-ratchet" });
    await ingestAll(aliceEngine, [...created.documents, ...other.documents, ...c1.documents]);
    assert.equal(await aliceEngine.status(gid), "member");

    const real = readSecretGroupCommit(decodeDocument(c2.documents[0] as Uint8Array));
    const realOther = readSecretGroupCommit(decodeDocument(o1.documents[0] as Uint8Array));
    // the right bytes, signed by someone else than the owner
    const forged = secretGroupCommitDocument(mallory.identity, { secretGroup: gid, previousCommit: real.previousCommit as Uint8Array, commit: real.commit }).bytes;
    // owner-signed, naming our group, carrying the other group's MLS commit
    const misdirected = secretGroupCommitDocument(owner.identity, { secretGroup: gid, previousCommit: real.previousCommit as Uint8Array, commit: realOther.commit }).bytes;
    // owner-signed, right commit, someone else's secret list: the worker refuses it
    const c1parts = readSecretGroupCommit(decodeDocument(c1.documents[0] as Uint8Array));
    const mixed = secretGroupCommitDocument(owner.identity, {
      secretGroup: gid,
      previousCommit: real.previousCommit as Uint8Array,
      commit: { mlsCommit: real.commit.mlsCommit, encryptedSecrets: c1parts.commit.encryptedSecrets },
    }).bytes;
    const truncated = (c2.documents[0] as Uint8Array).subarray(0, 40);

    const cases: Array<[string, Uint8Array, string[]]> = [
      ["forged", forged, ["FORGED_SENDER"]],
      ["misdirected", misdirected, ["WRONG_GROUP"]],
      ["truncated", truncated, ["DECODE_ERROR", "INVALID_DOCUMENT"]],
      ["mixed", mixed, ["INVALID_COMMIT", "DECRYPTION_FAILED", "MLS_FAILURE", "FORGED_SENDER", "REPLAY", "UNKNOWN_EPOCH"]],
    ];
    for (const [name, doc, codes] of cases) {
      await assert.rejects(aliceEngine.ingest([doc]), (e: unknown) => {
        assert.ok(e instanceof IngestRefusedError, `${name}: ${String(e)}`);
        assert.ok(codes.includes(e.code), `${name}: got ${e.code}`);
        assert.deepEqual(e.report.outcomes, ["refused"]);
        return true;
      });
    }
    // one bad document among good ones: the good ones are kept, then the call rejects
    await assert.rejects(aliceEngine.ingest([forged, ...c2.documents]), (e: unknown) => {
      assert.ok(e instanceof IngestRefusedError);
      assert.deepEqual(e.report.outcomes, ["refused", "applied"]);
      return true;
    });
    assert.equal(text((await aliceEngine.decrypt([m]))[0]), "epoch 2");
    // bad arguments reject; bad messages come back as errors in place
    await assert.rejects(aliceEngine.decrypt([42 as unknown as Uint8Array]), { code: "INVALID_ARGUMENT" });
    await assert.rejects(aliceEngine.status("zz"), { code: "INVALID_ARGUMENT" });
    const [junk] = await aliceEngine.decrypt([new Uint8Array([2, 1, 2, 3])]);
    assert.ok(junk instanceof SecretGroupError);
    assert.equal(junk.code, "DECODE_ERROR");

    // nothing of the above reached the store: reopen and continue
    await aliceEngine.close();
    aliceEngine = await alice.reopen();
    assert.equal(await aliceEngine.status(gid), "member");
    assert.deepEqual(keySet(await aliceEngine.members(gid)), keySet([owner.identity.publicKey, alice.identity.publicKey]));
    const c3 = await owner.engine.rotate(gid);
    const m3 = await owner.engine.encrypt(gid, utf8("epoch 3"), { scheme: "long-term" });
    assert.deepEqual(await ingestAll(aliceEngine, c3.documents), ["applied"]);
    assert.equal(text((await aliceEngine.decrypt([m3]))[0]), "epoch 3");
    // only the owner commits
    await assert.rejects(aliceEngine.updateGroup(gid), { code: "NOT_OWNER" });
  } finally {
    await owner.engine.close();
    await aliceEngine.close();
    await mallory.engine.close();
    for (const n of [owner, alice, mallory]) await n.cleanup();
  }
});

test("a stored value of an unknown format version is refused with STORAGE_VERSION", async () => {
  const node = await openNode();
  const created = await node.engine.createGroup({ ciphersuite: "PANDA10_AES128GCM" });
  const gid = toHex(created.groupId as Uint8Array);
  await node.engine.close();
  const store = await openStore(node.path, node.identity);
  await store.putRaw(Sublevel.Groups, gid, new Uint8Array([99, 0, 0]));
  await assert.rejects(store.get(Sublevel.Groups, gid, "group record"), { code: "STORAGE_VERSION", name: "StorageError" });
  await store.close();
  await assert.rejects(EngineStore.open(node.path, new Uint8Array(32).fill(1), new Uint8Array(32)), { code: "STORAGE_ERROR" });
  const engine = await node.reopen();
  try {
    await assert.rejects(engine.status(gid), { code: "STORAGE_VERSION" });
  } finally {
    await engine.close();
    await node.cleanup();
  }
});

test("200 small groups with 16 live actors and a small worker cache", async () => {
  const node = await openNode({ liveActors: 16, workerCacheSize: 4, threads: 2 });
  try {
    const ids: Uint8Array[] = [];
    for (let i = 0; i < 200; i++) ids.push((await node.engine.createGroup({ ciphersuite: "PANDA10_AES128GCM" })).groupId as Uint8Array);
    assert.ok(node.engine.liveGroups <= 16, `live ${node.engine.liveGroups}`);
    const messages = await Promise.all(ids.map((gid, i) => node.engine.encrypt(gid, utf8(`group ${i}`), { scheme: "long-term" })));
    assert.ok(node.engine.liveGroups <= 16, `live ${node.engine.liveGroups}`);
    const read = await node.engine.decrypt(messages);
    assert.deepEqual(read.map(text), ids.map((_, i) => `group ${i}`));
    // states reloaded from their stored parts still commit
    await node.engine.updateGroup(ids[0] as Uint8Array);
    assert.equal(await node.engine.status(ids[0] as Uint8Array), "member");
  } finally {
    await node.engine.close();
    await node.cleanup();
  }
});

test("a group's tasks always go to the same worker, and groups spread over the workers", async () => {
  const pool = createPool({ threads: 2 });
  try {
    // until both workers are up, tasks go unpinned: wait for both first
    const up = new Set<number>();
    for (let i = 0; i < 200 && up.size < 2; i++) {
      const batch = await Promise.all([0, 1, 2, 3].map(() => runTask<{ threadId: number }>(pool, { op: "ping" })));
      for (const b of batch) up.add(b.threadId);
    }
    assert.equal(up.size, 2);
    const seen = new Map<string, Set<number>>();
    await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const key = `group-${i % 24}`;
        const { threadId } = await runTask<{ threadId: number }>(pool, { op: "ping" }, key);
        seen.set(key, (seen.get(key) ?? new Set()).add(threadId));
      }),
    );
    for (const [key, threads] of seen) assert.equal(threads.size, 1, `${key} ran on ${[...threads]}`);
    assert.equal(new Set([...seen.values()].map((s) => [...s][0])).size, 2, "both workers got groups");
  } finally {
    await pool.destroy();
  }
});
