/**
 * Our ts-mls patch on the owner's add commit (patches/ts-mls+1.6.4.patch): the Welcome's
 * EncryptContext and the committer's filtered direct path are computed once per commit, the
 * duplicate checks of add proposals are set lookups, and a commit adding nobody builds no
 * GroupInfo. Every joiner must still get the path secret of its own common ancestor (else its
 * join fails or lands in another epoch), and the duplicate checks must refuse exactly what
 * the pairwise scans refused.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeSecretGroupCommit } from "../src/commit.js";
import { addMembers, joinGroup, removeMembers, updateGroup } from "../src/group/index.js";
import { sealSecretList } from "../src/group/secrets.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { mlsCommit } from "../src/mls/commit.js";
import { findLeafByIdentity, mlsExport } from "../src/mls/group.js";
import { publicOf, rawKey } from "../src/mls/crypto/rawKey.js";
import { makeGroup, rejectsWith } from "./group-fixtures.js";

test("members added by a commit with a path (a removal) to an uneven tree get their common ancestor's path secret", async () => {
  const { owner, members } = await makeGroup(9);
  // blanks at several depths: the joiners' common ancestors with the owner differ
  owner.state = (await removeMembers(owner.state, [members[1]!.identity.publicKey, members[4]!.identity.publicKey])).state;
  owner.state = (await updateGroup(owner.state)).state;
  // add-only commits carry no path (no path secret in the Welcome): a removal makes one
  const ids = Array.from({ length: 21 }, () => generateIdentity());
  const kps = await Promise.all(ids.map((id) => createKeyPackage(id)));
  const removed = findLeafByIdentity(owner.state.mls, members[7]!.identity.publicKey);
  assert.ok(removed !== undefined);
  const merged = await mlsCommit(owner.state.mls, owner.state.provider, { remove: [removed], add: kps.map((k) => k.keyPackage) });
  const sealed = await sealSecretList(merged.state, owner.state.provider, owner.state.secrets);
  assert.ok(merged.welcome !== undefined);
  const commit = encodeSecretGroupCommit({ mlsCommit: merged.commit, mlsWelcome: merged.welcome, encryptedSecrets: sealed.encryptedSecrets });
  const want = await mlsExport(sealed.mls, owner.state.provider, "patch-check", 32);
  let pathKeys = 0;
  for (const [i, identity] of ids.entries()) {
    const j = await joinGroup({ identity, secret: kps[i]!.secret, owner: owner.identity.publicKey, commit });
    assert.deepEqual(await mlsExport(j.mls, j.provider, "patch-check", 32), want);
    // RFC 9420 12.4.3.1: the Welcome's path secret is the lowest common ancestor's with the
    // committer; the joiner derives that node's key and its ancestors': each must be the tree's
    // public key there (ts-mls does not check it: a wrong node's secret would join all the same)
    for (const [index, sk] of Object.entries(j.mls.privatePath.privateKeys)) {
      const node = j.mls.ratchetTree[Number(index)];
      if (node?.nodeType !== "parent") continue;
      assert.deepEqual(publicOf(rawKey("X25519", "private", sk)), node.parent.hpkePublicKey, `node ${index}`);
      pathKeys++;
    }
  }
  assert.ok(pathKeys >= ids.length, "every joiner got path keys");
});

test("an update commit makes no Welcome, an add commit does", async () => {
  const { owner } = await makeGroup(3);
  assert.equal((await updateGroup(owner.state)).parts.mlsWelcome, undefined);
  const kp = await createKeyPackage(generateIdentity());
  assert.ok((await addMembers(owner.state, [kp.keyPackage])).parts.mlsWelcome !== undefined);
});

test("ts-mls still refuses two adds of one client and the add of a member, but not of one removed in the same commit", async () => {
  const { owner, members } = await makeGroup(4);
  const fresh = await createKeyPackage(generateIdentity());
  const other = await createKeyPackage(generateIdentity());
  // through mlsCommit: addMembers refuses these itself (ALREADY_MEMBER) before ts-mls sees them
  // ts-mls's own reasons: our later unique-key check would refuse both too, with another message
  const twice = await rejectsWith(() => mlsCommit(owner.state.mls, owner.state.provider, { add: [fresh.keyPackage, other.keyPackage, fresh.keyPackage] }), "INVALID_KEY_PACKAGE");
  assert.match(twice.message, /multiple Add proposals/);
  const carol = members[2]!;
  const again = await createKeyPackage(carol.identity);
  const member = await rejectsWith(() => mlsCommit(owner.state.mls, owner.state.provider, { add: [other.keyPackage, again.keyPackage] }), "INVALID_KEY_PACKAGE");
  assert.match(member.message, /already in the group/);
  const leaf = findLeafByIdentity(owner.state.mls, carol.identity.publicKey);
  assert.ok(leaf !== undefined);
  const merged = await mlsCommit(owner.state.mls, owner.state.provider, { remove: [leaf], add: [other.keyPackage, again.keyPackage] });
  assert.ok(merged.welcome !== undefined);
  assert.ok(findLeafByIdentity(merged.state, carol.identity.publicKey) !== undefined);
});
