/**
 * RFC 9420 sections 7.3 and 12.2: the encryption keys and the signature keys of a tree's leaves
 * are unique. ts-mls 1.6.4 (`validateLeafNodeCredentialAndKeyUniqueness`) never compares a new
 * leaf's keys with the existing ones, so our adapter (src/mls/) checks the tree after every
 * commit and join: the owner refuses such a key package (INVALID_KEY_PACKAGE), a member refuses
 * such a commit (INVALID_COMMIT) and keeps its state, and the joiner refuses such a Welcome
 * (INVALID_WELCOME). (A second leaf with a member's signature key would carry that member's
 * identity, since a credential is its signature key: ts-mls refuses an Add for an identity
 * already in the group, and `addMembers` says ALREADY_MEMBER.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCommit, encodeMlsMessage } from "ts-mls";
import { signKeyPackage } from "ts-mls/keyPackage.js";
import { signLeafNodeKeyPackage } from "ts-mls/leafNode.js";
import { encodeSecretGroupCommit } from "../src/commit.js";
import { addMembers, encodeGroupState, joinGroup, processCommit } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { sealSecretList } from "../src/group/secrets.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { decodeKeyPackageBytes } from "../src/mls/codec.js";
import { findLeafByIdentity } from "../src/mls/group.js";
import { getSuite } from "../src/mls/suite.js";
import { makeGroup, rejectsWith } from "./group-fixtures.js";
import type { Member } from "./group-fixtures.js";

/** `identity`'s own key package (credential = its signature key), carrying `hpkePublicKey` as its leaf's encryption key. */
async function keyPackageWithEncryptionKey(identity: Identity, hpkePublicKey: Uint8Array): Promise<Uint8Array> {
  const base = decodeKeyPackageBytes((await createKeyPackage(identity)).keyPackage);
  const cs = await getSuite(base.cipherSuite);
  const { signature: _leafSig, ...leafTbs } = base.leafNode as typeof base.leafNode & { signature: Uint8Array };
  const leafNode = await signLeafNodeKeyPackage({ ...leafTbs, hpkePublicKey } as never, identity.secretKey, cs.signature);
  const { signature: _kpSig, ...kpTbs } = base;
  const keyPackage = await signKeyPackage({ ...kpTbs, leafNode } as never, identity.secretKey, cs.signature);
  return encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage });
}

/** The owner's add commit made by ts-mls itself, past our adapter's checks (what a malicious owner's node sends). */
async function ownerAddsDirectly(owner: GroupState, keyPackages: Uint8Array[]): Promise<Uint8Array> {
  const cs = await getSuite(owner.mls.groupContext.cipherSuite, owner.provider);
  const result = await createCommit(
    { state: owner.mls, cipherSuite: cs },
    { extraProposals: keyPackages.map((kp) => ({ proposalType: "add" as const, add: { keyPackage: decodeKeyPackageBytes(kp) } })), wireAsPublicMessage: true, ratchetTreeExtension: true },
  );
  const sealed = await sealSecretList(result.newState, owner.provider, owner.secrets);
  const welcome = encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome: result.welcome as NonNullable<typeof result.welcome> });
  return encodeSecretGroupCommit({ mlsCommit: encodeMlsMessage(result.commit), mlsWelcome: welcome, encryptedSecrets: sealed.encryptedSecrets });
}

function leafOf(state: GroupState, who: Identity): { hpkePublicKey: Uint8Array } {
  const leaf = findLeafByIdentity(state.mls, who.publicKey) as number;
  const node = state.mls.ratchetTree[leaf * 2];
  assert.ok(node?.nodeType === "leaf");
  return node.leaf;
}

test("a key package reusing a member's encryption key is refused by the owner, every member and the joiner", async () => {
  const { owner, members } = await makeGroup(2);
  const [bob, carol] = members as [Member, Member];
  const mallory = generateIdentity();
  const stolenKey = await keyPackageWithEncryptionKey(mallory, leafOf(owner.state, carol.identity).hpkePublicKey);
  await rejectsWith(() => addMembers(owner.state, [stolenKey]), "INVALID_KEY_PACKAGE");
  const dave = generateIdentity();
  const daveKp = await createKeyPackage(dave);
  for (const forged of [await ownerAddsDirectly(owner.state, [stolenKey, daveKp.keyPackage]), await ownerAddsDirectly(owner.state, [daveKp.keyPackage, await keyPackageWithEncryptionKey(mallory, leafOf(owner.state, bob.identity).hpkePublicKey)])]) {
    const before = encodeGroupState(bob.state);
    await rejectsWith(() => processCommit(bob.state, forged), "INVALID_COMMIT");
    assert.deepEqual(encodeGroupState(bob.state), before);
    await rejectsWith(() => joinGroup({ identity: dave, secret: daveKp.secret, owner: owner.identity.publicKey, commit: forged }), "INVALID_WELCOME");
  }
  // two new leaves sharing one encryption key
  const erin = generateIdentity();
  const erinKp = decodeKeyPackageBytes((await createKeyPackage(erin)).keyPackage);
  const twin = await keyPackageWithEncryptionKey(mallory, erinKp.leafNode.hpkePublicKey);
  await rejectsWith(() => addMembers(owner.state, [encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage: erinKp }), twin]), "INVALID_KEY_PACKAGE");
  // control: the same path with an honest key package is accepted
  const honest = await ownerAddsDirectly(owner.state, [daveKp.keyPackage]);
  assert.equal((await processCommit(bob.state, honest)).mlsEpoch, bob.state.mlsEpoch + 1n);
});
