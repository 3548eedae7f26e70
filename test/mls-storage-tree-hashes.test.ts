/**
 * Storage format 7 (src/mls/treeHashes.ts, treeChunks.ts `HASHED_CHUNK_FORMAT`): the chunk of a
 * complete 32-leaf subtree slot holds the tree hash of each of its 63 positions, and a state read
 * back from its parts seeds the patched ts-mls's tree-hash snapshot with them before its first
 * commit. The stored hashes must be RFC 9420 7.8's (checked against unpatched ts-mls 1.6.4's
 * `treeHash`), a reloaded state must apply commits exactly as the state in memory does, a stored
 * hash changed on disk (the chunk stored under its new content key) must make the next commit fail
 * (so the seeds are what is used; the test fails with the seeding removed), a store of format 6 (chunks without hashes) must load and go
 * on, and the chunk decoder must refuse hashes where a slot is not complete, lengths out of range
 * and every mutation with a DecodeError only. Hashes are known only for the nodes they were computed
 * over: a tree array changed in place answers none.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultCryptoProvider as bareProvider, getCiphersuiteFromName as bareSuiteFromName } from "ts-mls-bare";
import type { CiphersuiteName } from "ts-mls";
import { treeHash as bareTreeHash } from "ts-mls-bare/treeHash.js";
import { subtreeHashesOf, treeHash } from "ts-mls/treeHash.js";
import { HASHED_CHUNK_FORMAT, INLINE_CHUNK_FORMAT, SLOT_POSITIONS } from "../src/constants.js";
import { toHex } from "../src/bytes.js";
import { DecodeError, SecretGroupError } from "../src/errors.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { addMembers, encodeGroupState, processCommit, removeMembers, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { chunkManifestKey, chunkPartKey, contentKey } from "../src/mls/stateParts.js";
import { decodeChunk, decodeChunkManifest, encodeChunk, encodeChunkManifest } from "../src/mls/treeChunks.js";
import { knownTreeHashes } from "../src/mls/treeHashes.js";
import { getSuite } from "../src/mls/suite.js";
import { loadGroupState, stageGroupState } from "../src/engine/store/stateCodec.js";
import { Outcomes, cases, mutate, prng, typedOutcome } from "./fuzz-support.js";
import { fortyMembers, partsOf } from "./stored-group-support.js";
import type { Parts } from "./stored-group-support.js";


const encoded = (s: GroupState): string => toHex(encodeGroupState({ ...s, nonceCounter: 0n }));

const bigGroup = (): ReturnType<typeof fortyMembers> => fortyMembers(7);

/** The current epoch's chunk keys (subtree slots, then the spine). */
function chunkKeys(parts: Parts, state: GroupState): { subtrees: ReadonlyArray<string | undefined>; spine: string | undefined; length: number } {
  const { length, chunks } = decodeChunkManifest(parts.get(chunkManifestKey(state.mls.groupContext.epoch))!);
  return { ...chunks, length };
}

/**
 * `parts` with subtree slot `slot`'s chunk of the current epoch replaced by `chunk`, stored under
 * its own content key and named by the manifest (a chunk changed in place is refused at load: its
 * content key; so a changed hash gets to the tree only this way).
 */
function withChunk(parts: Parts, state: GroupState, slot: number, chunk: Uint8Array): Parts {
  const { subtrees, spine, length } = chunkKeys(parts, state);
  const key = contentKey(chunk);
  const out = new Map(parts).set(chunkPartKey(key), chunk);
  out.delete(chunkPartKey(subtrees[slot]!));
  const renamed = subtrees.map((k, s) => (s === slot ? key : k));
  return out.set(chunkManifestKey(state.mls.groupContext.epoch), encodeChunkManifest(length, { subtrees: renamed, spine }));
}

test("a complete subtree slot's chunk holds RFC 9420 7.8's tree hash of each of its positions (unpatched ts-mls's), the spine's none", async () => {
  const { rx } = await bigGroup();
  const parts = partsOf(rx);
  const { subtrees, spine, length } = chunkKeys(parts, rx);
  const suite = rx.mls.groupContext.cipherSuite as CiphersuiteName;
  const cs = await bareProvider.getCiphersuiteImpl(bareSuiteFromName(suite));
  for (const [slot, key] of subtrees.entries()) {
    const bytes = parts.get(chunkPartKey(key!))!;
    assert.equal(bytes[0], HASHED_CHUNK_FORMAT, `slot ${slot} is hashed`);
    const { hashes } = decodeChunk(bytes, slot, length);
    assert.equal(hashes?.length, SLOT_POSITIONS);
    for (let j = 0; j < SLOT_POSITIONS; j++) {
      const expected = await bareTreeHash(rx.mls.ratchetTree, (slot * 64 + j) as never, cs.hash);
      assert.deepEqual(hashes![j], expected, `slot ${slot} position ${slot * 64 + j}`);
    }
  }
  // the spine's hashes depend on every slot: never stored (its chunk, when any node there is not blank)
  if (spine !== undefined) assert.equal(parts.get(chunkPartKey(spine))![0], INLINE_CHUNK_FORMAT);
});

