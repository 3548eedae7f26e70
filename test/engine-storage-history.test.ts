/**
 * Storage format 6 over a random history (src/mls/storage.ts, treeChunks.ts): a receiver in a
 * group that grows and shrinks across several chunk slots follows random commits (updates, adds,
 * removes that truncate the tree) and sender-ratchet messages (secret-tree overrides and their
 * compaction), persisted incrementally. After every step the parts held (each staged against the
 * last) must load back to the state in memory, and the ratchet-tree parts (manifests, chunks,
 * head) must be exactly those a full staging of that state writes: a chunk dropped, kept too long,
 * taken from the wrong epoch or read wrongly fails it. The same history starting from a store of
 * formats 3 to 5 (chunks naming `n/` node parts) and from one of before 3 (`t/`, `s/`) must load
 * at every step and hold none of those parts once their epochs left the retention window.
 * STORAGE_HISTORY_STEPS sets the length (default 30).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeNode } from "ts-mls/ratchetTree.js";
import { RATCHET_CHUNK_SPAN, RETAIN_EPOCHS, STATE_PART_FORMAT } from "../src/constants.js";
import { toHex, utf8 } from "../src/bytes.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { addMembers, createGroup, decrypt, encodeGroupState, encrypt, joinGroup, processCommit, removeMembers, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import type { PersistMeta } from "../src/mls/storage.js";
import { chunkManifestKey, chunkPartKey, contentKey, encodeManifest, encodeSecretTree, manifestKey, blobKey } from "../src/mls/stateParts.js";
import { encodeChunkManifest, isSpine, subtreeSlots } from "../src/mls/treeChunks.js";
import { loadGroupState, stageGroupState } from "../src/engine/store/stateCodec.js";
import { rng } from "./prng.js";

const STEPS = Number(process.env["STORAGE_HISTORY_STEPS"] ?? 30);

const sorted = (m: ReadonlyMap<string, number>): Array<[string, number]> => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
const encoded = (s: GroupState): string => toHex(encodeGroupState({ ...s, nonceCounter: 0n }));

type Epochs = Array<[bigint, GroupState["mls"]["ratchetTree"], GroupState["mls"]["secretTree"]]>;
const epochsOf = (state: GroupState): Epochs => [
  [state.mls.groupContext.epoch, state.mls.ratchetTree, state.mls.secretTree],
  ...[...state.mls.historicalReceiverData].map(([epoch, data]): Epochs[number] => [epoch, data.ratchetTree, data.secretTree]),
];

/** The `n/` parts of formats 2 to 5: each node's encoding under its content key; returns each tree's keys. */
function nodeParts(parts: Map<string, Uint8Array>, tree: GroupState["mls"]["ratchetTree"]): Array<string | undefined> {
  return tree.map((node) => {
    if (node === undefined) return undefined;
    const bytes = encodeNode(node);
    const key = contentKey(bytes);
    parts.set(`n/${key}`, bytes);
    return key;
  });
}

/** The parts of a state as storage before format 3 wrote them (one `t/` manifest and one `s/` secret tree per epoch). */
function legacyParts(state: GroupState): Map<string, Uint8Array> {
  const parts = new Map<string, Uint8Array>();
  for (const [key, value] of stageGroupState(state, undefined).parts) if (value !== null && key === "h") parts.set(key, value);
  for (const [epoch, tree, secrets] of epochsOf(state)) {
    const keys = nodeParts(parts, tree).filter((k): k is string => k !== undefined);
    parts.set(manifestKey(epoch), encodeManifest(tree, keys));
    parts.set(blobKey(epoch), encodeSecretTree(secrets));
  }
  return parts;
}

