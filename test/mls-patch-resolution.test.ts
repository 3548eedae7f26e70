/**
 * The patched ts-mls `resolution` (RFC 9420 4.1.1: a non-blank node and its unmerged leaves; a
 * blank leaf nothing; a blank parent its children's resolutions, left then right), collected into
 * one array instead of a new array per node, against the definition written out here (RFC 9420
 * appendix C's tree math) at every node of random trees: blank and non-blank leaves and parents,
 * unmerged leaves, sizes 1 to 1024 leaves.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { resolution } from "ts-mls/ratchetTree.js";
import type { RatchetTree } from "ts-mls";
import { rng } from "./prng.js";

/** RFC 9420 appendix C: the level of a node (trailing one bits). */
function level(x: number): number {
  let k = 0;
  while (((x >> k) & 1) === 1) k++;
  return k;
}

type Node = { nodeType: "leaf" } | { nodeType: "parent"; parent: { unmergedLeaves: number[] } };

function reference(tree: ReadonlyArray<Node | undefined>, x: number): number[] {
  const node = tree[x];
  if (node === undefined) {
    if (x % 2 === 0) return [];
    const k = level(x);
    return [...reference(tree, x ^ (0x01 << (k - 1))), ...reference(tree, x ^ (0x03 << (k - 1)))];
  }
  return node.nodeType === "parent" ? [x, ...node.parent.unmergedLeaves.map((u) => 2 * u)] : [x];
}

test("patched resolution equals the RFC's definition at every node of random trees", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const r = rng(seed);
    for (const leaves of [1, 2, 4, 16, 64, 1024]) {
      const width = 2 * leaves - 1;
      // denser or sparser trees per seed: all blank parents (an add of N-1), or a mix
      const parentShare = seed % 3;
      const tree: Array<Node | undefined> = Array.from({ length: width }, (_, i) => {
        if (i % 2 === 0) return r.int(5) === 0 ? undefined : { nodeType: "leaf" };
        if (r.int(3) >= parentShare) return undefined;
        return { nodeType: "parent", parent: { unmergedLeaves: Array.from({ length: r.int(3) }, () => r.int(leaves)) } };
      });
      for (let x = 0; x < width; x++) {
        assert.deepEqual(resolution(tree as unknown as RatchetTree, x as Parameters<typeof resolution>[1]), reference(tree, x), `seed ${seed}, ${leaves} leaves, node ${x}`);
      }
    }
  }
});
