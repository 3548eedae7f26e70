/**
 * Retained past epochs of a reloaded state built on first use (src/mls/storageLoad.ts): a state
 * read back from its parts holds each past epoch of format 6 or 7 as an entry whose trees are
 * built when read. A commit on it and its staging must read none of them and write exactly what
 * the state in memory writes (staging knows an unchanged past epoch by its entry: storage.ts,
 * and the head encodes it from the stored stripped entry: headCodec.ts); a late message of one
 * past epoch builds that epoch alone; a missing part is still refused at load, and a changed
 * chunk of a past epoch is a DecodeError when the epoch is built, never a different tree.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { EpochReceiverData } from "ts-mls";
import { toHex } from "../src/bytes.js";
import { decrypt, encodeGroupState, encrypt, processCommit, removeMembers, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import type { PersistMeta, StatePart } from "../src/mls/storage.js";
import { pastEpochBuilt } from "../src/mls/storageLoad.js";
import { chunkManifestKey, chunkPartKey, lazyTreeKey, overrideKey, overridePrefix } from "../src/mls/stateParts.js";
import { decodeChunkManifest } from "../src/mls/treeChunks.js";
import { loadGroupState, stageGroupState } from "../src/engine/store/stateCodec.js";
import { fortyMembers } from "./stored-group-support.js";
import type { Parts } from "./stored-group-support.js";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const encoded = (s: GroupState): string => toHex(encodeGroupState({ ...s, nonceCounter: 0n }));
const pastEntries = (s: GroupState): EpochReceiverData[] => [...s.mls.historicalReceiverData.values()];
const builtCount = (s: GroupState): number => pastEntries(s).filter((e) => pastEpochBuilt(e) === true).length;
const apply = (parts: Parts, staged: readonly StatePart[]): void => {
  for (const [key, value] of staged) value === null ? parts.delete(key) : parts.set(key, value);
};
/** Staged parts in a comparable form (key and hex value, in order). */
const listed = (staged: readonly StatePart[]): string[] => staged.map(([k, v]) => `${k}=${v === null ? "-" : toHex(v)}`);

/** The chunk keys of an epoch's stored manifest. */
function chunkKeys(parts: Parts, epoch: bigint): string[] {
  const { chunks } = decodeChunkManifest(parts.get(chunkManifestKey(epoch))!);
  return [...chunks.subtrees, chunks.spine].filter((k): k is string => k !== undefined);
}

/**
 * A receiver of 40 members that followed six commits (removes of the last leaf shorten the tree,
 * so past epochs hold chunks of their own), staged incrementally as the engine's worker does, and
 * one sender-ratchet message of the owner's sent in each of the first epochs.
 */
async function history(): Promise<{ owner: GroupState; memory: GroupState; meta: PersistMeta; parts: Parts; messages: Map<bigint, Uint8Array> }> {
  const { owner: o, rx, others } = await fortyMembers(13);
  let owner = o;
  let memory = rx;
  const parts: Parts = new Map();
  let { parts: staged, meta } = stageGroupState(memory, undefined);
  apply(parts, staged);
  const messages = new Map<bigint, Uint8Array>();
  for (const kind of ["remove", "update", "remove", "update", "remove", "update"] as const) {
    const sent = await encrypt(owner, text(`epoch ${owner.mlsEpoch}`), { scheme: "sender-ratchet" });
    owner = sent.state;
    messages.set(owner.mlsEpoch, sent.message);
    const c = kind === "update" ? await updateGroup(owner) : await removeMembers(owner, [others.pop()!.publicKey]);
    owner = c.state;
    memory = await processCommit(memory, c.commit);
    ({ parts: staged, meta } = stageGroupState(memory, meta));
    apply(parts, staged);
  }
  assert.equal(memory.mls.historicalReceiverData.size, 6);
  return { owner, memory, meta, parts, messages };
}

test("a reloaded state builds no past epoch; a commit on it and its staging build none and write what the state in memory writes", async () => {
  const { owner, memory, meta, parts } = await history();
  for (const kind of ["update", "remove"] as const) {
    // read again for each: encoding a state in full (the last check) builds its past epochs
    const loaded = loadGroupState([...parts], 0n);
    assert.equal(pastEntries(loaded.state).length, 6);
    assert.ok(pastEntries(loaded.state).every((e) => pastEpochBuilt(e) === false), "every past epoch is loaded unbuilt");
    const c = kind === "update" ? await updateGroup(owner) : await removeMembers(owner, [pastMember(memory)]);
    const next = await processCommit(loaded.state, c.commit);
    const stagedLoaded = stageGroupState(next, loaded.meta);
    assert.equal(builtCount(loaded.state), 0, `${kind}: the commit and its staging built no past epoch`);
    assert.ok(pastEntries(next).filter((e) => pastEpochBuilt(e) === false).length >= 5, `${kind}: the retained loaded epochs stay unbuilt`);
    const memoryNext = await processCommit(memory, c.commit);
    assert.deepEqual(listed(stagedLoaded.parts), listed(stageGroupState(memoryNext, meta).parts), `${kind}: the same parts as the state in memory`);
    // a second staging of the same state writes nothing, and still builds nothing
    assert.deepEqual(stageGroupState(next, stagedLoaded.meta).parts, []);
    assert.equal(builtCount(next), 0);
    assert.equal(encoded(next), encoded(memoryNext), `${kind}: the reloaded state applies the commit as the state in memory`);
  }
});

