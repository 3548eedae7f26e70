/**
 * Our ts-mls patch hashes trees from snapshots (patches/ts-mls+1.6.4.patch, treeHash.js): a
 * snapshot keeps each position's subtree hash and a tree is brought up to date by the node
 * references that differ. Over a random history of trees (shared nodes, blanks, two groups in
 * turn, growth, arrays changed in place after they were hashed, concurrent calls) every subtree
 * hash must equal an uncached RFC 9420 7.8 computation.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { encodeLeafNodeHashInput, encodeParentNodeHashInput, treeHash } from "ts-mls/treeHash.js";
import type { RatchetTree } from "ts-mls";
import { getSuite } from "../src/mls/suite.js";
import { makeGroup } from "./group-fixtures.js";
import { rng } from "./prng.js";

type Node = RatchetTree[number];

function reference(tree: RatchetTree, index: number): Uint8Array {
  const sha = (b: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(b).digest());
  const n = tree[index];
  if (index % 2 === 0) return sha(encodeLeafNodeHashInput({ nodeType: "leaf", leafIndex: index / 2, leafNode: n?.nodeType === "leaf" ? n.leaf : undefined }));
  let level = 0;
  while (((index >> level) & 1) === 1) level++;
  const step = 1 << (level - 1);
  return sha(encodeParentNodeHashInput({ nodeType: "parent", parentNode: n?.nodeType === "parent" ? n.parent : undefined, leftHash: reference(tree, index - step), rightHash: reference(tree, index + step) }));
}

test("snapshot tree hashes equal an uncached computation over a random history", async () => {
  const prng = rng(9);
  const groups = await Promise.all([makeGroup(5), makeGroup(3)]);
  const cs = await getSuite(groups[0]!.owner.state.mls.groupContext.cipherSuite);
  const trees: RatchetTree[] = groups.map((g) => g.owner.state.mls.ratchetTree.slice());
  const leaves: Node[] = trees.flatMap((t) => t.filter((n) => n?.nodeType === "leaf"));
  for (let step = 0; step < 300; step++) {
    const g = prng.int(trees.length);
    const tree = trees[g]!.slice();
    for (let c = 1 + prng.int(3); c > 0; c--) {
      const kind = prng.int(5);
      const leafAt = 2 * prng.int((tree.length + 1) / 2);
      const parentAt = 2 * prng.int((tree.length - 1) / 2) + 1;
      if (kind === 0) tree[leafAt] = leaves[prng.int(leaves.length)];
      else if (kind === 1) tree[leafAt] = undefined;
      else if (kind === 2) tree[parentAt] = { nodeType: "parent", parent: { hpkePublicKey: prng.bytes(32), parentHash: prng.bytes(prng.int(2) * 32), unmergedLeaves: prng.int(2) === 0 ? [] : [prng.int((tree.length + 1) / 2)] } };
      else if (kind === 3) tree[parentAt] = undefined;
      // growth to the next full tree (ts-mls doubles), rarely
      else if (tree.length < 63 && prng.int(4) === 0) tree.push(...new Array<Node>(tree.length + 1).fill(undefined));
    }
    trees[g] = tree;
    // a few subtrees at once (concurrent calls) and the root
    const root = (tree.length - 1) / 2;
    const asked = [root, prng.int(tree.length), prng.int(tree.length)];
    const got = await Promise.all(asked.map((i) => treeHash(tree, i as never, cs.hash)));
    asked.forEach((i, k) => assert.deepEqual(got[k], reference(tree, i), `step ${step} node ${i} of ${tree.length}`));
    // changed in place after it was hashed: the next call sees what it holds
    if (prng.int(3) === 0) {
      tree[2 * prng.int((tree.length + 1) / 2)] = leaves[prng.int(leaves.length)];
      assert.deepEqual(await treeHash(tree, root as never, cs.hash), reference(tree, root), `step ${step} after an in-place change`);
    }
  }
});
