/**
 * An owner engine's add hands the key package documents to the worker, which reads them and
 * starts their signature checks while it builds the commit (src/engine/worker/addDocuments.ts),
 * and checks each package's credential against its document's author. A batch with a forged
 * signature is refused after the worker built its commit, which never leaves the worker: the
 * database is unchanged, the worker's cached state is still the one the group record names (its
 * next task hits it) and the group's next add commits from it. The error is the first bad
 * document's in order, as when every check ran before the commit.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SecretGroupError, ErrorCode } from "../src/errors.js";
import { keyPackageDocument } from "../src/documents/index.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { readKeyPackageDocuments } from "../src/engine/worker/addDocuments.js";
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
    assert.equal(readKeyPackageDocuments([forged]).keyPackages.length, 1);
    const stranger = generateIdentity();
    const misowned = keyPackageDocument(stranger, { keyPackage: (await createKeyPackage(generateIdentity())).keyPackage }).bytes;

    const before = await liveDump(owner.engine);
    const tasks = owner.engine.stats().stateTasks;
    const misses = owner.engine.stats().workerMisses;
    assert.equal(await codeOf(() => owner.engine.addMembers(gid, docs.map((d, i) => (i === 4 ? forged : d)))), ErrorCode.InvalidSignature);
    assert.equal(owner.engine.stats().stateTasks, tasks, "the worker returned a state for the refused add");
    assert.deepEqual(diffDb(before, await liveDump(owner.engine)), [], "the refused add changed the database");

    // the next add starts from the stored state, which the worker still holds: the refused commit was never staged
    const bobKp = (await bob.engine.publishKeyPackage()).documents;
    const added = await owner.engine.addMembers(gid, [...docs.slice(0, 4), ...bobKp]);
    assert.equal(owner.engine.stats().workerMisses, misses, "the worker cached the refused commit's state");
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
