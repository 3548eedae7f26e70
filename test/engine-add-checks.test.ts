/**
 * An owner engine's add starts the worker's commit while the key package documents' signatures
 * are still being checked (src/engine/keyPackages.ts readKeyPackageDocuments, the commit step's
 * afterChecks), and the worker checks each package's credential against its document's author.
 * A batch with a forged signature is refused after the worker's commit, which is dropped: the
 * database is unchanged, the worker's next task misses its cache (the dropped state's token is
 * not the record's) and the group's next add commits from the stored state. The error is the
 * first bad document's in order, as when every check ran before the commit. The documents'
 * signatures are checked only once the commit step has posted the worker's task (`verify`), and
 * their ids are not hashed (`decodeDocumentDeferredUnhashed`).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SecretGroupError, ErrorCode } from "../src/errors.js";
import { keyPackageDocument } from "../src/documents/index.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { readKeyPackageDocuments } from "../src/engine/keyPackages.js";
import { decodeDocumentDeferredUnhashed } from "../src/documents/document.js";
import { diffDb, liveDump } from "./adversarial-support.js";
import { openNode } from "./engine-helpers.js";

async function keyPackageDocs(count: number): Promise<Uint8Array[]> {
  const docs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const member = generateIdentity();
    docs.push(keyPackageDocument(member, { keyPackage: (await createKeyPackage(member)).keyPackage }).bytes);
  }
  return docs;
}

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return "accepted";
  } catch (e) {
    assert.ok(e instanceof SecretGroupError, String(e));
    return e.code;
  }
}

const settled = (p: Promise<void>): Promise<string> => p.then(() => "resolved", () => "rejected");
const pending = (ms: number): Promise<string> => new Promise((r) => setTimeout(() => r("pending"), ms));

test("readKeyPackageDocuments checks no signature before verify is called (the commit step calls it once the worker has its task)", async () => {
  const docs = await keyPackageDocs(3);
  const forged = Uint8Array.from(docs[1]!);
  forged[forged.length - 1]! ^= 1;
  const read = readKeyPackageDocuments([docs[0]!, forged, docs[2]!]);
  assert.ok(read !== undefined);
  assert.equal(read.keyPackages.length, 3);
  // a small document's check runs on this thread at once when started: started here, it would have settled
  assert.equal(await Promise.race([settled(read.verified), pending(100)]), "pending", "the checks ran before verify");
  await assert.rejects(read.verify(), { code: ErrorCode.InvalidSignature });
  await assert.rejects(read.verify(), { code: ErrorCode.InvalidSignature }); // the same checks, not started twice
  const good = readKeyPackageDocuments(docs)!;
  await good.verify();
});

test("decodeDocumentDeferredUnhashed: no id, the same checks as decodeDocumentDeferred", async () => {
  const [doc] = await keyPackageDocs(1);
  const read = decodeDocumentDeferredUnhashed(doc!);
  assert.equal("id" in read.doc, false, "the id was hashed");
  assert.equal(read.doc.schema, "key_package_v1");
  await read.verified;
  const forged = Uint8Array.from(doc!);
  forged[forged.length - 1]! ^= 1;
  await assert.rejects(decodeDocumentDeferredUnhashed(forged).verified, { code: ErrorCode.InvalidSignature });
  assert.throws(() => decodeDocumentDeferredUnhashed(doc!.subarray(0, doc!.length - 1)), { code: ErrorCode.Decode });
});

test("engine addMembers: a forged key package document refuses the add the worker already made, and nothing of it is kept", async () => {
  const owner = await openNode();
  const bob = await openNode();
  try {
    const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES128GCM" });
    const gid = created.groupId as Uint8Array;
    const docs = await keyPackageDocs(6);
    const forged = Uint8Array.from(docs[4]!);
    forged[forged.length - 1]! ^= 1; // the signature is the envelope's last field
    // the premise: a forged signature passes the synchronous read, so the worker runs first
    assert.notEqual(readKeyPackageDocuments([forged]), undefined);
    const stranger = generateIdentity();
    const misowned = keyPackageDocument(stranger, { keyPackage: (await createKeyPackage(generateIdentity())).keyPackage }).bytes;

    const before = await liveDump(owner.engine);
    const tasks = owner.engine.stats().stateTasks;
    const misses = owner.engine.stats().workerMisses;
    assert.equal(await codeOf(() => owner.engine.addMembers(gid, docs.map((d, i) => (i === 4 ? forged : d)))), ErrorCode.InvalidSignature);
    assert.equal(owner.engine.stats().stateTasks, tasks + 1, "the worker made the commit before the check failed");
    assert.deepEqual(diffDb(before, await liveDump(owner.engine)), [], "the refused add changed the database");

    // the next add starts from the stored state, not from the dropped commit's
    const bobKp = (await bob.engine.publishKeyPackage()).documents;
    const added = await owner.engine.addMembers(gid, [...docs.slice(0, 4), ...bobKp]);
    assert.equal(owner.engine.stats().workerMisses, misses + 1, "the worker's cached state was the dropped commit's");
    await bob.engine.ingest([...created.documents, ...bobKp, ...added.documents]);
    assert.equal(await bob.engine.status(gid), "member");
    assert.equal((await owner.engine.members(gid)).length, 6);

    // the misowned package comes first: its error, though a later signature fails too
    const more = await keyPackageDocs(3);
    const after = await liveDump(owner.engine);
    assert.equal(await codeOf(() => owner.engine.addMembers(gid, [more[0]!, misowned, more[1]!, forged])), ErrorCode.InvalidKeyPackage);
    // the worker's own check of credential against author (every signature good)
    assert.equal(await codeOf(() => owner.engine.addMembers(gid, [...more, misowned])), ErrorCode.InvalidKeyPackage);
    assert.deepEqual(diffDb(after, await liveDump(owner.engine)), [], "a refused add changed the database");
    assert.equal((await owner.engine.addMembers(gid, more)).documents.length, 1);
  } finally {
    await owner.engine.close();
    await bob.engine.close();
    await owner.cleanup();
    await bob.cleanup();
  }
});
