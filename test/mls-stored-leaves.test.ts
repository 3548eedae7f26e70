/**
 * Stored leaves decoded on first use (the ts-mls patch's `decodeStoredNode`, src/mls/storageLoad.ts):
 * a state read back from its parts holds its leaves as their bytes, and what a commit reads of
 * every leaf (encryption and signature keys, basic credential, capabilities' credential types: the
 * key summary and our member list) comes from the bytes (`leafKeys`, and without views for a tree's
 * first key summary and member list: `leafNodeKeyRanges`, `leafIdentity`). These must be exactly the
 * decoded LeafNode's values for every leaf shape (other credential types go to the decoder), the
 * state must apply commits exactly as the state in memory does while decoding only the leaves the
 * commit reads, and a chunk whose bytes are not its content key's must be refused at load (a leaf
 * decoded later must be what was stored).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeNode, decodedNodeEncoding, decodeStoredNode, encodeNode, leafIdentity, leafKeys, storedLeafDecoded } from "ts-mls/ratchetTree.js";
import type { LeafNode, Node } from "ts-mls";
import { CodecError } from "ts-mls/mlsError.js";
import { toHex } from "../src/bytes.js";
import { DecodeError } from "../src/errors.js";
import { encodeGroupState, groupMembers, processCommit, removeMembers, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { chunkManifestKey, chunkPartKey } from "../src/mls/stateParts.js";
import { decodeChunk, decodeChunkManifest } from "../src/mls/treeChunks.js";
import { loadGroupState, stageGroupState } from "../src/engine/store/stateCodec.js";
import { cases, mutate, prng } from "./fuzz-support.js";
import { fortyMembers, partsOf } from "./stored-group-support.js";

const encoded = (s: GroupState): string => toHex(encodeGroupState({ ...s, nonceCounter: 0n }));

/** An owner, a receiver and 38 more members (a tree of 127 nodes), the others by public key. */
async function group(): Promise<{ owner: GroupState; rx: GroupState; others: Uint8Array[] }> {
  const { owner, rx, others } = await fortyMembers(9);
  return { owner, rx, others: others.map((id) => id.publicKey) };
}

const leavesOf = (state: GroupState): Node[] => state.mls.ratchetTree.filter((n): n is Node => n?.nodeType === "leaf");
const decodedCount = (state: GroupState): number => leavesOf(state).filter((n) => storedLeafDecoded(n) === true).length;

/** What leafKeys answers, as the decoded leaf holds it. */
const keysOf = (leaf: LeafNode): unknown => ({
  hpkePublicKey: leaf.hpkePublicKey,
  signaturePublicKey: leaf.signaturePublicKey,
  credential: leaf.credential,
  capabilities: { credentials: leaf.capabilities.credentials },
});

/** What leafIdentity answers, as the decoded leaf holds it. */
const identityOf = (leaf: LeafNode): Uint8Array | undefined => (leaf.credential.credentialType === "basic" ? leaf.credential.identity : undefined);

/** The eager decoder's leaf for `bytes`, when they are exactly one leaf node. */
function eagerLeaf(bytes: Uint8Array): LeafNode | undefined {
  try {
    const d = decodeNode(bytes, 0);
    return d !== undefined && d[1] === bytes.length && d[0].nodeType === "leaf" ? d[0].leaf : undefined;
  } catch {
    return undefined;
  }
}

test("a state read back decodes no leaf; a commit on it decodes only the sender's leaf and ends where the state in memory does", async () => {
  const { owner, rx, others } = await group();
  let parts = partsOf(rx);
  let memory = rx;
  let state = owner;
  for (const kind of ["remove", "update", "remove", "update"] as const) {
    const c = kind === "update" ? await updateGroup(state) : await removeMembers(state, [others.pop()!]);
    state = c.state;
    const loaded = loadGroupState([...parts], 0n);
    assert.equal(decodedCount(loaded.state), 0, `${kind}: no leaf decoded at load`);
    assert.ok(leavesOf(loaded.state).every((n) => storedLeafDecoded(n) === false), "every leaf is a stored leaf");
    const next = await processCommit(loaded.state, c.commit);
    assert.deepEqual(groupMembers(next), groupMembers(await processCommit(memory, c.commit)));
    assert.ok(decodedCount(loaded.state) <= 1, `${kind}: ${decodedCount(loaded.state)} leaves decoded, only the committer's is read`);
    memory = await processCommit(memory, c.commit);
    assert.equal(encoded(next), encoded(memory), `${kind}: the reloaded state applies the commit as the state in memory`);
    const staged = stageGroupState(next, loaded.meta);
    for (const [key, value] of staged.parts) value === null ? parts.delete(key) : parts.set(key, value);
    parts = new Map(parts);
  }
});