test("a reloaded state applies commits as the state in memory does, and writes hashed chunks again", async () => {
  const { owner: o, rx: r, others } = await bigGroup();
  let owner = o;
  let rx = r;
  let parts = partsOf(rx);
  const kps = await Promise.all([generateIdentity(), generateIdentity()].map(async (id) => (await createKeyPackage(id)).keyPackage));
  const steps = [() => updateGroup(owner), () => removeMembers(owner, [others[30]!.publicKey]), () => addMembers(owner, kps), () => removeMembers(owner, [others[2]!.publicKey])];
  for (const [i, step] of steps.entries()) {
    const c = await step();
    owner = c.state;
    const inMemory = await processCommit(rx, c.commit);
    const loaded = loadGroupState([...parts], 0n);
    const reloaded = await processCommit(loaded.state, c.commit);
    assert.equal(encoded(reloaded), encoded(inMemory), `step ${i}: the reloaded state applied the commit as the state in memory`);
    rx = reloaded;
    // staged from the reloaded state's meta: the slots the commit changed are written with their hashes
    const staged = stageGroupState(rx, loaded.meta);
    for (const [key, value] of staged.parts) value === null ? parts.delete(key) : parts.set(key, value);
    parts = new Map(parts);
    const { subtrees } = chunkKeys(parts, rx);
    for (const [slot, key] of subtrees.entries()) if (key !== undefined) assert.equal(parts.get(chunkPartKey(key))![0], HASHED_CHUNK_FORMAT, `step ${i} slot ${slot}`);
  }
});

test("a stored hash changed on disk makes the next commit fail: the stored hashes are what the commit uses", async () => {
  const { owner, rx } = await bigGroup();
  const parts = partsOf(rx);
  const { subtrees, length } = chunkKeys(parts, rx);
  // the owner's update changes the path above leaf 0 (slot 0); slot 1's root hash (position 95) is taken as stored
  const key = chunkPartKey(subtrees[1]!);
  const chunk = Uint8Array.from(parts.get(key)!);
  const hashLength = decodeChunk(chunk, 1, length).hashes![0]!.length;
  const at = chunk.length - hashLength * (SLOT_POSITIONS - 31); // first byte of position 64 + 31
  chunk[at] = chunk[at]! ^ 1;
  const c = await updateGroup(owner);
  await assert.rejects(processCommit(loadGroupState([...withChunk(parts, rx, 1, chunk)], 0n).state, c.commit), SecretGroupError);
  assert.throws(() => loadGroupState([...new Map(parts).set(key, chunk)], 0n), DecodeError, "changed in place: not its content key");
  // the same commit on the parts as stored applies
  await processCommit(loadGroupState([...parts], 0n).state, c.commit);
});

test("a store of format 6 (chunks without hashes) loads, applies commits and writes hashed chunks for the slots it changes", async () => {
  const { owner, rx } = await bigGroup();
  const parts = partsOf(rx);
  const { subtrees, spine, length } = chunkKeys(parts, rx);
  // every hashed chunk written again without its hashes, under its new key
  const plain = subtrees.map((key, slot) => {
    const { entries } = decodeChunk(parts.get(chunkPartKey(key!))!, slot, length);
    parts.delete(chunkPartKey(key!));
    const chunk = encodeChunk(entries.map(([i, node]) => [i, node as Uint8Array] as const));
    parts.set(chunkPartKey(chunk.key), chunk.bytes);
    return chunk.key;
  });
  parts.set(chunkManifestKey(rx.mls.groupContext.epoch), encodeChunkManifest(length, { subtrees: plain, spine }));
  const loaded = loadGroupState([...parts], 0n);
  assert.equal(encoded(loaded.state), encoded(rx));
  const c = await updateGroup(owner);
  const next = await processCommit(loaded.state, c.commit);
  assert.equal(encoded(next), encoded(await processCommit(rx, c.commit)));
  const staged = stageGroupState(next, loaded.meta);
  const written = staged.parts.filter(([k, v]) => k.startsWith("k/") && v !== null).map(([, v]) => v![0]);
  assert.ok(written.includes(HASHED_CHUNK_FORMAT), "the changed slot's chunk is written with its hashes");
});

