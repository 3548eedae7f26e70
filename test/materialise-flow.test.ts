/**
 * The spec's client flow ("I'm starting a p2panda client...") on the library and the index: a
 * fresh node indexes a shuffled stream, finds encrypted field values and their group, asks the
 * index which commit welcomes it, joins, follows the chain from there and decrypts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { toHex } from "../src/bytes.js";
import { decodeSecretGroupCommit, encodeSecretGroupCommit } from "../src/commit.js";
import { decodeDocument, signDocument } from "../src/documents/document.js";
import type { SignedDocument } from "../src/documents/document.js";
import { decryptFields, encryptFields, encryptedFields, fieldContextOf } from "../src/documents/fields.js";
import type { FieldContext } from "../src/documents/fields.js";
import { SchemaId } from "../src/documents/schema.js";
import { keyPackageDocument, readSecretGroupCommit, secretGroupCommitDocument, secretGroupDocument } from "../src/documents/system.js";
import { addMembers, createGroup, decrypt, encrypt, inspectCommit, joinGroup, processCommit, updateGroup } from "../src/group/index.js";
import type { CommitResult, GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { history, indexCommit, indexGroup, indexKeyPackage, welcomeFor } from "../src/materialise/index.js";
import { openTempIndex, shuffled } from "./materialise-support.js";

test("a fresh client finds, joins and decrypts through the index (spec client flow)", async () => {
  // --- the network: an owner, a group, carol and bob added, rotations, encrypted operations
  const owner = generateIdentity();
  const bob = generateIdentity();
  const carol = generateIdentity();
  const groupDoc = secretGroupDocument(owner, { ciphersuite: "PANDA10_CHACHA20POLY1305" }, { timestamp: 1 });
  let state: GroupState = await createGroup({ identity: owner, groupId: groupDoc.id, ciphersuite: "PANDA10_CHACHA20POLY1305" });
  const bobKp = await createKeyPackage(bob);
  const carolKp = await createKeyPackage(carol);
  const docs: SignedDocument[] = [groupDoc, keyPackageDocument(bob, { keyPackage: bobKp.keyPackage }), keyPackageDocument(carol, { keyPackage: carolKp.keyPackage })];
  let previous: Uint8Array | undefined;
  const commit = (r: CommitResult): void => {
    state = r.state;
    const doc = secretGroupCommitDocument(owner, { secretGroup: groupDoc.id, ...(previous === undefined ? {} : { previousCommit: previous }), commit: decodeSecretGroupCommit(r.commit) });
    previous = doc.id;
    docs.push(doc);
  };
  const encryptWith = (scheme: "long-term" | "sender-ratchet") => async (plaintext: Uint8Array, aad: Uint8Array) => {
    const out = await encrypt(state, plaintext, { scheme, aad });
    state = out.state;
    return out.message;
  };
  commit(await addMembers(state, [carolKp.keyPackage]));
  commit(await updateGroup(state, { rotate: true }));
  const post: FieldContext = { author: owner.publicKey, schema: "post_v1" };
  const early = signDocument(owner, "post_v1", await encryptFields(post, { title: "before bob", body: "long-term, epoch 1", n: 1 }, ["title", "body"], encryptWith("long-term")));
  docs.push(early);
  commit(await addMembers(state, [bobKp.keyPackage]));
  commit(await updateGroup(state, { rotate: true }));
  const edit: FieldContext = { ...post, documentId: early.id };
  const late = signDocument(owner, "post_v1", await encryptFields(edit, { body: "sender ratchet after the rotation" }, ["body"], encryptWith("sender-ratchet")), { documentId: early.id });
  docs.push(late);

  // --- 1. a fresh client (bob) and 2. the documents, in network order
  const idx = await openTempIndex();
  try {
    const store = new Map<string, SignedDocument>();
    for (const bytes of shuffled(docs, 5).map((d) => d.bytes)) {
      const doc = decodeDocument(bytes);
      store.set(toHex(doc.id), doc);
      if (doc.schema === SchemaId.SecretGroup) await idx.apply((await indexGroup(idx.reader, doc)).ops);
      else if (doc.schema === SchemaId.KeyPackage) await idx.apply(indexKeyPackage(doc));
      else if (doc.schema === SchemaId.SecretGroupCommit) {
        const facts = inspectCommit(encodeSecretGroupCommit(readSecretGroupCommit(doc).commit));
        await idx.apply((await indexCommit(idx.reader, doc, facts)).ops);
      }
    }
    // 3. detect encrypted values and 4. read their group
    const found = [early, late].flatMap((d) => encryptedFields(decodeDocument(d.bytes).fields));
    assert.deepEqual(found.map((f) => [f.name, f.scheme]), [["body", "long-term"], ["title", "long-term"], ["body", "sender-ratchet"]]);
    assert.ok(found.every((f) => toHex(f.groupId) === toHex(groupDoc.id)));
    // 5. which commit addresses me, and the commits from there on
    const welcome = await welcomeFor(idx.reader, bob.publicKey, groupDoc.id, (id) => store.get(toHex(id)));
    assert.ok(welcome !== null);
    const chain = await history(idx.reader, groupDoc.id);
    assert.deepEqual(chain.map((c) => c.kind), ["add", "update", "add", "update"]);
    const from = chain.findIndex((c) => toHex(c.commitId) === toHex(welcome.commitId));
    assert.equal(from, 2);
    // 6. join through that Welcome, then apply the later commits in chain order
    const commitBytes = (d: SignedDocument): Uint8Array => encodeSecretGroupCommit(readSecretGroupCommit(d).commit);
    let mine = await joinGroup({ identity: bob, secret: bobKp.secret, owner: groupDoc.author, commit: commitBytes(welcome.document) });
    for (const c of chain.slice(from + 1)) mine = await processCommit(mine, commitBytes(store.get(toHex(c.commitId)) as SignedDocument));
    // 7. decrypt the field values (a long-term value from before bob joined, too)
    const decryptOne = async (message: Uint8Array, aad: Uint8Array): Promise<Uint8Array> => {
      const out = await decrypt(mine, message, { aad });
      mine = out.state;
      return out.plaintext;
    };
    const first = store.get(toHex(early.id)) as SignedDocument;
    assert.deepEqual({ ...(await decryptFields(fieldContextOf(first), first.fields, decryptOne)) }, { title: "before bob", body: "long-term, epoch 1", n: 1 });
    const second = store.get(toHex(late.id)) as SignedDocument;
    assert.deepEqual({ ...(await decryptFields(fieldContextOf(second), second.fields, decryptOne)) }, { body: "sender ratchet after the rotation" });
  } finally {
    await idx.close();
  }
});
