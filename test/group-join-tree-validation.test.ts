/**
 * A joiner validates the whole ratchet tree of a Welcome (RFC 9420 12.4.3.1): every leaf's
 * signature, the parent hashes and the tree hash. Our ts-mls patch starts every leaf's signature
 * check before it hashes the tree, and encodes each leaf once for both; the provider shares a
 * long stretch of checks with a thread of libuv's pool (src/mls/crypto/verifyRun.ts: the pool
 * thread takes leaves from the front, this thread from the back): one bad node among 100+, early,
 * in the middle or last, must still refuse the Welcome. The owner here is malicious: it
 * tampers with one node of its own tree and then welcomes a joiner with an add-only commit (no
 * update path, so the tampered node stays), whose GroupInfo it signs over the tampered tree's hash.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { RatchetTree } from "ts-mls";
import { addMembers, createGroup, joinGroup, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { decodeSecretGroupCommit } from "../src/commit.js";
import { parseMlsCommit, peekMlsCommitHeader } from "../src/mls/commit.js";
import { newGroupId, rejectsWith } from "./group-fixtures.js";

const MEMBERS = 120;
const FORGED_LEAVES = [20, 57, MEMBERS];

async function groupOf(count: number): Promise<{ owner: Identity; state: GroupState }> {
  const owner = generateIdentity();
  const created = await createGroup({ identity: owner, groupId: newGroupId(), ciphersuite: "PANDA10_AES256GCM" });
  const kps = await Promise.all(Array.from({ length: count }, () => createKeyPackage(generateIdentity())));
  const added = await addMembers(created, kps.map((k) => k.keyPackage));
  // an update commit: the owner's direct path gets non-blank parents with parent hashes
  return { owner, state: (await updateGroup(added.state)).state };
}

const flipped = (bytes: Uint8Array): Uint8Array => {
  const out = Uint8Array.from(bytes);
  out[out.length - 1] = (out[out.length - 1] as number) ^ 1;
  return out;
};

function withTree(state: GroupState, tamper: (tree: RatchetTree) => RatchetTree): GroupState {
  return { ...state, mls: { ...state.mls, ratchetTree: tamper(state.mls.ratchetTree) } };
}

async function welcomeJoin(owner: Identity, state: GroupState): Promise<GroupState> {
  const identity = generateIdentity();
  const kp = await createKeyPackage(identity);
  const added = await addMembers(state, [kp.keyPackage]);
  return joinGroup({ identity, secret: kp.secret, owner: owner.publicKey, commit: added.commit });
}

test(`a Welcome whose tree has one forged leaf signature or one wrong parent hash among ${MEMBERS + 1} leaves is refused: INVALID_WELCOME`, async () => {
  const { owner, state } = await groupOf(MEMBERS);
  // the untampered group is joinable (the refusals below are the tampering's)
  assert.equal((await welcomeJoin(owner, state)).status, "member");

  for (const forged of FORGED_LEAVES) {
    assert.equal(state.mls.ratchetTree[2 * forged]?.nodeType, "leaf");
    const forgedLeaf = withTree(state, (tree) =>
      tree.map((node, i) => (i === 2 * forged && node?.nodeType === "leaf" ? { ...node, leaf: { ...node.leaf, signature: flipped(node.leaf.signature) } } : node)),
    );
    const leafError = await rejectsWith(() => welcomeJoin(owner, forgedLeaf), "INVALID_WELCOME");
    assert.match(leafError.message, /leaf node signature/, `leaf ${forged}`);
  }

  // node 3 sits on the owner's (leaf 0) direct path: its parent hash links it to node 7
  const wrongParentHash = withTree(state, (tree) =>
    tree.map((node, i) => (i === 3 && node?.nodeType === "parent" ? { ...node, parent: { ...node.parent, parentHash: flipped(node.parent.parentHash) } } : node)),
  );
  assert.equal(wrongParentHash.mls.ratchetTree[3]?.nodeType, "parent");
  const parentError = await rejectsWith(() => welcomeJoin(owner, wrongParentHash), "INVALID_WELCOME");
  assert.match(parentError.message, /parent hash/);
});

test("a joiner reads the commit's header only: the same group, epoch and sender as the full parse; anything but a commit is DECODE_ERROR", async () => {
  const { state } = await groupOf(3);
  const kp = await createKeyPackage(generateIdentity());
  for (const made of [await addMembers(state, [kp.keyPackage]), await updateGroup(state)]) {
    const parts = decodeSecretGroupCommit(made.commit);
    const full = parseMlsCommit(parts.mlsCommit);
    assert.deepEqual(peekMlsCommitHeader(parts.mlsCommit), { groupId: full.groupId, epoch: full.epoch, senderLeafIndex: full.senderLeafIndex });
    if (parts.mlsWelcome !== undefined) await rejectsWith(() => peekMlsCommitHeader(parts.mlsWelcome as Uint8Array), "DECODE_ERROR");
    await rejectsWith(() => peekMlsCommitHeader(parts.mlsCommit.subarray(0, 20)), "DECODE_ERROR");
  }
});