/** The parts of a state as storage formats 3 to 5 wrote them: chunks of each slot's node keys (format byte 1), the nodes in `n/` parts. */
function namingChunkParts(state: GroupState): Map<string, Uint8Array> {
  const parts = new Map<string, Uint8Array>();
  for (const [key, value] of stageGroupState(state, undefined).parts) if (value !== null && /^(h|l\/)/.test(key)) parts.set(key, value);
  for (const [epoch, tree] of epochsOf(state)) {
    const keys = nodeParts(parts, tree);
    const subs = subtreeSlots(tree.length);
    const slots: Array<Array<[number, string]>> = Array.from({ length: subs + 1 }, () => []);
    keys.forEach((key, i) => key !== undefined && slots[isSpine(i) ? subs : Math.floor(i / RATCHET_CHUNK_SPAN)]!.push([i, key]));
    const chunkKeys = slots.map((entries) => {
      if (entries.length === 0) return undefined;
      const bytes = Buffer.alloc(5 + entries.length * 20);
      bytes.writeUInt8(STATE_PART_FORMAT, 0);
      bytes.writeUInt32BE(entries.length, 1);
      entries.forEach(([i, key], n) => {
        bytes.writeUInt32BE(i, 5 + n * 20);
        Buffer.from(key, "hex").copy(bytes, 9 + n * 20);
      });
      const chunk = new Uint8Array(bytes);
      parts.set(chunkPartKey(contentKey(chunk)), chunk);
      return contentKey(chunk);
    });
    parts.set(chunkManifestKey(epoch), encodeChunkManifest(tree.length, { subtrees: chunkKeys.slice(0, subs), spine: chunkKeys[subs] }));
  }
  return parts;
}

/** Parts a full staging of `state` writes, but the secret trees (held as a tree part plus overrides incrementally). */
function treeParts(parts: ReadonlyMap<string, Uint8Array>): Map<string, string> {
  return new Map([...parts].filter(([k]) => /^(h|m\/|k\/|n\/)/.test(k)).map(([k, v]) => [k, toHex(v)]));
}

