/**
 * Adversarial scenarios against a member's engine, each asserting the typed error and that not
 * one LevelDB entry of the receiving engine changed: a member's commit (signed by the member,
 * and the member's MLS commit signed by the owner's node), a forged document signature, a key
 * package whose credential is not its author, a commit for another group, replayed commits and
 * messages, tampered messages, a ciphertext moved to another field, and a removed member
 * decrypting after its removal.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { concatBytes, toHex, utf8 } from "../src/bytes.js";
import { SecretGroupError } from "../src/errors.js";
import { decodeDocument, signDocument } from "../src/documents/document.js";
import { encodeCanonical, decodeCanonical } from "../src/documents/cbor.js";
import { keyPackageDocument, readKeyPackage, readSecretGroupCommit, secretGroupCommitDocument } from "../src/documents/index.js";
import { signEd25519 } from "../src/documents/ed25519.js";
import { DOCUMENT_SIGNATURE_CONTEXT } from "../src/documents/document.js";
import { sealSecretList } from "../src/group/secrets.js";
import { mlsCommit } from "../src/mls/commit.js";
import { deriveStorageKey } from "../src/engine/store/seal.js";
import { EngineStore } from "../src/engine/store/store.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { loadGroupState } from "../src/engine/store/stateCodec.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import { ingestAll, openNode } from "./engine-helpers.js";
import { diffDb, liveDump } from "./adversarial-support.js";

type Node = Awaited<ReturnType<typeof openNode>>;

/** Runs `fn` on `engine` and requires the typed error `code` (thrown, or an ingest refusal) and an unchanged database. */
async function refusedUnchanged(engine: SecretGroupEngine, code: string, what: string, fn: () => Promise<unknown>): Promise<void> {
  const before = await liveDump(engine);
  let caught: unknown;
  try {
    const value = await fn();
    // decrypt returns errors in place
    if (Array.isArray(value) && value[0] instanceof Error) caught = value[0];
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SecretGroupError, `${what}: expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `${what}: ${caught.message}`);
  assert.deepEqual(diffDb(before, await liveDump(engine)), [], `${what}: the database changed`);
}

/** Owner, bob and carol in one group (both joined). */
async function groupOfThree(): Promise<{ owner: Node; bob: Node; carol: Node; gid: Uint8Array; head: Uint8Array; documents: Uint8Array[] }> {
  const [owner, bob, carol] = await Promise.all([openNode(), openNode(), openNode()]);
  const kps = [...(await bob.engine.publishKeyPackage()).documents, ...(await carol.engine.publishKeyPackage()).documents];
  const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
  const gid = created.groupId as Uint8Array;
  const added = await owner.engine.addMembers(gid, kps);
  const documents = [...created.documents, ...kps, ...added.documents];
  await bob.engine.ingest(documents);
  await carol.engine.ingest(documents);
  assert.equal(await carol.engine.status(gid), "member");
  return { owner, bob, carol, gid, head: decodeDocument(added.documents[0] as Uint8Array).id, documents };
}

async function closeAll(nodes: Node[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.engine.close().catch(() => undefined)));
  await Promise.all(nodes.map((n) => n.cleanup()));
}

test("engine: a member's commit is refused (signed by the member, or the member's MLS commit signed by the owner's node): FORGED_SENDER", async () => {
  const { owner, bob, carol, gid, head } = await groupOfThree();
  try {
    // bob's MLS state, out of his own store, commits on its own
    await bob.engine.close();
    const store = await EngineStore.open(bob.path, bob.identity.publicKey, deriveStorageKey(bob.identity.secretKey));
    const prefix = `${toHex(gid)}/`;
    const parts = (await store.scan(Sublevel.State, prefix, "state")).map(([k, v]) => [k.slice(prefix.length), v] as const);
    await store.close();
    const { state } = loadGroupState(parts, 0n);
    const merged = await mlsCommit(state.mls, state.provider, {});
    const sealed = await sealSecretList(merged.state, state.provider, state.secrets);
    const commit = { mlsCommit: merged.commit, encryptedSecrets: sealed.encryptedSecrets };
    const byBob = secretGroupCommitDocument(bob.identity, { secretGroup: gid, previousCommit: head, commit }).bytes;
    const byOwnersNode = secretGroupCommitDocument(owner.identity, { secretGroup: gid, previousCommit: head, commit }).bytes;
    await refusedUnchanged(carol.engine, "FORGED_SENDER", "signed by bob", () => carol.engine.ingest([byBob]));
    await refusedUnchanged(carol.engine, "FORGED_SENDER", "bob's MLS commit, owner-signed", () => carol.engine.ingest([byOwnersNode]));
    // and the owner's own next commit still applies
    const next = await owner.engine.rotate(gid);
    assert.deepEqual(await ingestAll(carol.engine, next.documents), ["applied"]);
  } finally {
    await closeAll([owner, bob, carol]);
  }
});

test("engine: a forged document signature, a key package whose credential is not its author, a commit for another group", async () => {
  const { owner, bob, carol, gid } = await groupOfThree();
  const mallory = await openNode();
  try {
    const next = (await owner.engine.rotate(gid)).documents[0] as Uint8Array;
    // the owner's next commit, its signature replaced by mallory's over the same payload
    const envelope = decodeCanonical(next) as { payload: Uint8Array; signature: Uint8Array };
    const forgedSig = encodeCanonical({ payload: envelope.payload, signature: signEd25519(mallory.identity, concatBytes(utf8(DOCUMENT_SIGNATURE_CONTEXT), new Uint8Array([0]), envelope.payload)) });
    const flipped = encodeCanonical({ payload: envelope.payload, signature: Uint8Array.from(envelope.signature, (x, i) => (i === 0 ? x ^ 1 : x)) });
    await refusedUnchanged(carol.engine, "INVALID_SIGNATURE", "mallory's signature", () => carol.engine.ingest([forgedSig]));
    await refusedUnchanged(carol.engine, "INVALID_SIGNATURE", "a flipped signature bit", () => carol.engine.ingest([flipped]));

    // bob's key package published by mallory: refused on ingest, and by the owner for adding
    const bobKp = (await bob.engine.publishKeyPackage()).documents[0] as Uint8Array;
    const stolen = keyPackageDocument(mallory.identity, { keyPackage: readKeyPackage(decodeDocument(bobKp)).keyPackage }).bytes;
    await refusedUnchanged(carol.engine, "INVALID_KEY_PACKAGE", "ingest", () => carol.engine.ingest([stolen]));
    await refusedUnchanged(owner.engine, "INVALID_KEY_PACKAGE", "addMembers", () => owner.engine.addMembers(gid, [stolen]));

    // owner-signed, naming this group, carrying the MLS commit of another group of the owner
    const other = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES128GCM" });
    const otherCommit = readSecretGroupCommit(decodeDocument((await owner.engine.rotate(other.groupId as Uint8Array)).documents[0] as Uint8Array));
    const real = readSecretGroupCommit(decodeDocument(next));
    const misdirected = secretGroupCommitDocument(owner.identity, { secretGroup: gid, previousCommit: real.previousCommit as Uint8Array, commit: otherCommit.commit }).bytes;
    await refusedUnchanged(carol.engine, "WRONG_GROUP", "another group's commit", () => carol.engine.ingest([misdirected]));
    assert.deepEqual(await ingestAll(carol.engine, [next]), ["applied"]);
  } finally {
    await closeAll([owner, bob, carol, mallory]);
  }
});

test("engine: replayed commits and messages, tampered messages and a moved field ciphertext change nothing", async () => {
  const { owner, bob, carol, gid, documents } = await groupOfThree();
  try {
    const c1 = await owner.engine.rotate(gid);
    await carol.engine.ingest(c1.documents);
    // replayed commits: duplicates, nothing written
    for (const doc of [...documents, ...c1.documents]) {
      const before = await liveDump(carol.engine);
      assert.deepEqual(await ingestAll(carol.engine, [doc]), ["duplicate"]);
      assert.deepEqual(diffDb(before, await liveDump(carol.engine)), [], "a replayed document changed the database");
    }
    // a replayed sender-ratchet message: REPLAY
    const sr = await owner.engine.encrypt(gid, utf8("once"), { scheme: "sender-ratchet" });
    assert.deepEqual((await carol.engine.decrypt([sr]))[0], utf8("once"));
    await refusedUnchanged(carol.engine, "REPLAY", "sender-ratchet replay", () => carol.engine.decrypt([sr]));
    // tampered messages (the last byte is in the tag)
    const lt = await owner.engine.encrypt(gid, utf8("long-term"), { scheme: "long-term" });
    const sr2 = await owner.engine.encrypt(gid, utf8("twice"), { scheme: "sender-ratchet" });
    const lastFlipped = (b: Uint8Array): Uint8Array => Uint8Array.from(b, (x, i) => (i === b.length - 1 ? x ^ 1 : x));
    await refusedUnchanged(carol.engine, "DECRYPTION_FAILED", "long-term tag", () => carol.engine.decrypt([lastFlipped(lt)]));
    await refusedUnchanged(carol.engine, "DECRYPTION_FAILED", "sender-ratchet tag", () => carol.engine.decrypt([lastFlipped(sr2)]));
    assert.deepEqual((await carol.engine.decrypt([sr2]))[0], utf8("twice"), "a tampered copy consumed nothing");
    // a field ciphertext moved to another field
    for (const scheme of ["long-term", "sender-ratchet"] as const) {
      const fields = await owner.engine.encryptFields(gid, { title: "t", body: "b" }, { scheme, schema: "note_v1" });
      const swapped = signDocument(owner.identity, "note_v1", { title: fields["body"] as Uint8Array, body: fields["title"] as Uint8Array });
      const before = await liveDump(carol.engine);
      const read = await carol.engine.decryptFields(swapped);
      assert.equal((read.errors["title"] as { code?: string } | undefined)?.code, "DECRYPTION_FAILED", scheme);
      assert.deepEqual(diffDb(before, await liveDump(carol.engine)), [], `${scheme}: a moved ciphertext changed the database`);
    }
    void bob;
  } finally {
    await closeAll([owner, bob, carol]);
  }
});

test("engine: a removed member cannot decrypt what is sent after its removal (NOT_MEMBER) and its database does not change", async () => {
  const { owner, bob, carol, gid } = await groupOfThree();
  try {
    const before = await owner.engine.encrypt(gid, utf8("before"), { scheme: "long-term" });
    const removal = await owner.engine.removeMembers(gid, [bob.identity.publicKey]);
    await bob.engine.ingest(removal.documents);
    await carol.engine.ingest(removal.documents);
    assert.equal(await bob.engine.status(gid), "removed");
    const lt = await owner.engine.encrypt(gid, utf8("after, long-term"), { scheme: "long-term" });
    const sr = await owner.engine.encrypt(gid, utf8("after, sender-ratchet"), { scheme: "sender-ratchet" });
    await refusedUnchanged(bob.engine, "NOT_MEMBER", "long-term after removal", () => bob.engine.decrypt([lt]));
    await refusedUnchanged(bob.engine, "NOT_MEMBER", "sender-ratchet after removal", () => bob.engine.decrypt([sr]));
    // what was sent before still reads; carol reads both
    assert.deepEqual((await bob.engine.decrypt([before]))[0], utf8("before"));
    assert.deepEqual(await carol.engine.decrypt([lt, sr]), [utf8("after, long-term"), utf8("after, sender-ratchet")]);
  } finally {
    await closeAll([owner, bob, carol]);
  }
});