test("a stored leaf's keys, credential and credential types, read from its bytes, are its decoded LeafNode's; another credential is decoded", async () => {
  const { owner } = await group();
  const updated = (await updateGroup(owner)).state;
  const base = leavesOf(updated).map((n) => (n.nodeType === "leaf" ? n.leaf : undefined)!);
  assert.ok(new Set(base.map((l) => l.leafNodeSource)).size >= 2, "key_package and commit leaves");
  const sample = base[1]!;
  const variants: LeafNode[] = [
    ...base.slice(0, 6),
    // credential types the decoder names: known, GREASE (0x0a0a) and unknown, repeated, none
    { ...sample, capabilities: { ...sample.capabilities, credentials: ["basic", "x509", "2570", "7", "basic"] } } as LeafNode,
    { ...sample, capabilities: { ...sample.capabilities, credentials: [] } } as LeafNode,
    // a 2-byte length prefix (identity of 100 bytes) and a 4-byte one (20,000 bytes)
    { ...sample, credential: { credentialType: "basic", identity: new Uint8Array(100).fill(5) } } as LeafNode,
    { ...sample, credential: { credentialType: "basic", identity: new Uint8Array(20_000).fill(6) } } as LeafNode,
  ];
  for (const [i, leaf] of variants.entries()) {
    const bytes = encodeNode({ nodeType: "leaf", leaf });
    const eager = eagerLeaf(bytes);
    assert.ok(eager !== undefined, `variant ${i} decodes`);
    const lazy = decodeStoredNode(bytes)!;
    assert.equal(storedLeafDecoded(lazy), false);
    assert.equal(decodedNodeEncoding(lazy), bytes, "a stored leaf keeps its bytes");
    // the identity alone, from a leaf whose keys were not read yet (a member list of a reloaded tree)
    assert.deepEqual(leafIdentity(decodeStoredNode(bytes) as Extract<Node, { nodeType: "leaf" }>), identityOf(eager), `variant ${i}: identity from the bytes`);
    assert.deepEqual(leafKeys(lazy as Extract<Node, { nodeType: "leaf" }>), keysOf(eager), `variant ${i}: keys from the bytes`);
    assert.deepEqual(leafIdentity(lazy as Extract<Node, { nodeType: "leaf" }>), identityOf(eager), `variant ${i}: identity from the keys`);
    assert.equal(storedLeafDecoded(lazy), false, `variant ${i}: still not decoded`);
    assert.deepEqual(lazy.nodeType === "leaf" ? lazy.leaf : undefined, eager, `variant ${i}: decoded on use`);
    assert.equal(storedLeafDecoded(lazy), true);
  }
  // an X.509 credential: its keys come from the decoded leaf
  const x509 = { ...sample, credential: { credentialType: "x509", certificates: [new Uint8Array([1, 2, 3])] } } as LeafNode;
  const lazy = decodeStoredNode(encodeNode({ nodeType: "leaf", leaf: x509 })) as Extract<Node, { nodeType: "leaf" }>;
  assert.equal(leafIdentity(decodeStoredNode(encodeNode({ nodeType: "leaf", leaf: x509 })) as Extract<Node, { nodeType: "leaf" }>), undefined, "an X.509 leaf has no basic identity");
  assert.deepEqual(leafKeys(lazy), eagerLeaf(encodeNode({ nodeType: "leaf", leaf: x509 })));
  assert.equal(storedLeafDecoded(lazy), true, "an X.509 leaf is decoded for its keys");
});

test("over changed bytes, a stored leaf decodes to the eager decoder's leaf with the same keys, or its use throws a CodecError", async () => {
  const { owner } = await group();
  const leaves = leavesOf(owner).map((n) => encodeNode(n));
  const r = prng(0x1eaf);
  let agreed = 0;
  let refused = 0;
  for (let k = 0; k < cases(3000); k++) {
    const { bytes } = mutate(r, r.pick(leaves), r.pick(leaves));
    if (bytes[0] !== 1) continue;
    const eager = eagerLeaf(bytes);
    const lazy = decodeStoredNode(bytes) as Extract<Node, { nodeType: "leaf" }>;
    if (eager === undefined) {
      assert.throws(() => lazy.leaf, CodecError);
      refused++;
      continue;
    }
    assert.deepEqual(leafIdentity(decodeStoredNode(bytes) as Extract<Node, { nodeType: "leaf" }>), identityOf(eager));
    if (eager.credential.credentialType === "basic") assert.deepEqual(leafKeys(lazy), keysOf(eager));
    assert.deepEqual(lazy.leaf, eager);
    agreed++;
  }
  assert.ok(agreed > 50 && refused > 50, `both kinds seen: ${agreed} decoded, ${refused} refused`);
});

test("a stored chunk whose bytes are not its content key's is refused at load, though its leaves would decode", async () => {
  const { rx } = await group();
  const parts = partsOf(rx);
  const { length, chunks } = decodeChunkManifest(parts.get(chunkManifestKey(rx.mls.groupContext.epoch))!);
  const key = chunkPartKey(chunks.subtrees[0]!);
  const chunk = Uint8Array.from(parts.get(key)!);
  // the last byte of the slot's first leaf: its signature's, which decodes whatever it is
  const [, first] = decodeChunk(chunk, 0, length).entries[0]!;
  const at = (first as Uint8Array).byteOffset + (first as Uint8Array).length - 1;
  chunk[at] = chunk[at]! ^ 0x40;
  const changed = decodeChunk(chunk, 0, length).entries[0]![1] as Uint8Array;
  assert.ok(eagerLeaf(changed) !== undefined, "the changed leaf still decodes");
  assert.throws(() => loadGroupState([...new Map(parts).set(key, chunk)], 0n), DecodeError);
  loadGroupState([...parts], 0n);
});
