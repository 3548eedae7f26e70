/**
 * Our ts-mls patch finds the joiner's own leaf (ratchetTree.js `findLeafIndex`, a Welcome's
 * join) by encoding the joiner's leaf node once and comparing it with each leaf's kept bytes
 * (`decodedNodeEncoding`) or its encoding, instead of encoding both again for every leaf of the
 * tree. The answer must be 1.6.4's for every leaf of received and made trees, for leaves not in
 * the tree and for trees with random byte changes that still decode.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeRatchetTree, encodeRatchetTree, findLeafIndex } from "ts-mls/ratchetTree.js";
import { findLeafIndex as bareFindLeafIndex } from "ts-mls-bare/ratchetTree.js";
import type { LeafNode, RatchetTree } from "ts-mls";
import { joinedAfterChurn, makeGroup } from "./group-fixtures.js";
import { rng } from "./prng.js";

const leavesOf = (tree: RatchetTree): LeafNode[] => tree.flatMap((n) => (n?.nodeType === "leaf" ? [n.leaf] : []));

/** The answer, or the error's class and message: a changed tree can hold a parent node in a leaf's place, which both refuse. */
function answer(find: () => number | undefined): number | undefined | string {
  try {
    return find();
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}

function sameFind(tree: RatchetTree, leaf: LeafNode, what: string): number | undefined {
  const found = answer(() => findLeafIndex(tree, leaf));
  assert.equal(found, answer(() => bareFindLeafIndex(tree, leaf)), what);
  return typeof found === "string" ? undefined : found;
}

test("findLeafIndex answers as 1.6.4's: every leaf, absent and changed leaves, received and changed trees", async () => {
  const { owner, joiner } = await joinedAfterChurn(7, 3);
  const received = joiner.state.mls.ratchetTree;
  const made = owner.state.mls.ratchetTree;
  const outsider = leavesOf((await makeGroup(2)).owner.state.mls.ratchetTree)[0]!;
  let found = 0;
  for (const [tree, name] of [[received, "received"], [made, "made"]] as const) {
    for (const leaf of [...leavesOf(received), ...leavesOf(made)]) if (sameFind(tree, leaf, `${name} tree`) !== undefined) found++;
    assert.equal(sameFind(tree, outsider, `${name} tree, a leaf not in it`), undefined);
    for (const leaf of leavesOf(tree)) {
      // the same leaf with one field changed is not found
      const changed = { ...leaf, signature: Uint8Array.from(leaf.signature, (b, i) => (i === 0 ? b ^ 1 : b)) };
      assert.equal(sameFind(tree, changed, `${name} tree, a changed leaf`), undefined);
    }
  }
  assert.ok(found >= 2 * leavesOf(received).length, `${found} leaves found`);
  const random = rng(0x66696e64);
  const bytes = encodeRatchetTree(received);
  let decodedTrees = 0;
  for (let i = 0; i < 300; i++) {
    const changed = Uint8Array.from(bytes);
    changed[random.int(changed.length)] = random.int(256);
    let tree: RatchetTree | undefined;
    try {
      tree = decodeRatchetTree(changed, 0)?.[0];
    } catch {
      continue;
    }
    if (tree === undefined) continue;
    decodedTrees++;
    for (const leaf of [...leavesOf(received), ...leavesOf(tree)]) sameFind(tree, leaf, `changed tree ${i}`);
  }
  assert.ok(decodedTrees > 20, `${decodedTrees} changed trees decoded`);
});