test("the chunk decoder refuses hashes outside a complete subtree slot and out-of-range lengths, and throws only DecodeError", async () => {
  const hashes = Array.from({ length: SLOT_POSITIONS }, (_, i) => new Uint8Array(32).fill(i));
  const node = new Uint8Array([1, 2, 3]);
  const { bytes } = encodeChunk([[0, node], [2, node]], hashes);
  assert.deepEqual(decodeChunk(bytes, 0, 63), { entries: [[0, node], [2, node]], hashes });
  assert.throws(() => decodeChunk(bytes, 0, 31), DecodeError, "slot 0 of a tree of 31 nodes is not complete");
  assert.throws(() => decodeChunk(bytes, "spine", 127), DecodeError, "the spine holds no hashes");
  assert.throws(() => encodeChunk([[0, node]], hashes.slice(1)), SecretGroupError, "62 hashes");
  const withLength = (n: number): Uint8Array => {
    const b = Uint8Array.from(bytes);
    b[bytes.length - 32 * SLOT_POSITIONS - 1] = n;
    return b;
  };
  assert.throws(() => decodeChunk(withLength(0), 0, 63), DecodeError);
  assert.throws(() => decodeChunk(withLength(65), 0, 63), DecodeError);
  assert.throws(() => decodeChunk(withLength(31), 0, 63), DecodeError, "hashes shorter than their bytes: trailing bytes");
  assert.throws(() => decodeChunk(Uint8Array.from([...bytes, 0]), 0, 63), DecodeError);
  const random = prng(0x68617368);
  const outcomes = new Outcomes();
  const other = encodeChunk([[64, node]], hashes).bytes;
  for (let i = 0; i < cases(3000); i++) {
    const { bytes: input } = mutate(random, bytes, other);
    await typedOutcome(outcomes, `case ${i}`, () => decodeChunk(input, 0, 127));
  }
  assert.ok((outcomes.counts.get("DECODE_ERROR") ?? 0) > 0, outcomes.toString());
});

test("frozen: the layout of a hashed chunk (content key of fixed contents)", () => {
  const hashes = Array.from({ length: SLOT_POSITIONS }, (_, i) => new Uint8Array(32).fill(i));
  const { key, bytes } = encodeChunk([[0, new Uint8Array([1, 2, 3])], [61, new Uint8Array([9])]], hashes);
  assert.equal(bytes.length, 5 + 8 + 3 + 8 + 1 + 1 + SLOT_POSITIONS * 32);
  assert.deepEqual([...bytes.subarray(0, 5)], [HASHED_CHUNK_FORMAT, 0, 0, 0, 2]);
  assert.equal(key, "9a0ae4e9a7225e595675529b46ea32c0");
});

test("an owner's state reloaded commits with its stored hashes: a member applies the commit, and refuses one made over a changed hash", async () => {
  const { owner, rx } = await bigGroup();
  const parts = partsOf(owner);
  const { subtrees, length } = chunkKeys(parts, owner);
  const key = chunkPartKey(subtrees[1]!);
  assert.equal(parts.get(key)![0], HASHED_CHUNK_FORMAT, "the owner's tree is stored with its hashes");
  const made = await updateGroup(loadGroupState([...parts], 0n).state);
  await processCommit(rx, made.commit);
  const chunk = Uint8Array.from(parts.get(key)!);
  const hashLength = decodeChunk(chunk, 1, length).hashes![0]!.length;
  const at = chunk.length - hashLength * (SLOT_POSITIONS - 31);
  chunk[at] = chunk[at]! ^ 1;
  const forged = await updateGroup(loadGroupState([...withChunk(parts, owner, 1, chunk)], 0n).state);
  await assert.rejects(processCommit(rx, forged.commit), SecretGroupError, "the tree hash the owner committed to is not the tree's");
});

test("hashes are known only for the nodes they were computed over: a tree array changed in place answers none", async () => {
  const { rx } = await bigGroup();
  const cs = await getSuite(rx.mls.groupContext.cipherSuite, "node");
  const tree = rx.mls.ratchetTree.slice();
  await treeHash(tree, 63 as never, cs.hash);
  assert.equal(subtreeHashesOf(tree)?.length, 127, "the whole tree was hashed over this array");
  [tree[2], tree[4]] = [tree[4], tree[2]];
  assert.equal(subtreeHashesOf(tree), undefined, "two leaves swapped in place since");
  const loaded = loadGroupState([...partsOf(rx)], 0n).state.mls.ratchetTree;
  assert.ok(knownTreeHashes(loaded) !== undefined, "a loaded tree has its stored hashes");
  loaded[0] = undefined;
  assert.equal(knownTreeHashes(loaded), undefined, "a loaded tree changed in place has none");
});

test("a chunk is checked against each epoch's tree length: a hashed slot that is not complete there, or an index past it, is a DecodeError", async () => {
  const { rx } = await bigGroup();
  const parts = partsOf(rx);
  const { subtrees, spine } = chunkKeys(parts, rx);
  const manifest = chunkManifestKey(rx.mls.groupContext.epoch);
  // 125 nodes: slot 1 (positions 64-126) is no longer complete, its hashed chunk out of place; 101: its leaves past the end
  for (const length of [125, 101]) {
    const shorter = new Map(parts).set(manifest, encodeChunkManifest(length, { subtrees, spine }));
    assert.throws(() => loadGroupState([...shorter], 0n), DecodeError, `length ${length}`);
  }
});
