/**
 * Ingest checks document signatures on libuv's thread pool while it routes the documents
 * (src/documents `decodeDocumentDeferred`): a document with a bad signature, of every kind a
 * node routes (group, commit, key package, key package deletion, operation in the clear,
 * operation for a group), mixed into one call with good ones, is refused with INVALID_SIGNATURE
 * and nothing of it is kept or acted on: sent again with its real signature it is applied, not
 * a duplicate. A forged document with a broken rule too is still reported as forged.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex, utf8 } from "../src/bytes.js";
import { SYNC_VERIFY_MAX_BYTES } from "../src/constants.js";
import { decodeCanonical, encodeCanonical } from "../src/documents/cbor.js";
import { decodeDocument, decodeDocumentDeferred, signDocument } from "../src/documents/document.js";
import { keyPackageDeletionDocument, keyPackageDocument } from "../src/documents/index.js";
import type { EngineContext } from "../src/engine/context.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import { commitOp } from "../src/engine/drain.js";
import { IngestRefusedError } from "../src/engine/ingest.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { groupAddingMember, ingestAll, withNodes } from "./engine-helpers.js";

/** The same document with one bit of its signature flipped. */
function flipped(bytes: Uint8Array): Uint8Array {
  const envelope = decodeCanonical(bytes) as { payload: Uint8Array; signature: Uint8Array };
  return encodeCanonical({ payload: envelope.payload, signature: Uint8Array.from(envelope.signature, (x, i) => (i === 5 ? x ^ 1 : x)) });
}

const storeOf = (engine: SecretGroupEngine): EngineContext["store"] => (engine as unknown as { ctx: EngineContext }).ctx.store;

test("documents with a bad signature, of every kind, are refused among good ones and nothing of them is kept", async () => {
  await withNodes([{}, {}, {}], async ([owner, member, reader]) => {
    const { gid, created, added } = await groupAddingMember(owner.engine, member.engine);
    // a second group whose documents go in good, beside the forged ones
    const other = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const stranger = generateIdentity();
    const strangerKp = keyPackageDocument(stranger, { keyPackage: (await createKeyPackage(stranger)).keyPackage }).bytes;
    const deletion = keyPackageDeletionDocument(stranger, { keyPackage: decodeDocument(strangerKp).id }).bytes;
    const plain = signDocument(stranger, "chat_v1", { body: "in the clear" }).bytes;
    const genuine = [created[0]!, added[0]!, strangerKp, deletion, plain];
    const forged = genuine.map(flipped);
    const docs = [forged[0]!, other.documents[0]!, forged[1]!, forged[2]!, forged[3]!, forged[4]!];
    await assert.rejects(reader.engine.ingest(docs), (e: unknown) => {
      assert.ok(e instanceof IngestRefusedError, String(e));
      assert.deepEqual(e.report.outcomes, ["refused", "applied", "refused", "refused", "refused", "refused"]);
      assert.equal(e.refused.length, 5);
      for (const r of e.refused) assert.equal(r.error.code, "INVALID_SIGNATURE", `document ${r.index}: ${r.error.message}`);
      return true;
    });
    const store = storeOf(reader.engine);
    for (const doc of forged) assert.equal(await store.has(Sublevel.Docs, toHex(decodeDocumentDeferred(doc).doc.id)), false);
    await assert.rejects(reader.engine.status(gid), /unknown group/, "the forged group document made no group");
    assert.deepEqual(await reader.engine.history(gid), [], "the forged commit was not indexed");
    // the genuine documents (same payloads) are new to the node (a commit not for it: "pending", indexed)
    assert.deepEqual(await ingestAll(reader.engine, genuine), ["applied", "pending", "applied", "applied", "applied"]);
    assert.equal((await reader.engine.history(gid)).length, 1);
    // an operation for a group, forged: refused before its group's actor reads it
    const op = await owner.engine.encrypt(gid, utf8("for the group"), { scheme: "long-term" });
    const opDoc = signDocument(owner.identity, "chat_v1", { body: op }).bytes;
    await assert.rejects(member.engine.ingest([...created, ...added, flipped(opDoc)]), (e: unknown) => {
      assert.ok(e instanceof IngestRefusedError, String(e));
      assert.deepEqual(e.report.outcomes, ["applied", "applied", "refused"]);
      assert.equal(e.code, "INVALID_SIGNATURE");
      return true;
    });
    assert.deepEqual(await ingestAll(member.engine, [opDoc]), ["applied"]);
    // repeats within one call: a forged repeat is refused as forged, a genuine one is a duplicate
    const fresh = signDocument(stranger, "chat_v1", { body: "once" }).bytes;
    const later = signDocument(stranger, "chat_v1", { body: "twice" }).bytes;
    await assert.rejects(reader.engine.ingest([flipped(fresh), flipped(fresh), fresh, fresh, later, flipped(later)]), (e: unknown) => {
      assert.ok(e instanceof IngestRefusedError, String(e));
      assert.deepEqual(e.report.outcomes, ["refused", "refused", "applied", "duplicate", "applied", "refused"]);
      for (const r of e.refused) assert.equal(r.error.code, "INVALID_SIGNATURE", `document ${r.index}: ${r.error.message}`);
      return true;
    });
  });
});

