/**
 * Our ts-mls patch memoises tree hashes per node object (patches/ts-mls+1.6.4.patch). After every
 * step of a seeded churn (adds, removes, updates, rotations), each member's group context tree hash
 * and ts-mls's (memoised) treeHashRoot must equal an uncached RFC 9420 7.8 computation.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { encodeLeafNodeHashInput, encodeParentNodeHashInput, treeHashRoot } from "ts-mls/treeHash.js";
import type { RatchetTree } from "ts-mls";
import { removeMembers, updateGroup, processCommit } from "../src/group/index.js";
import { getSuite } from "../src/mls/suite.js";
import { addNew, makeGroup } from "./group-fixtures.js";
import type { Member } from "./group-fixtures.js";

function referenceTreeHash(tree: RatchetTree, index: number): Uint8Array {
  const sha = (b: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(b).digest());
  if (index % 2 === 0) {
    const n = tree[index];
    return sha(encodeLeafNodeHashInput({ nodeType: "leaf", leafIndex: index / 2, leafNode: n?.nodeType === "leaf" ? n.leaf : undefined }));
  }
  let level = 0;
  while (((index >> level) & 1) === 1) level++;
  const step = 1 << (level - 1);
  const n = tree[index];
  return sha(
    encodeParentNodeHashInput({
      nodeType: "parent",
      parentNode: n?.nodeType === "parent" ? n.parent : undefined,
      leftHash: referenceTreeHash(tree, index - step),
      rightHash: referenceTreeHash(tree, index + step),
    }),
  );
}
function referenceRoot(tree: RatchetTree): Uint8Array {
  // ts-mls grows trees by doubling: the leaf count is a power of two and the root is width - 1
  const width = (tree.length + 1) / 2;
  assert.equal(width & (width - 1), 0, "leaf count is a power of two");
  return referenceTreeHash(tree, width - 1);
}

let seed = 7;
const rand = (n: number): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};

test("memoised tree hashes equal an uncached computation after every churn step", async () => {
  const { owner, members } = await makeGroup(5);
  const cs = await getSuite(owner.state.mls.groupContext.cipherSuite);
  let live: Member[] = [...members];
  for (let step = 0; step < 30; step++) {
    const action = rand(3);
    if (action === 0) {
      live.push(...(await addNew(owner, live, 1 + rand(2))));
    } else if (action === 1 && live.length > 1) {
      const victim = live[rand(live.length)] as Member;
      const r = await removeMembers(owner.state, [victim.identity.publicKey]);
      owner.state = r.state;
      live = live.filter((m) => m !== victim);
      for (const m of live) m.state = await processCommit(m.state, r.commit);
    } else {
      const r = await updateGroup(owner.state, { rotate: rand(2) === 0 });
      owner.state = r.state;
      for (const m of live) m.state = await processCommit(m.state, r.commit);
    }
    for (const m of [owner, ...live]) {
      const tree = m.state.mls.ratchetTree;
      const want = referenceRoot(tree);
      assert.deepEqual(m.state.mls.groupContext.treeHash, want, `step ${step}: group context tree hash`);
      assert.deepEqual(await treeHashRoot(tree, cs.hash), want, `step ${step}: memoised treeHashRoot`);
    }
  }
});
