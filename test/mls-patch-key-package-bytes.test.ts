/**
 * Our ts-mls patch lets a decoded key package keep a view of the bytes it was read from
 * (keyPackage.js `decodeKeyPackage`), and every decoded LeafNode its own (leafNode.js
 * `decodeLeafNode`): an owner adding N members took each key package's reference (RFC 9420 5.2),
 * its KeyPackageTBS (10) and its leaf's LeafNodeTBS and tree-hash input (7.2, 7.8) by encoding it
 * again. Every value read from the kept bytes must equal 1.6.4's encoding, the verdicts must be
 * 1.6.4's, a key package made here (not decoded) must encode as before, and a kept byte changed
 * after decoding must change what is read (a regression to encoding again would not: the changed
 * byte is the ciphersuite's, which decodes to a name).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeMlsMessage } from "ts-mls";
import { encodeKeyPackage, keyPackageTbsBytes, makeKeyPackageRef, verifyKeyPackage } from "ts-mls/keyPackage.js";
import type { KeyPackage } from "ts-mls/keyPackage.js";
import { takeLeafNodeEncoding, verifyLeafNodeSignatureKeyPackage } from "ts-mls/leafNode.js";
import { encodeKeyPackage as bareEncodeKeyPackage, encodeKeyPackageTBS as bareEncodeKeyPackageTBS, makeKeyPackageRef as bareRef, verifyKeyPackage as bareVerify } from "ts-mls-bare/keyPackage.js";
import type { KeyPackage as BareKeyPackage } from "ts-mls-bare/keyPackage.js";
import { encodeLeafNode as bareEncodeLeafNode, verifyLeafNodeSignatureKeyPackage as bareVerifyLeaf } from "ts-mls-bare/leafNode.js";
import type { LeafNode as BareLeafNode } from "ts-mls-bare/leafNode.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { generateIdentity } from "../src/identity.js";
import { getSuite } from "../src/mls/suite.js";

const SUITE = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";
const bare = (kp: KeyPackage): BareKeyPackage => kp as unknown as BareKeyPackage;

function decoded(bytes: Uint8Array): KeyPackage {
  const msg = decodeMlsMessage(bytes, 0)![0];
  assert.ok(msg.wireformat === "mls_key_package");
  return msg.keyPackage;
}

test("a decoded key package's reference, TBS, encoding and leaf bytes equal 1.6.4's, and so do the verdicts", async () => {
  const cs = await getSuite(SUITE);
  for (let i = 0; i < 4; i++) {
    const kp = decoded((await createKeyPackage(generateIdentity())).keyPackage);
    assert.deepEqual(keyPackageTbsBytes(kp), bareEncodeKeyPackageTBS(bare(kp)));
    assert.equal(keyPackageTbsBytes(kp).buffer, keyPackageTbsBytes(kp).buffer, "a view of the kept bytes, not a new encoding");
    assert.deepEqual(encodeKeyPackage(kp), bareEncodeKeyPackage(bare(kp)));
    assert.deepEqual(await makeKeyPackageRef(kp, cs.hash), await bareRef(bare(kp), cs.hash));
    assert.equal(await verifyKeyPackage(kp, cs.signature), true);
    assert.equal(await verifyLeafNodeSignatureKeyPackage(kp.leafNode, cs.signature), true);
    assert.deepEqual(takeLeafNodeEncoding(kp.leafNode), bareEncodeLeafNode(kp.leafNode as unknown as BareLeafNode));
  }
});

test("a key package made here (not decoded) encodes and verifies as in 1.6.4", async () => {
  const cs = await getSuite(SUITE);
  const kp = decoded((await createKeyPackage(generateIdentity())).keyPackage);
  const made: KeyPackage = { ...kp, leafNode: { ...kp.leafNode } };
  assert.notEqual(keyPackageTbsBytes(made).buffer, keyPackageTbsBytes(made).buffer, "encoded each time");
  assert.deepEqual(keyPackageTbsBytes(made), bareEncodeKeyPackageTBS(bare(made)));
  assert.deepEqual(await makeKeyPackageRef(made, cs.hash), await bareRef(bare(kp), cs.hash));
  assert.equal(await verifyKeyPackage(made, cs.signature), true);
  assert.equal(takeLeafNodeEncoding(made.leafNode), undefined, "a made leaf has no kept bytes until verified");
});

test("the checks and the reference read the kept bytes: a ciphersuite byte changed after decoding changes them", async () => {
  const cs = await getSuite(SUITE);
  const bytes = Uint8Array.from((await createKeyPackage(generateIdentity())).keyPackage);
  const kp = decoded(bytes);
  const refBefore = await makeKeyPackageRef(kp, cs.hash);
  // MLSMessage: version (2 bytes), wire format (2); KeyPackage: version (2), cipher_suite (2)
  assert.deepEqual([bytes[6], bytes[7]], [0, 1], "cipher suite 1 where expected");
  bytes[7] = 3;
  assert.equal(kp.cipherSuite, "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", "the decoded object is unchanged");
  assert.equal(await verifyKeyPackage(kp, cs.signature), false);
  assert.notDeepEqual(await makeKeyPackageRef(kp, cs.hash), refBefore);
  assert.equal(await bareVerify(bare(kp), cs.signature), true, "1.6.4 encodes the object again");
});

test("a key package's leaf check reads its kept LeafNode bytes: a credential type byte changed after decoding fails it", async () => {
  const cs = await getSuite(SUITE);
  const bytes = Uint8Array.from((await createKeyPackage(generateIdentity())).keyPackage);
  const kp = decoded(bytes);
  const leaf = takeLeafNodeEncoding(kp.leafNode);
  assert.ok(leaf !== undefined && leaf.buffer === bytes.buffer, "the leaf keeps a view of the bytes it was read from");
  // LeafNode: encryption_key<V> (1 + 32), signature_key<V> (1 + 32), then the credential type (uint16, basic = 1)
  const at = leaf.byteOffset - bytes.byteOffset + 66;
  assert.deepEqual([bytes[at], bytes[at + 1]], [0, 1]);
  bytes[at + 1] = 2;
  assert.equal(kp.leafNode.credential.credentialType, "basic", "the decoded object is unchanged");
  assert.equal(await verifyLeafNodeSignatureKeyPackage(kp.leafNode, cs.signature), false);
  assert.equal(await bareVerifyLeaf(kp.leafNode as unknown as BareLeafNode & { leafNodeSource: "key_package" }, cs.signature), true, "1.6.4 encodes the leaf again");
});