test("a forged document that also breaks a field rule is reported as forged, and a good one's check resolves", async () => {
  const alice = generateIdentity();
  const good = signDocument(alice, "chat_v1", { body: "hello" }).bytes;
  const { doc, verified } = decodeDocumentDeferred(good);
  await verified;
  assert.equal(toHex(doc.id), toHex(decodeDocument(good).id));
  await assert.rejects(decodeDocumentDeferred(flipped(good)).verified, { code: "INVALID_SIGNATURE" });
  // a key package document whose fields break its schema's rules, signed, then forged
  const payload = encodeCanonical({ v: 1, author: alice.publicKey, fields: { key_package: 7 }, schema: "key_package_v1", timestamp: 1 });
  const broken = encodeCanonical({ payload, signature: new Uint8Array(64).fill(1) });
  assert.throws(() => decodeDocumentDeferred(broken), { code: "INVALID_SIGNATURE" });
  assert.throws(() => decodeDocument(broken), { code: "INVALID_SIGNATURE" });
});

test("a check given an `after` is dispatched only once it settles (ingest dispatches after its jobs are queued)", async () => {
  const alice = generateIdentity();
  const good = signDocument(alice, "chat_v1", { body: "gated" }).bytes;
  let release = (): void => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const forged = decodeDocumentDeferred(flipped(good), gate).verified;
  const genuine = decodeDocumentDeferred(good, gate).verified;
  const settled = (p: Promise<void>): Promise<string> => p.then(() => "resolved", () => "rejected");
  const wait = (ms: number): Promise<string> => new Promise((r) => setTimeout(() => r("pending"), ms));
  // far longer than a check takes: a check started at once would have settled
  assert.equal(await Promise.race([settled(forged), settled(genuine), wait(100)]), "pending");
  release();
  await assert.rejects(forged, { code: "INVALID_SIGNATURE" });
  await genuine;
});

test("a small document's check runs on this thread (settled before any thread-pool callback could run), a large one's on the pool; both refuse a forged copy", async () => {
  const alice = generateIdentity();
  const small = signDocument(alice, "chat_v1", { body: "small" }).bytes;
  const large = signDocument(alice, "chat_v1", { body: "x".repeat(2 * SYNC_VERIFY_MAX_BYTES) }).bytes;
  const stateAfterMicrotasks = async (p: Promise<void>): Promise<string> => {
    let state = "pending";
    p.then(
      () => (state = "resolved"),
      () => (state = "rejected"),
    );
    // microtasks only: a libuv callback (a pool check's answer) needs a turn of the event loop
    for (let i = 0; i < 10; i++) await Promise.resolve();
    return state;
  };
  assert.equal(await stateAfterMicrotasks(decodeDocumentDeferred(small).verified), "resolved");
  assert.equal(await stateAfterMicrotasks(decodeDocumentDeferred(flipped(small)).verified), "rejected");
  assert.equal(await stateAfterMicrotasks(decodeDocumentDeferred(large).verified), "pending", "a large document's check went to the pool");
  await decodeDocumentDeferred(large).verified;
  await assert.rejects(decodeDocumentDeferred(flipped(large)).verified, { code: "INVALID_SIGNATURE" });
});

