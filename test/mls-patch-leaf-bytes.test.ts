/**
 * Our ts-mls patch checks the signature of each leaf of a tree received whole (a Welcome's
 * ratchet_tree extension) over a view of the bytes the leaf was read from, and hashes it from the
 * same bytes (leafNode.js `keepReceivedLeafNodeEncoding`, RFC 9420 7.2 LeafNodeTBS and 7.8),
 * instead of encoding every leaf again. Every verdict and every tree hash must be 1.6.4's, for
 * received trees and for trees with random byte changes that still decode: a leaf whose signature
 * fails in 1.6.4 must fail here too. The kept bytes must be what the checks read: a view of the
 * received bytes, equal to the leaf's encoding, whose head is ts-mls's LeafNodeTBS, also for update
 * leaves and signatures with 1- and 4-byte length prefixes; a kept byte changed after decoding
 * changes both verdict and hash (a regression to encoding the leaf again would not).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeLeafNode, encodeLeafNodeTBS, signLeafNodeCommit, takeLeafNodeEncoding, verifyLeafNodeSignature, verifyLeafNodeSignatureKeyPackage } from "ts-mls/leafNode.js";
import type { LeafNode, LeafNodeKeyPackage, LeafNodeTBS, LeafNodeTBSCommit } from "ts-mls/leafNode.js";
import { decodeRatchetTree, encodeRatchetTree } from "ts-mls/ratchetTree.js";
import { treeHashRoot } from "ts-mls/treeHash.js";
import { verifyLeafNodeSignature as bareVerify, verifyLeafNodeSignatureKeyPackage as bareVerifyKeyPackage } from "ts-mls-bare/leafNode.js";
import type { LeafNodeKeyPackage as BareLeafNodeKeyPackage } from "ts-mls-bare/leafNode.js";
import { decodeRatchetTree as bareDecodeRatchetTree } from "ts-mls-bare/ratchetTree.js";
import { treeHashRoot as bareTreeHashRoot } from "ts-mls-bare/treeHash.js";
import type { RatchetTree } from "ts-mls";
import { Writer } from "../src/codec/tls.js";
import { getSuite } from "../src/mls/suite.js";
import { loadGroupState, stageGroupState } from "../src/engine/store/stateCodec.js";
import { joinedAfterChurn } from "./group-fixtures.js";
import { rng } from "./prng.js";

type Suite = Awaited<ReturnType<typeof getSuite>>;
type BareTree = NonNullable<ReturnType<typeof bareDecodeRatchetTree>>[0];

function decodeBoth(bytes: Uint8Array): [RatchetTree, BareTree] | undefined {
  try {
    const patched = decodeRatchetTree(bytes, 0)?.[0];
    const bare = bareDecodeRatchetTree(bytes, 0)?.[0];
    return patched === undefined || bare === undefined ? undefined : [patched, bare];
  } catch {
    return undefined; // patched refuses non-minimal lengths (mls-patch-tree-bytes): nothing to compare
  }
}

/**
 * The kept bytes of the leaf at `leafIndex` of a tree decoded from `bytes`: a view of them (not an
 * encoding made here), equal to the leaf's LeafNode encoding, whose head (all but the signature)
 * is its LeafNodeTBS (RFC 9420 7.2: with group_id and leaf_index for update and commit leaves).
 */
function assertKeptBytes(leaf: LeafNode, bytes: Uint8Array, groupId: Uint8Array, leafIndex: number, what: string): void {
  const kept = takeLeafNodeEncoding(leaf);
  assert.ok(kept !== undefined, `${what}: leaf ${leafIndex} kept no bytes`);
  assert.equal(kept.buffer, bytes.buffer, `${what}: leaf ${leafIndex}'s kept bytes are not a view of the received bytes`);
  assert.deepEqual(kept, encodeLeafNode(leaf), `${what}: leaf ${leafIndex}'s kept bytes`);
  const head = kept.subarray(0, kept.length - new Writer().opaque(leaf.signature).finish().length);
  const [tbs, expected] =
    leaf.leafNodeSource === "key_package"
      ? [head, encodeLeafNodeTBS(leaf)]
      : [new Writer().raw(head).opaque(groupId).u32(leafIndex).finish(), encodeLeafNodeTBS({ ...leaf, groupId, leafIndex } as LeafNodeTBS)];
  assert.deepEqual(tbs, expected, `${what}: leaf ${leafIndex}'s kept head is not its LeafNodeTBS`);
}

const settled = (p: Promise<Uint8Array>): Promise<Uint8Array | string> => p.catch(() => "threw"); // which malformed node it names first may differ (the patched hash is memoised)

/**
 * Each leaf's signature verdict (as its source asks: a key package's, or with the group id and
 * its own and another leaf index) and the tree hash, patched and 1.6.4; returns the verdicts.
 */
