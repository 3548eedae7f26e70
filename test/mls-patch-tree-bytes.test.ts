/**
 * Our ts-mls patch keeps the bytes each node of a tree received whole (a Welcome's ratchet_tree
 * extension) was read from (patches/ts-mls+1.6.4.patch, ratchetTree.js `decodedNodeEncoding`), and
 * our storage stores those instead of encoding the joiner's nodes again (src/mls/storageMeta.ts
 * `bytesOfNode`). A node's kept bytes must decode to that node, and for a tree an owner made
 * (canonical) they must be exactly its encoding. Engine reloads after joins (engine-storage-history,
 * engine-storage) read these bytes back.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeNode, decodeRatchetTree, decodedNodeEncoding, encodeNode, encodeRatchetTree } from "ts-mls/ratchetTree.js";
import type { Node, RatchetTree } from "ts-mls";
import { removeMembers, updateGroup } from "../src/group/index.js";
import { bytesOfNode } from "../src/mls/storageMeta.js";
import { addNew, makeGroup } from "./group-fixtures.js";
import { rng } from "./prng.js";

const nodesOf = (tree: RatchetTree): Node[] => tree.filter((n): n is Node => n !== undefined);

test("a joiner's nodes keep the bytes they were read from: each its exact encoding, and storage uses them", async () => {
  const { owner, members } = await makeGroup(9);
  // parent nodes (an update path), blanks (removes) and unmerged leaves (adds after the path)
  owner.state = (await updateGroup(owner.state)).state;
  owner.state = (await removeMembers(owner.state, [members[2]!.identity.publicKey, members[5]!.identity.publicKey])).state;
  const [joiner] = await addNew(owner, [], 3);
  const tree = joiner!.state.mls.ratchetTree;
  const nodes = nodesOf(tree);
  assert.ok(nodes.some((n) => n.nodeType === "parent") && nodes.some((n) => n.nodeType === "leaf") && tree.some((n) => n === undefined));
  for (const node of nodes) {
    const kept = decodedNodeEncoding(node);
    assert.ok(kept !== undefined, "every node of the received tree keeps its bytes");
    assert.deepEqual(kept, encodeNode(node));
    assert.equal(bytesOfNode(node), kept, "storage takes the kept bytes");
  }
  // the owner's own nodes were made, not read: encoded as before
  for (const node of nodesOf(owner.state.mls.ratchetTree)) if (!nodes.includes(node)) assert.equal(decodedNodeEncoding(node), undefined);
});

test("kept bytes decode to their node, also for changed trees that still decode", async () => {
  const { owner } = await makeGroup(5);
  owner.state = (await updateGroup(owner.state)).state;
  const bytes = encodeRatchetTree(owner.state.mls.ratchetTree);
  const random = rng(0x74726565);
  let decodedTrees = 0;
  for (let i = 0; i < 400; i++) {
    const changed = Uint8Array.from(bytes);
    changed[random.int(changed.length)] = random.int(256);
    let decoded: ReturnType<typeof decodeRatchetTree>;
    try {
      decoded = decodeRatchetTree(changed, 0);
    } catch {
      continue;
    }
    if (decoded === undefined) continue;
    decodedTrees++;
    for (const node of nodesOf(decoded[0])) {
      const kept = decodedNodeEncoding(node);
      assert.ok(kept !== undefined);
      assert.deepEqual(decodeNode(kept, 0), [node, kept.length]);
    }
  }
  assert.ok(decodedTrees > 20, `${decodedTrees} changed trees decoded`);
});