test("a forged copy of a member's next commit is refused though its worker run starts beside the check; the genuine one then applies", async () => {
  await withNodes([{}, {}], async ([owner, member]) => {
    const { gid, created, added } = await groupAddingMember(owner.engine, member.engine);
    assert.deepEqual(await ingestAll(member.engine, [...created, ...added]), ["applied", "applied"]);
    const update = (await owner.engine.updateGroup(gid)).documents[0]!;
    const before = member.engine.stats();
    const historyBefore = await member.engine.history(gid);
    await assert.rejects(member.engine.ingest([flipped(update)]), (e: unknown) => {
      assert.ok(e instanceof IngestRefusedError, String(e));
      assert.equal(e.code, "INVALID_SIGNATURE");
      return true;
    });
    // the worker ran the forged copy (its framing says "next") before the check refused it: nothing of it is kept
    assert.equal(member.engine.stats().stateTasks, before.stateTasks + 1, "the forged commit went to the worker beside its check");
    assert.equal(await storeOf(member.engine).has(Sublevel.Docs, toHex(decodeDocumentDeferred(flipped(update)).doc.id)), false);
    assert.deepEqual(await member.engine.history(gid), historyBefore, "the forged commit was neither applied nor indexed");
    // the genuine commit applies (its worker reloads: the forged run's state is under a token no record names)
    assert.deepEqual(await ingestAll(member.engine, [update]), ["applied"]);
    assert.ok(member.engine.stats().workerMisses > before.workerMisses, "the dropped run's state was not used");
    const message = await owner.engine.encrypt(gid, utf8("after the forgery"), { scheme: "sender-ratchet" });
    assert.deepEqual((await member.engine.decrypt([message])).map((b) => new TextDecoder().decode(b as Uint8Array)), ["after the forgery"]);
    assert.deepEqual(await ingestAll(member.engine, (await owner.engine.updateGroup(gid)).documents), ["applied"]);
  });
});

test("forged copies of a member's next commit cost at most one worker run, and a commit already stored gets none", async () => {
  await withNodes([{}, {}], async ([owner, member]) => {
    const { gid, created, added } = await groupAddingMember(owner.engine, member.engine);
    assert.deepEqual(await ingestAll(member.engine, [...created, ...added]), ["applied", "applied"]);
    const update = (await owner.engine.updateGroup(gid)).documents[0]!;
    // each copy with another bit of its signature flipped: another document id each time
    const copies = [1, 2, 3, 4].map((bit) => {
      const envelope = decodeCanonical(update) as { payload: Uint8Array; signature: Uint8Array };
      return encodeCanonical({ payload: envelope.payload, signature: Uint8Array.from(envelope.signature, (x, i) => (i === 9 ? x ^ bit : x)) });
    });
    assert.equal(new Set(copies.map((c) => toHex(decodeDocumentDeferred(c).doc.id))).size, copies.length);
    const before = member.engine.stats();
    for (const copy of copies) await assert.rejects(member.engine.ingest([copy]), { code: "INVALID_SIGNATURE" });
    assert.ok(member.engine.stats().stateTasks - before.stateTasks <= 1, "a group whose early run was dropped starts no more at that epoch");
    assert.deepEqual(await ingestAll(member.engine, [update]), ["applied"]);
    assert.ok(member.engine.stats().workerMisses - before.workerMisses <= 1, "one reload at most for all the forged copies");
    // the next commit already stored (as if refused before): a duplicate, without a worker run
    const next = (await owner.engine.updateGroup(gid)).documents[0]!;
    const cid = toHex(decodeDocument(next).id);
    await storeOf(member.engine).batch([commitOp(toHex(gid), cid, { epoch: 0n, status: "refused", welcome: false })]);
    const stored = member.engine.stats();
    assert.deepEqual(await ingestAll(member.engine, [next]), ["duplicate"]);
    assert.equal(member.engine.stats().stateTasks, stored.stateTasks, "a stored commit went to the worker");
  });
});