async function history(seed: number, start: "empty" | "naming chunks" | "before 3"): Promise<{ slots: Set<number>; truncations: number; compactions: number; commits: number }> {
  const r = rng(seed);
  // a stream of its own, so the history's commits and messages stay those of `seed`
  const touch = rng(seed + 1_000_003);
  const owner = generateIdentity();
  const receiver = generateIdentity();
  let state = await createGroup({ identity: owner, groupId: new Uint8Array(32).fill(seed), ciphersuite: "PANDA10_AES128GCM" });
  const others: Identity[] = [];
  const kp = await createKeyPackage(receiver);
  const fill = await Promise.all(Array.from({ length: 30 }, async () => {
    const id = generateIdentity();
    others.push(id);
    return (await createKeyPackage(id)).keyPackage;
  }));
  const added = await addMembers(state, [kp.keyPackage, ...fill]);
  state = added.state;
  let rx = await joinGroup({ identity: receiver, secret: kp.secret, owner: owner.publicKey, commit: added.commit });

  const legacyStart = start !== "empty";
  const parts = start === "before 3" ? legacyParts(rx) : start === "naming chunks" ? namingChunkParts(rx) : new Map<string, Uint8Array>();
  let meta: PersistMeta | undefined;
  if (legacyStart) {
    // carry on from the loaded state, as a worker does: its trees share node objects with `meta`
    const loaded = loadGroupState([...parts], 0n);
    assert.equal(encoded(loaded.state), encoded(rx), `seed ${seed}: the ${start} parts load to the state`);
    ({ state: rx, meta } = loaded);
  }
  const persist = (s: GroupState): void => {
    const staged = stageGroupState(s, meta);
    meta = staged.meta;
    for (const [key, value] of staged.parts) value === null ? parts.delete(key) : parts.set(key, value);
  };
  if (!legacyStart) persist(rx);
  const slots = new Set<number>();
  let truncations = 0;
  let compactions = 0;
  let commits = 0;
  for (let step = 0; step < STEPS; step++) {
    const what = r.int(10);
    if (what < 3) {
      const sent = await encrypt(state, utf8(`m${step}`), { scheme: "sender-ratchet" });
      state = sent.state;
      rx = (await decrypt(rx, sent.message)).state;
      // as when many members' ratchets moved in one epoch: over a quarter of the secret-tree nodes
      // are new objects (equal contents), so the next write compacts the overrides into one part
      if (touch.int(3) === 0) rx = { ...rx, mls: { ...rx.mls, secretTree: rx.mls.secretTree.map((n, i) => (i % 2 === 0 ? { ...n } : n)) } };
    } else {
      const before = rx.mls.ratchetTree.length;
      let c: { state: GroupState; commit: Uint8Array };
      // the population swings between about 24 and 78 members: the tree grows to 255 nodes and shrinks to 63 again
      const target = Math.floor(step / 12) % 2 === 0 ? 78 : 24;
      if (what === 3) c = await updateGroup(state);
      else if (others.length < target) {
        const adds = await Promise.all(Array.from({ length: 1 + r.int(12) }, async () => {
          const id = generateIdentity();
          others.push(id);
          return (await createKeyPackage(id)).keyPackage;
        }));
        c = await addMembers(state, adds);
      } else {
        // the newest members first, mostly: their leaves are the tree's last, so the tree shrinks
        const n = 1 + r.int(10);
        const gone = r.int(3) > 0 ? others.splice(-n) : others.splice(r.int(others.length - n), n);
        c = await removeMembers(state, gone.map((id) => id.publicKey));
      }
      state = c.state;
      rx = await processCommit(rx, c.commit);
      commits++;
      if (rx.mls.ratchetTree.length < before) truncations++;
    }
    const overridesBefore = [...parts.keys()].filter((k) => k.startsWith("o/")).length;
    persist(rx);
    if ([...parts.keys()].filter((k) => k.startsWith("o/")).length < overridesBefore) compactions++;
    slots.add(Math.ceil(rx.mls.ratchetTree.length / 64));
    // sometimes continue from the stored parts, as a worker does after a cache miss
    const loaded = loadGroupState([...parts], 0n);
    assert.equal(encoded(loaded.state), encoded(rx), `seed ${seed} step ${step}: the stored parts load to the state in memory`);
    // what staging remembers of the `n/` and `k/` parts each epoch names is what the parts say
    assert.deepEqual(sorted(meta!.refs), sorted(loaded.meta.refs), `seed ${seed} step ${step}: node references as a reload counts them`);
    assert.deepEqual(sorted(meta!.chunkRefs), sorted(loaded.meta.chunkRefs), `seed ${seed} step ${step}: chunk references as a reload counts them`);
    if (r.int(4) === 0) ({ state: rx, meta } = loaded);
    const full = new Map<string, Uint8Array>();
    for (const [key, value] of stageGroupState(rx, undefined).parts) if (value !== null) full.set(key, value);
    const held = treeParts(parts);
    if (![...parts.keys()].some((k) => /^(t|n)\//.test(k))) {
      assert.deepEqual(held, treeParts(full), `seed ${seed} step ${step}: manifests, chunks and nodes as a full staging writes them`);
    }
  }
  if (legacyStart && commits > RETAIN_EPOCHS + 1) {
    assert.deepEqual([...parts.keys()].filter((k) => /^(t|s|n)\//.test(k)), [], `no part of before format ${start === "before 3" ? 3 : 6} is left`);
    assert.equal(meta?.refs.size, 0, "no node part is referenced");
  }
  return { slots, truncations, compactions, commits };
}

test("incremental parts equal a full staging over a random history, from an empty store", async () => {
  const seen = await history(41, "empty");
  // the history crossed chunk slots, truncated the tree and compacted overrides, or it proves little
  assert.ok(seen.slots.size >= 2, `slot counts seen: ${[...seen.slots].join(", ")}`);
  assert.ok(seen.truncations >= 1, "the tree was truncated at least once");
  assert.ok(seen.compactions >= 1, "stored overrides were compacted at least once");
});

test("a store in the format before 3 loads at every step and its parts go with their epochs", async () => {
  const seen = await history(42, "before 3");
  assert.ok(seen.commits > RETAIN_EPOCHS + 1, `${seen.commits} commits: every epoch of before left the window`);
});

test("a store of formats 3 to 5 (chunks naming node parts) loads at every step and its node parts go with their epochs", async () => {
  const seen = await history(43, "naming chunks");
  assert.ok(seen.commits > RETAIN_EPOCHS + 1, `${seen.commits} commits: every epoch of before left the window`);
});

test("a node part of formats 2 to 5 whose bytes are not its content key's is refused at load, though it would decode", async () => {
  const owner = generateIdentity();
  const state = await createGroup({ identity: owner, groupId: new Uint8Array(32).fill(44), ciphersuite: "PANDA10_AES128GCM" });
  for (const parts of [namingChunkParts(state), legacyParts(state)]) {
    loadGroupState([...parts], 0n);
    const [key, node] = [...parts].find(([k]) => k.startsWith("n/"))!;
    // the last byte: the owner leaf's signature, which decodes whatever it is
    const changed = Uint8Array.from(node);
    changed[changed.length - 1] = changed[changed.length - 1]! ^ 0x40;
    assert.throws(() => loadGroupState([...new Map(parts).set(key, changed)], 0n), { code: "DECODE_ERROR" });
  }
});