/** A member's identity other than the owner's and the receiver's: the last leaf's. */
function pastMember(state: GroupState): Uint8Array {
  const leaves = state.mls.ratchetTree.filter((n) => n?.nodeType === "leaf");
  const last = leaves[leaves.length - 1];
  assert.ok(last?.nodeType === "leaf" && last.leaf.credential.credentialType === "basic");
  return last.leaf.credential.identity;
}

test("a late message of a past epoch builds that epoch alone, opens as in memory, and stages the same secret-tree change", async () => {
  const { memory, meta, parts, messages } = await history();
  const loaded = loadGroupState([...parts], 0n);
  const [epoch, message] = [...messages][2]!;
  const read = await decrypt(loaded.state, message);
  assert.equal(new TextDecoder().decode(read.plaintext), `epoch ${epoch}`);
  const before = loaded.state.mls.historicalReceiverData;
  assert.equal(pastEpochBuilt(before.get(epoch)!), true, "the message's epoch is built");
  assert.equal([...before.values()].filter((e) => pastEpochBuilt(e) === true).length, 1, "and no other");
  const inMemory = await decrypt(memory, message);
  const staged = stageGroupState(read.state, loaded.meta);
  assert.deepEqual(listed(staged.parts), listed(stageGroupState(inMemory.state, meta).parts));
  assert.ok(staged.parts.some(([k]) => k.startsWith(overridePrefix(epoch)) || k === lazyTreeKey(epoch)), "the epoch's secret tree change is written");
  assert.equal(builtCount(read.state), 0, "the replaced entry is in memory, the others still unbuilt");
  // the staged override reads back: the message is a replay in the state read again
  apply(parts, staged.parts);
  await assert.rejects(decrypt(loadGroupState([...parts], 0n).state, message), { code: "REPLAY" });
});

test("a past epoch's missing part is a DecodeError at load; its changed chunk is a DecodeError when it is built, never a different tree", async () => {
  const { owner, parts, messages } = await history();
  const loaded = loadGroupState([...parts], 0n);
  const current = new Set(chunkKeys(parts, loaded.state.mlsEpoch));
  const [epoch, message] = [...messages][1]!;
  const own = chunkKeys(parts, epoch).filter((k) => !current.has(k));
  assert.ok(own.length > 0, "the past epoch holds a chunk the current one does not");
  for (const key of [chunkManifestKey(epoch), lazyTreeKey(epoch), chunkPartKey(own[0]!)]) {
    const without = new Map(parts);
    without.delete(key);
    assert.throws(() => loadGroupState([...without], 0n), { code: "DECODE_ERROR" }, `without ${key}`);
  }
  const cut = new Map(parts);
  cut.set(lazyTreeKey(epoch), parts.get(lazyTreeKey(epoch))!.subarray(0, 3));
  assert.throws(() => loadGroupState([...cut], 0n), { code: "DECODE_ERROR" }, "a truncated secret tree header");
  const far = new Map(parts);
  far.set(overrideKey(epoch, 1_000_000), parts.get(lazyTreeKey(epoch))!);
  assert.throws(() => loadGroupState([...far], 0n), { code: "DECODE_ERROR" }, "an override past the secret tree");
  // a changed byte of a chunk only that past epoch holds: loaded, refused when the epoch is built
  const changed = new Map(parts);
  const chunk = Uint8Array.from(parts.get(chunkPartKey(own[0]!))!);
  chunk[chunk.length - 1] = (chunk[chunk.length - 1] as number) ^ 1;
  changed.set(chunkPartKey(own[0]!), chunk);
  const { state, meta } = loadGroupState([...changed], 0n);
  const entry = state.mls.historicalReceiverData.get(epoch)!;
  assert.throws(() => entry.ratchetTree, { code: "DECODE_ERROR" });
  await assert.rejects(decrypt(state, message), { code: "DECODE_ERROR" });
  assert.equal(pastEpochBuilt(entry), false);
  // the current epoch does not read it: a commit applies and stages
  const next = await processCommit(state, (await updateGroup(owner)).commit);
  assert.equal(next.mlsEpoch, state.mlsEpoch + 1n);
  assert.ok(stageGroupState(next, meta).parts.length > 0);
});
