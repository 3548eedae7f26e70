/**
 * Signatures under the key of a verified commit document's author are not checked again in a
 * join (src/mls/documentSigner.ts): the wrapper answers true for that key alone and hands every
 * other key to the ciphersuite; the library's `joinGroup` still refuses a Welcome whose tree holds
 * the owner's own leaf with a forged signature, while the engine's join through a verified
 * document (`joinGroupFromVerifiedDocument`, and an engine ingesting the owner's documents) takes
 * it; a forged leaf of any other member is refused on both paths.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { CiphersuiteImpl } from "ts-mls";
import { decodeDocument, readKeyPackage } from "../src/documents/index.js";
import { joinGroup } from "../src/group/index.js";
import { joinGroupFromVerifiedDocument } from "../src/group/join.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { withDocumentSignerTrusted } from "../src/mls/documentSigner.js";
import { getSuite } from "../src/mls/suite.js";
import { isSecretGroupError } from "../src/errors.js";
import { ingestAll, withNodes } from "./engine-helpers.js";
import { welcomeDocuments } from "./group-fixtures.js";

const FILLERS = 3;

/** The owner's documents welcoming `keyPackage` into a group of 1 + FILLERS; leaf `forged` (0: the owner's) tampered first. */
const welcome = (owner: Identity, keyPackage: Uint8Array, forged: number) => welcomeDocuments(owner, keyPackage, FILLERS, { leaf: forged, at: 0 });

const codeOf = (e: unknown): string => (isSecretGroupError(e) ? e.code : String(e));

test("the document signer's key is answered without the ciphersuite; every other key is the ciphersuite's", async () => {
  const cs = await getSuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", "node");
  const signer = generateIdentity().publicKey;
  const calls: Uint8Array[] = [];
  const refusing: CiphersuiteImpl = { ...cs, signature: { ...cs.signature, verify: async (pk) => (calls.push(pk), false) } };
  const trusted = withDocumentSignerTrusted(refusing, signer);
  assert.equal(await trusted.signature.verify(signer, new Uint8Array(10), new Uint8Array(64)), true);
  assert.equal(calls.length, 0, "no Ed25519 for the signer's key");
  for (const other of [generateIdentity().publicKey, signer.subarray(0, 31), Uint8Array.from(signer, (b, i) => (i === 31 ? b ^ 1 : b))]) {
    assert.equal(await trusted.signature.verify(other, new Uint8Array(10), new Uint8Array(64)), false);
  }
  assert.equal(calls.length, 3, "every other key went to the ciphersuite");
});

test("a Welcome holding the owner's own leaf with a forged signature: refused by joinGroup, joined through a verified document", async () => {
  const owner = generateIdentity();
  const joiner = generateIdentity();
  const kp = await createKeyPackage(joiner);
  const w = await welcome(owner, kp.keyPackage, 0);
  const options = { identity: joiner, secret: kp.secret, owner: owner.publicKey, commit: w.commit };
  await assert.rejects(joinGroup(options), (e: unknown) => codeOf(e) === "INVALID_WELCOME" && /signature/.test((e as Error).message));
  const state = await joinGroupFromVerifiedDocument(options);
  assert.equal(state.status, "member");
});

test("a forged leaf of another member is refused on both paths", async () => {
  const owner = generateIdentity();
  const joiner = generateIdentity();
  const kp = await createKeyPackage(joiner);
  const w = await welcome(owner, kp.keyPackage, FILLERS);
  const options = { identity: joiner, secret: kp.secret, owner: owner.publicKey, commit: w.commit };
  await assert.rejects(joinGroup(options), (e: unknown) => codeOf(e) === "INVALID_WELCOME");
  await assert.rejects(joinGroupFromVerifiedDocument(options), (e: unknown) => codeOf(e) === "INVALID_WELCOME" && /leaf node signature/.test((e as Error).message));
});

test("an engine joins through the owner's verified documents whose Welcome holds the owner's leaf with a forged signature", async () => {
  await withNodes([{}], async ([node]) => {
    const published = (await node.engine.publishKeyPackage()).documents[0] as Uint8Array;
    const w = await welcome(generateIdentity(), readKeyPackage(decodeDocument(published)).keyPackage, 0);
    const outcomes = await ingestAll(node.engine, w.documents);
    assert.equal(await node.engine.status(w.groupId), "member", outcomes.join(", "));
  });
});
