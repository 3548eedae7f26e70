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

/** Every node of a tree that decoded keeps bytes that decode to it and are exactly its encoding. */
function assertKeptBytesCanonical(tree: RatchetTree, what: string): void {
  for (const node of nodesOf(tree)) {
    const kept = decodedNodeEncoding(node);
    assert.ok(kept !== undefined, what);
    assert.deepEqual(decodeNode(kept, 0), [node, kept.length], what);
    assert.deepEqual(kept, encodeNode(node), `${what}: kept bytes are the node's encoding`);
  }
}

function tryDecodeTree(bytes: Uint8Array): RatchetTree | undefined {
  try {
    return decodeRatchetTree(bytes, 0)?.[0];
  } catch {
    return undefined;
  }
}

/** A QUIC varint in its minimal form (RFC 9420 2.1.2). */
const minimalVarint = (n: number): number[] => (n < 0x40 ? [n] : n < 0x4000 ? [0x40 | (n >> 8), n & 0xff] : [0x80 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);

test("kept bytes are each node's encoding, also for changed trees that still decode", async () => {
  const { owner } = await makeGroup(5);
  owner.state = (await updateGroup(owner.state)).state;
  const bytes = encodeRatchetTree(owner.state.mls.ratchetTree);
  const random = rng(0x74726565);
  let decodedTrees = 0;
  for (let i = 0; i < 400; i++) {
    const changed = Uint8Array.from(bytes);
    changed[random.int(changed.length)] = random.int(256);
    const tree = tryDecodeTree(changed);
    if (tree === undefined) continue;
    decodedTrees++;
    assertKeptBytesCanonical(tree, `change ${i}`);
  }
  assert.ok(decodedTrees > 20, `${decodedTrees} changed trees decoded`);
});

test("a length written in more bytes than needed is refused (RFC 9420 2.1.2), so kept bytes stay canonical", async () => {
  const { owner } = await makeGroup(3);
  owner.state = (await updateGroup(owner.state)).state;
  const bytes = encodeRatchetTree(owner.state.mls.ratchetTree);
  const outer = minimalVarint(bytes.length - (bytes[0]! >> 6 === 0 ? 1 : bytes[0]! >> 6 === 1 ? 2 : 4));
  const body = bytes.subarray(outer.length);
  assert.deepEqual(Uint8Array.from([...outer, ...body]), bytes);
  // every byte that could be a 1-byte length rewritten in the 2- and 4-byte forms (0x40 0x20 or
  // 0x80 0 0 0x20 for 32), the tree's own length fixed: the widened lengths of a node's fields
  // (keys, signature, credential, vectors) would decode with 1.6.4's determineLength
  let tried = 0;
  for (let p = 0; p < body.length; p++) {
    const b = body[p]!;
    if (b >= 0x40) continue;
    for (const wide of [[0x40, b], [0x80, 0, 0, b]]) {
      const inner = Uint8Array.from([...body.subarray(0, p), ...wide, ...body.subarray(p + 1)]);
      const tree = tryDecodeTree(Uint8Array.from([...minimalVarint(inner.length), ...inner]));
      tried++;
      if (tree !== undefined) assertKeptBytesCanonical(tree, `length at ${p} widened to ${wide.length} bytes`);
    }
  }
  assert.ok(tried > 100);
  // the leaf's HPKE key length (0x20) in two bytes: refused outright
  // body: presence 1, node type leaf (1), encryption_key length 0x20
  assert.deepEqual([...body.subarray(0, 3)], [1, 1, 0x20]);
  const firstLeaf = 2;
  const widened = Uint8Array.from([...body.subarray(0, firstLeaf), 0x40, 0x20, ...body.subarray(firstLeaf + 1)]);
  assert.throws(() => decodeRatchetTree(Uint8Array.from([...minimalVarint(widened.length), ...widened]), 0), /minimal/);
});
