/**
 * A joiner's own leaf is not verified again (src/mls/ownLeaf.ts): only the exact signature of
 * its own key package's leaf over that leaf's LeafNodeTBS is answered without Ed25519; any other
 * verification (a changed content byte, another signature or key, another label) is the
 * ciphersuite's. A join of a group of 3 runs one Ed25519 verification fewer and still joins.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { CiphersuiteImpl } from "ts-mls";
import { addMembers, createGroup, groupMembers, joinGroup } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { decodeKeyPackageBytes } from "../src/mls/codec.js";
import { ownLeafSignedContent, withOwnLeafTrusted } from "../src/mls/ownLeaf.js";
import { getSuite } from "../src/mls/suite.js";
import { newGroupId } from "./group-fixtures.js";

const flipped = (bytes: Uint8Array, at: number): Uint8Array => {
  const out = Uint8Array.from(bytes);
  out[at] = (out[at] as number) ^ 1;
  return out;
};

async function ownKeyPackage() {
  const identity = generateIdentity();
  const kp = await createKeyPackage(identity);
  const keyPackage = decodeKeyPackageBytes(kp.keyPackage);
  return { identity, kp, keyPackage, cs: await getSuite(keyPackage.cipherSuite, "node") };
}

test("the trusted content is what the key package's leaf signature signs: the ciphersuite verifies it", async () => {
  const { keyPackage, cs } = await ownKeyPackage();
  const leaf = keyPackage.leafNode;
  assert.equal(await cs.signature.verify(leaf.signaturePublicKey, ownLeafSignedContent(keyPackage), leaf.signature), true);
});

test("only the exact own-leaf signature is answered without the ciphersuite; every other verification is its", async () => {
  const { keyPackage, cs } = await ownKeyPackage();
  const leaf = keyPackage.leafNode;
  const content = ownLeafSignedContent(keyPackage);
  const calls: Uint8Array[] = [];
  const refusing: CiphersuiteImpl = { ...cs, signature: { ...cs.signature, verify: async (_pk, message) => (calls.push(message), false) } };
  const trusted = withOwnLeafTrusted(refusing, keyPackage);
  assert.equal(await trusted.signature.verify(leaf.signaturePublicKey, content, leaf.signature), true, "the own leaf");
  assert.equal(calls.length, 0, "no Ed25519 for it");
  const other = generateIdentity().publicKey;
  const groupInfoLabelled = new Uint8Array([...new TextEncoder().encode("MLS 1.0 GroupInfoTBS"), ...content.subarray(20)]);
  const cases: Array<[string, Uint8Array, Uint8Array, Uint8Array]> = [
    ["a content byte changed (last)", leaf.signaturePublicKey, flipped(content, content.length - 1), leaf.signature],
    ["a content byte changed (first of the TBS)", leaf.signaturePublicKey, flipped(content, 21), leaf.signature],
    ["a longer content", leaf.signaturePublicKey, new Uint8Array([...content, 0]), leaf.signature],
    ["another label", leaf.signaturePublicKey, groupInfoLabelled, leaf.signature],
    ["another signature", leaf.signaturePublicKey, content, flipped(leaf.signature, 0)],
    ["another key", other, content, leaf.signature],
  ];
  for (const [what, pk, message, signature] of cases) {
    const before: number = calls.length;
    assert.equal(await trusted.signature.verify(pk, message, signature), false, what);
    assert.equal(calls.length, before + 1, `${what}: the ciphersuite's verification ran`);
  }
});

test("a join of a group of 3 verifies every leaf but its own with Ed25519 and joins", async () => {
  const owner = generateIdentity();
  const me = await ownKeyPackage();
  const third = await createKeyPackage(generateIdentity());
  const created = await createGroup({ identity: owner, groupId: newGroupId(), ciphersuite: "PANDA10_AES256GCM" });
  const added = await addMembers(created, [me.kp.keyPackage, third.keyPackage]);
  const verify = me.cs.signature.verify;
  const verified: Uint8Array[] = [];
  me.cs.signature.verify = (pk, message, signature) => (verified.push(pk), verify.call(me.cs.signature, pk, message, signature));
  try {
    const joined = await joinGroup({ identity: me.identity, secret: me.kp.secret, owner: owner.publicKey, commit: added.commit });
    assert.equal(groupMembers(joined).length, 3);
  } finally {
    me.cs.signature.verify = verify;
  }
  const byKey = (pk: Uint8Array): number => verified.filter((k) => Buffer.from(k).equals(Buffer.from(pk))).length;
  assert.equal(byKey(me.identity.publicKey), 0, "the own leaf: no Ed25519");
  assert.ok(byKey(owner.publicKey) >= 2, "the owner's leaf and GroupInfo signature are verified");
  assert.equal(verified.length, 4, "owner leaf, third leaf, GroupInfo, the secrets message");
});
