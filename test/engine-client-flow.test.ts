/**
 * The spec's client flow ("I'm starting a p2panda client", seven steps) end to end through the
 * engine: a node that published a key package earlier restarts, downloads operations, finds
 * encrypted field values and their group, finds the commit that welcomes it, joins and decrypts.
 * Also: field ciphertexts are bound to author, schema, field and updated document.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { equalBytes, utf8 } from "../src/bytes.js";
import { decodeDocument, signDocument } from "../src/documents/document.js";
import { encryptedFields } from "../src/documents/fields.js";
import { ErrorCode } from "../src/errors.js";
import { ingestAll, openNode, shuffle } from "./engine-helpers.js";

test("client flow: restart, find encrypted fields, their group and welcome, join, decrypt", async () => {
  const alice = await openNode();
  const bob = await openNode();
  try {
    // before: bob announced himself with a key package, then went offline
    const { documents: keyPackageDocs } = await bob.engine.publishKeyPackage();
    await bob.engine.close();

    const { groupId, documents: groupDocs } = await alice.engine.createGroup({ ciphersuite: "PANDA10_CHACHA20POLY1305" });
    const gid = groupId as Uint8Array;
    const before = await alice.engine.encryptFields(gid, { body: "written before bob joined", likes: 3 }, { scheme: "long-term", schema: "chat_message_v1" });
    const early = signDocument(alice.identity, "chat_message_v1", before);
    const { documents: addDocs } = await alice.engine.addMembers(gid, keyPackageDocs);
    const after = await alice.engine.encryptFields(gid, { body: "after", secret: utf8("raw bytes") }, { scheme: "sender-ratchet", schema: "chat_message_v1" });
    const late = signDocument(alice.identity, "chat_message_v1", after);
    const updateFields = await alice.engine.encryptFields(gid, { body: "edited" }, { scheme: "long-term", schema: "chat_message_v1", documentId: early.id });
    const update = signDocument(alice.identity, "chat_message_v1", updateFields, { documentId: early.id });
    const { documents: rotateDocs } = await alice.engine.rotate(gid);

    // 1. bob starts his client again
    const engine = await bob.reopen();
    try {
      // 2.-3. he downloads the operations he is interested in and sees encrypted values
      const operations = [early.bytes, late.bytes, update.bytes];
      const found = operations.flatMap((bytes) => encryptedFields(decodeDocument(bytes).fields));
      assert.deepEqual(found.map((f) => [f.name, f.scheme]), [
        ["body", "long-term"],
        ["likes", "long-term"],
        ["body", "sender-ratchet"],
        ["secret", "sender-ratchet"],
        ["body", "long-term"],
      ]);
      // 4. they all belong to one secret group
      assert.ok(found.every((f) => equalBytes(f.groupId, gid)));
      const unread = await engine.decryptFields(early.bytes);
      assert.equal((unread.errors["body"] as { code?: string }).code, ErrorCode.Pending, "nothing is readable before the group is known");
      assert.equal(await engine.welcomeFor(bob.identity.publicKey, gid), null);

      // 5. he downloads the group's documents: SecretGroup and every SecretGroupCommit, in any order
      const outcomes = await ingestAll(engine, shuffle([...groupDocs, ...addDocs, ...rotateDocs], 5));
      assert.ok(!outcomes.includes("refused"), outcomes.join(","));
      const welcome = await engine.welcomeFor(bob.identity.publicKey, gid);
      assert.ok(welcome !== null, "the add commit addresses bob");
      assert.ok(equalBytes(welcome.document, addDocs[0] as Uint8Array));
      // 6. the Welcome in that commit made him a member
      assert.equal(await engine.status(gid), "member");
      assert.equal((await engine.history(gid)).length, 2);

      // 7. he decrypts the field values; long-term data from before he joined included
      const a = await engine.decryptFields(early.bytes);
      assert.deepEqual({ ...a.errors }, {});
      assert.deepEqual({ ...a.fields }, { body: "written before bob joined", likes: 3 });
      const b = await engine.decryptFields(late.bytes);
      assert.deepEqual({ ...b.errors }, {});
      assert.equal(b.fields["body"], "after");
      assert.ok(equalBytes(b.fields["secret"] as Uint8Array, utf8("raw bytes")));
      assert.equal((await engine.decryptFields(update.bytes)).fields["body"], "edited");
      // the author reads her own sender-ratchet fields from what she kept
      assert.equal((await alice.engine.decryptFields(late.bytes)).fields["body"], "after");

      // bob's outbox: his key package (not acknowledged as published here), then, after the
      // join spent it, its deletion, in creation order
      const outbox = (await engine.outbox()).map((d) => decodeDocument(d));
      assert.deepEqual(outbox.map((d) => d.schema), ["key_package_v1", "key_package_deletion_v1"]);
    } finally {
      await engine.close();
    }
  } finally {
    await alice.engine.close();
    await Promise.all([alice.cleanup(), bob.cleanup()]);
  }
});

test("field ciphertexts are bound to author, schema, field name and updated document", async () => {
  const alice = await openNode();
  const mallory = await openNode();
  try {
    const { groupId } = await alice.engine.createGroup({ ciphersuite: "PANDA10_AES128GCM" });
    const gid = groupId as Uint8Array;
    const fields = await alice.engine.encryptFields(gid, { title: "t", body: "b" }, { scheme: "long-term", schema: "note_v1" });
    const original = signDocument(alice.identity, "note_v1", fields);
    assert.deepEqual({ ...(await alice.engine.decryptFields(original)).fields }, { title: "t", body: "b" });
    const failed = async (doc: ReturnType<typeof signDocument>, field: string) =>
      ((await alice.engine.decryptFields(doc)).errors[field] as { code?: string } | undefined)?.code;
    // another author re-signs the same ciphertext
    assert.equal(await failed(signDocument(mallory.identity, "note_v1", fields), "body"), ErrorCode.DecryptionFailed);
    // another schema
    assert.equal(await failed(signDocument(alice.identity, "other_v1", fields), "body"), ErrorCode.DecryptionFailed);
    // swapped fields
    assert.equal(await failed(signDocument(alice.identity, "note_v1", { title: fields["body"] as Uint8Array, body: fields["title"] as Uint8Array }), "title"), ErrorCode.DecryptionFailed);
    // a create's ciphertext replayed as an update of some document
    assert.equal(await failed(signDocument(alice.identity, "note_v1", fields, { documentId: original.id }), "body"), ErrorCode.DecryptionFailed);
    // the untouched original still reads
    assert.equal((await alice.engine.decryptFields(original.bytes)).fields["body"], "b");
  } finally {
    await Promise.all([alice.engine.close(), mallory.engine.close()]);
    await Promise.all([alice.cleanup(), mallory.cleanup()]);
  }
});
