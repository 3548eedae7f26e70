/**
 * Our ts-mls patch keeps per-tree counts of leaf and parent keys up to date from the previous
 * tree by its changed nodes (`treeKeySummary`, patches/ts-mls+1.6.4.patch, clientState.js), and
 * both key-uniqueness checks read them (ts-mls' `validateLeafNodeCredentialAndKeyUniqueness`, our
 * `assertUniqueLeafKeys`, RFC 9420 7.3 and 12.2). Over a random history of trees (shared nodes,
 * keys made to collide, blanks, growth, two groups in turn, arrays changed in place after they
 * were summarised, leaves held as stored leaves whose keys are read from their bytes, or counted
 * from them before anything decodes them, credential types listed twice, x509 and a private-range
 * type) every summary must equal a count from scratch, and the patched check must
 * answer as unpatched ts-mls 1.6.4 does. The counts are kept by key fingerprint in an
 * open-addressing table (`KeyCounts`), which must count as a Map does over random additions and
 * removals that grow it and delete from the middle of its probe runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { treeKeySummary, validateLeafNodeCredentialAndKeyUniqueness } from "ts-mls/clientState.js";
import { KeyCounts } from "ts-mls/keySummary.js";
import { validateLeafNodeCredentialAndKeyUniqueness as bareValidate } from "ts-mls-bare/clientState.js";
import type { RatchetTree } from "ts-mls";
import { decodeStoredNode, encodeNode, leafKeys } from "ts-mls/ratchetTree.js";
import { ErrorCode } from "../src/errors.js";
import { assertUniqueLeafKeys } from "../src/mls/group.js";
import type { MlsState } from "../src/mls/group.js";
import { makeGroup } from "./group-fixtures.js";
import { rng } from "./prng.js";

type Node = RatchetTree[number];

function fromScratch(tree: RatchetTree): { parentHpke: Map<string, number>; leaves: number; hpkeDuplicates: number; leafHpkeDuplicates: number; signatureDuplicates: number; credentials: Map<string, number> } {
  const hpke = new Map<string, number>();
  const leafHpke = new Map<string, number>();
  const parentHpke = new Map<string, number>();
  const sig = new Map<string, number>();
  const credentials = new Map<string, number>();
  const bump = (m: Map<string, number>, k: Uint8Array) => m.set(Buffer.from(k).toString("hex"), (m.get(Buffer.from(k).toString("hex")) ?? 0) + 1);
  let leaves = 0;
  for (const node of tree) {
    if (node?.nodeType === "leaf") {
      leaves++;
      bump(hpke, node.leaf.hpkePublicKey);
      bump(leafHpke, node.leaf.hpkePublicKey);
      bump(sig, node.leaf.signaturePublicKey);
      for (const c of new Set(node.leaf.capabilities.credentials)) credentials.set(c, (credentials.get(c) ?? 0) + 1);
    } else if (node?.nodeType === "parent") {
      bump(hpke, node.parent.hpkePublicKey);
      bump(parentHpke, node.parent.hpkePublicKey);
    }
  }
  const dups = (m: Map<string, number>) => [...m.values()].filter((v) => v > 1).length;
  return { parentHpke, leaves, hpkeDuplicates: dups(hpke), leafHpkeDuplicates: dups(leafHpke), signatureDuplicates: dups(sig), credentials };
}

test("tree key summaries equal a count from scratch over a random history, and the checks answer as 1.6.4", async () => {
  const prng = rng(5);
  const groups = await Promise.all([makeGroup(6), makeGroup(4)]);
  const trees: RatchetTree[] = groups.map((g) => g.owner.state.mls.ratchetTree.slice());
  const leafPool: Node[] = trees.flatMap((t) => t.filter((n) => n?.nodeType === "leaf"));
  const parentPool: Node[] = [];
  // half the new leaves as a stored tree holds them: keys read from their bytes (the patch's leafKeys)
  const maybeStored = (node: Extract<Node, { nodeType: "leaf" }>): Node => (prng.int(2) === 0 ? node : decodeStoredNode(encodeNode(node)));
  let dupSeen = 0;
  let cleanSeen = 0;
  for (let step = 0; step < 600; step++) {
    const g = prng.int(trees.length);
    const tree = trees[g]!.slice(); // a new array sharing the old one's nodes, as ts-mls makes them
    const changes = 1 + prng.int(3);
    for (let c = 0; c < changes; c++) {
      const kind = prng.int(7);
      const leafAt = 2 * prng.int((tree.length + 1) / 2);
      const parentAt = 2 * prng.int((tree.length - 1) / 2) + 1;
      const leaf = leafPool[prng.int(leafPool.length)];
      if (kind === 0 && leaf?.nodeType === "leaf") {
        // a fresh leaf object: new encryption key, or another leaf's keys (a collision)
        const fresh = prng.int(2) === 0;
        tree[leafAt] = maybeStored({ nodeType: "leaf", leaf: { ...leaf.leaf, hpkePublicKey: fresh ? prng.bytes(32) : leafKeys(leaf).hpkePublicKey, signaturePublicKey: fresh ? prng.bytes(32) : leafKeys(leaf).signaturePublicKey } });
        leafPool.push(tree[leafAt]);
      } else if (kind === 1) tree[leafAt] = undefined;
      else if (kind === 2) {
        const node: Node = { nodeType: "parent", parent: { hpkePublicKey: prng.int(3) === 0 && parentPool.length > 0 ? (parentPool[prng.int(parentPool.length)] as { parent: { hpkePublicKey: Uint8Array } }).parent.hpkePublicKey : prng.bytes(32), parentHash: new Uint8Array(), unmergedLeaves: [] } };
        tree[parentAt] = node;
        parentPool.push(node);
      } else if (kind === 3) tree[parentAt] = undefined;
      else if (kind === 4 && tree.length < 64) tree.push(undefined, leaf);
      else if (kind === 5 && tree.length > 3) tree.length -= 2;
      else if (kind === 6 && leaf?.nodeType === "leaf") {
        // a leaf whose capabilities lack the basic credential, list each type twice, or list x509
        // and a type of the private range (counted apart from the first 16: the patch's CredentialCounts)
        const listed = leaf.leaf.capabilities.credentials;
        const credentials = ([[], listed, [...listed, ...listed], [...listed, "x509", "61440"], ["61440", "61440"]] as Array<typeof listed>)[prng.int(5)]!;
        tree[leafAt] = maybeStored({ nodeType: "leaf", leaf: { ...leaf.leaf, hpkePublicKey: prng.bytes(32), signaturePublicKey: prng.bytes(32), capabilities: { ...leaf.leaf.capabilities, credentials } } });
        leafPool.push(tree[leafAt]);
      }
    }
    trees[g] = tree;
    // summarised before the count from scratch, which decodes every leaf it reads: a stored leaf
    // new to the tree is counted from its bytes (no views: the patch's countNode), and taken out
    // of a later summary through its decoded LeafNode, which must count the same keys
    const s = treeKeySummary(tree);
    const expected = fromScratch(tree);
    assert.deepEqual({ leaves: s.leaves, hpkeDuplicates: s.hpkeDuplicates, leafHpkeDuplicates: s.leafHpkeDuplicates, signatureDuplicates: s.signatureDuplicates }, { leaves: expected.leaves, hpkeDuplicates: expected.hpkeDuplicates, leafHpkeDuplicates: expected.leafHpkeDuplicates, signatureDuplicates: expected.signatureDuplicates }, `step ${step}`);
    assert.equal(s.parentHpke.size, expected.parentHpke.size, `step ${step} parent keys`);
    for (const [k, v] of expected.parentHpke) assert.equal(s.parentHpke.count(Buffer.from(k, "hex")), v, `step ${step} parent key ${k}`);
    for (const c of new Set([...expected.credentials.keys(), "basic", "x509", "61440", "7"])) assert.equal(s.credentials.get(c) ?? 0, expected.credentials.get(c) ?? 0, `step ${step} credential ${c}`);
    // the patched check against unpatched 1.6.4, for a leaf of the tree (existing index) and a new one
    const probe = leafPool[prng.int(leafPool.length)];
    if (probe?.nodeType === "leaf") {
      const existing = prng.int(2) === 0 ? prng.int((tree.length + 1) / 2) : undefined;
      const ours = await validateLeafNodeCredentialAndKeyUniqueness(tree, probe.leaf, existing as never);
      const theirs = await bareValidate(tree as never, probe.leaf as never, existing as never);
      assert.equal(ours?.message, theirs?.message, `step ${step}`);
    }
    // our check: refuses exactly the trees with shared leaf keys
    const shared = expected.leafHpkeDuplicates > 0 || expected.signatureDuplicates > 0;
    if (shared) dupSeen++;
    else cleanSeen++;
    const run = () => assertUniqueLeafKeys({ ratchetTree: tree } as unknown as MlsState, ErrorCode.InvalidCommit);
    if (shared) assert.throws(run, { code: "INVALID_COMMIT" }, `step ${step}`);
    else assert.doesNotThrow(run, `step ${step}`);
    // a summarised array changed in place: the next summary of it still counts what it holds
    if (prng.int(4) === 0 && leafPool.length > 0) tree[2 * prng.int((tree.length + 1) / 2)] = leafPool[prng.int(leafPool.length)];
  }
  assert.ok(dupSeen > 20 && cleanSeen > 20, `history covered both cases (${dupSeen} with shared keys, ${cleanSeen} without)`);
});

test("KeyCounts counts keys as a Map does over random additions and removals (growth, deletions inside probe runs)", () => {
  const prng = rng(29);
  const pool = Array.from({ length: 120 }, (_, i) => (i % 3 === 0 ? prng.bytes(32) : i % 3 === 1 ? prng.bytes(65) : prng.bytes(1 + prng.int(40))));
  const counts = new KeyCounts() as unknown as KeyCounts & { add(delta: number): number };
  const model = new Map<number, number>();
  let peak = 0;
  for (let step = 0; step < 40_000; step++) {
    const k = prng.int(pool.length);
    const present = model.get(k) ?? 0;
    // fewer keys live in the second half: the table shrinks by deletions after it grew
    const delta = present > 0 && prng.int(step < 20_000 ? 3 : 2) === 0 ? -1 - prng.int(present) : step < 20_000 || prng.int(4) === 0 ? 1 + prng.int(2) : 0;
    if (delta === 0) continue;
    assert.equal(counts.count(pool[k]!), present, `step ${step}: count before`);
    // `add` counts the key fingerprinted last (by `count` above)
    assert.equal(counts.add(delta), present, `step ${step}: add returns the count before`);
    if (present + delta === 0) model.delete(k);
    else model.set(k, present + delta);
    peak = Math.max(peak, model.size);
    if (step % 97 === 0) for (const [i, key] of pool.entries()) assert.equal(counts.count(key), model.get(i) ?? 0, `step ${step}: key ${i}`);
    assert.equal(counts.size, model.size, `step ${step}: size`);
  }
  assert.ok(peak > 64, `the table grew past its first size (peak ${peak} keys)`);
});