async function sameVerdicts(bytes: Uint8Array, groupId: Uint8Array, cs: Suite, what: string): Promise<boolean[] | undefined> {
  const both = decodeBoth(bytes);
  if (both === undefined) return undefined;
  const [tree, bare] = both;
  const verdicts: boolean[] = [];
  for (let i = 0; i < tree.length; i += 2) {
    const node = tree[i];
    const bareNode = bare[i];
    if (node?.nodeType !== "leaf" || bareNode?.nodeType !== "leaf") {
      assert.equal(node?.nodeType, bareNode?.nodeType, `${what}: node ${i}`);
      continue;
    }
    const leafIndex = i / 2;
    assertKeptBytes(node.leaf, bytes, groupId, leafIndex, what);
    const checks: Array<[Promise<boolean>, Promise<boolean>]> =
      node.leaf.leafNodeSource === "key_package"
        ? [[verifyLeafNodeSignatureKeyPackage(node.leaf as LeafNodeKeyPackage, cs.signature), bareVerifyKeyPackage(bareNode.leaf as BareLeafNodeKeyPackage, cs.signature)]]
        : [
            [verifyLeafNodeSignature(node.leaf, groupId, leafIndex, cs.signature), bareVerify(bareNode.leaf, groupId, leafIndex, cs.signature)],
            [verifyLeafNodeSignature(node.leaf, groupId, leafIndex + 1, cs.signature), bareVerify(bareNode.leaf, groupId, leafIndex + 1, cs.signature)],
          ];
    for (const [patched, unpatched] of checks) {
      const verdict = await patched;
      assert.equal(verdict, await unpatched, `${what}: leaf ${leafIndex} (${node.leaf.leafNodeSource})`);
      verdicts.push(verdict);
    }
  }
  // after the checks (which take the kept heads), and the whole hash from the kept bytes; a
  // changed node type can make both throw (a parent node where a leaf must be)
  assert.deepEqual(await settled(treeHashRoot(tree, cs.hash)), await settled(bareTreeHashRoot(bare, cs.hash)), `${what}: tree hash`);
  return verdicts;
}

test("a received tree's leaf signatures and tree hash, checked from the kept bytes, are 1.6.4's, also after random byte changes", async () => {
  // a commit leaf (the owner's update path), blanks, parent nodes and unmerged leaves
  const { joiner } = await joinedAfterChurn(7, 2);
  const { groupId } = joiner.state.mls.groupContext;
  const cs = await getSuite(joiner.state.mls.groupContext.cipherSuite);
  const bytes = encodeRatchetTree(joiner.state.mls.ratchetTree);

  const intact = await sameVerdicts(bytes, groupId, cs, "received tree");
  assert.ok(intact !== undefined);
  const tree = decodeBoth(bytes)![0];
  const sources = new Set(tree.flatMap((n) => (n?.nodeType === "leaf" ? [n.leaf.leafNodeSource] : [])));
  assert.deepEqual([...sources].sort(), ["commit", "key_package"]);
  // every leaf verifies at its own index; a commit leaf fails at another (its TBS names its index)
  assert.deepEqual(intact.filter((v) => !v).length, 1);

  const random = rng(0x6c656166);
  let decoded = 0;
  let failed = 0;
  for (let i = 0; i < 200; i++) {
    const changed = Uint8Array.from(bytes);
    const at = random.int(changed.length);
    changed[at] = changed[at]! ^ (1 + random.int(255));
    const verdicts = await sameVerdicts(changed, groupId, cs, `change ${i}`);
    if (verdicts === undefined) continue;
    decoded++;
    if (verdicts.filter((v) => !v).length > 1) failed++;
  }
  assert.ok(decoded > 60, `${decoded} changed trees decoded`);
  // a change inside a leaf's signed content or signature: that leaf fails, in both
  assert.ok(failed > 20, `${failed} changed trees with a leaf that fails`);
});

test("a received leaf's signature check and tree hash read its kept bytes: a kept byte changed after decoding changes both", async () => {
  const { joiner } = await joinedAfterChurn(5, 1);
  const { groupId } = joiner.state.mls.groupContext;
  const cs = await getSuite(joiner.state.mls.groupContext.cipherSuite);
  const tree = joiner.state.mls.ratchetTree;
  // the changed byte is in a field the leaf holds as a value (credential_type): the leaf and its
  // encoding stay the same, so only a check or hash that reads the kept bytes sees it
  const bytes = encodeRatchetTree(tree);
  const [decoded, bare] = decodeBoth(bytes)!;
  const bareHash = await bareTreeHashRoot(bare, cs.hash);
  for (let i = 0; i < decoded.length; i += 2) {
    const node = decoded[i];
    if (node?.nodeType !== "leaf") continue;
    const kept = takeLeafNodeEncoding(node.leaf);
    assert.ok(kept !== undefined, `leaf ${i / 2} kept no bytes`);
    const encoded = encodeLeafNode(node.leaf);
    const credentialType = new Writer().opaque(node.leaf.hpkePublicKey).opaque(node.leaf.signaturePublicKey).finish().length + 1;
    kept[credentialType] = kept[credentialType]! ^ 0x80;
    assert.deepEqual(encodeLeafNode(node.leaf), encoded);
    const verdict =
      node.leaf.leafNodeSource === "key_package"
        ? await verifyLeafNodeSignatureKeyPackage(node.leaf as LeafNodeKeyPackage, cs.signature)
        : await verifyLeafNodeSignature(node.leaf, groupId, i / 2, cs.signature);
    assert.equal(verdict, false, `leaf ${i / 2} was not checked from its kept bytes`);
  }
  assert.notDeepEqual(await treeHashRoot(decoded, cs.hash), bareHash);
});

test("an update leaf and signatures with 1- and 4-byte length prefixes are checked and hashed from their kept bytes as 1.6.4 does", async () => {
  const { joiner } = await joinedAfterChurn(5, 1);
  const { groupId } = joiner.state.mls.groupContext;
  const cs = await getSuite(joiner.state.mls.groupContext.cipherSuite);
  const tree = joiner.state.mls.ratchetTree;
  const at = tree.findIndex((n, i) => i % 2 === 0 && n?.nodeType === "leaf" && n.leaf.leafNodeSource === "key_package");
  const own = tree[at];
  assert.ok(own?.nodeType === "leaf" && own.leaf.leafNodeSource === "key_package");
  // an update leaf (RFC 9420 12.1.2) signed at its index with a fresh key
  const key = await cs.signature.keygen();
  const { lifetime: _lifetime, signature: _signature, ...data } = own.leaf;
  const tbs = { ...data, signaturePublicKey: key.publicKey, leafNodeSource: "update", groupId, leafIndex: at / 2 };
  // (signLeafNodeCommit signs any TBS; 1.6.4 has no update signer)
  const { signature } = await signLeafNodeCommit(tbs as unknown as LeafNodeTBSCommit, key.signKey, cs.signature);
  const update: LeafNode = { ...data, signaturePublicKey: key.publicKey, leafNodeSource: "update", signature };
  const withUpdate = encodeRatchetTree(tree.map((n, i) => (i === at ? { nodeType: "leaf" as const, leaf: update } : n)));
  const verdicts = await sameVerdicts(withUpdate, groupId, cs, "update leaf");
  assert.ok(verdicts !== undefined);
  const received = decodeBoth(withUpdate)![0][at];
  assert.equal(received?.nodeType === "leaf" ? received.leaf.leafNodeSource : undefined, "update");
  // the update leaf verifies at its own index and fails at another, like the commit leaf
  assert.equal(verdicts.filter((v) => !v).length, 2);

  // a signature's length prefix of 1 byte (0, 63), 2 bytes (64, 16383) and 4 bytes (16384, 70000)
  for (const length of [0, 63, 64, 16383, 16384, 70000]) {
    const signature = new Uint8Array(length).fill(7);
    for (const leafAt of [0, at]) {
      const changed = tree.map((n, i) => (i === leafAt && n?.nodeType === "leaf" ? { nodeType: "leaf" as const, leaf: { ...n.leaf, signature } } : n));
      const bytes = encodeRatchetTree(changed);
      const lengths = await sameVerdicts(bytes, groupId, cs, `signature of ${length} bytes at node ${leafAt}`);
      assert.ok(lengths !== undefined);
      assert.ok(lengths.some((v) => !v));
    }
  }
});

test("a state read back from its stored parts keeps each leaf's stored bytes: its encoding, read by the tree hash and the signature checks", async () => {
  // the owner's leaves were made, not received: stored from their encodings, read back with them kept
  for (const { state } of Object.values(await joinedAfterChurn(7, 2))) {
    const cs = await getSuite(state.mls.groupContext.cipherSuite);
    const { parts } = stageGroupState(state, undefined);
    const loaded = loadGroupState(parts.filter((p): p is [string, Uint8Array] => p[1] !== null), 0n).state.mls;
    const groupId = loaded.groupContext.groupId;
    let leaves = 0;
    for (let i = 0; i < loaded.ratchetTree.length; i += 2) {
      const node = loaded.ratchetTree[i];
      if (node?.nodeType !== "leaf") continue;
      leaves++;
      const kept = takeLeafNodeEncoding(node.leaf);
      assert.ok(kept !== undefined, `leaf ${i / 2} of the loaded state kept no bytes`);
      assert.deepEqual(kept, encodeLeafNode(node.leaf), `leaf ${i / 2}'s kept bytes are its encoding`);
      const ok = node.leaf.leafNodeSource === "key_package" ? verifyLeafNodeSignatureKeyPackage(node.leaf as LeafNodeKeyPackage, cs.signature) : verifyLeafNodeSignature(node.leaf, groupId, i / 2, cs.signature);
      assert.equal(await ok, true, `leaf ${i / 2}'s signature checks from its kept bytes`);
    }
    assert.ok(leaves >= 6);
    assert.deepEqual(await treeHashRoot(loaded.ratchetTree, cs.hash), loaded.groupContext.treeHash, "the loaded tree hashes to its epoch's tree hash");
  }
});
