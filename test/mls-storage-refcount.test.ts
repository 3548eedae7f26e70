/**
 * The reference counts of incremental state staging (src/mls/storage.ts): each `n/` and `k/`
 * key is counted once per node or manifest slot of every retained epoch, and the counts move only
 * with the epochs that come and go. Over a history long enough for many epochs to leave the
 * retention window (a small group, so it stays fast), after every step the counts must equal
 * those of a full staging of the same state (and of a reload from the parts), the stored parts
 * must load to the state in memory, and the tree parts held must be exactly a full staging's.
 * REFCOUNT_STEPS sets the length (default RETAIN_EPOCHS * 2 + 8); sender-ratchet messages between
 * the commits move no count, and their staging shares the previous counts, which no staging may
 * write. A second case replaces one retained epoch's tree by a copy with one node changed: its
 * old references must be released.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RETAIN_EPOCHS } from "../src/constants.js";
import { toHex, utf8 } from "../src/bytes.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { addMembers, createGroup, decrypt, encodeGroupState, encrypt, joinGroup, processCommit, removeMembers, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import type { PersistMeta } from "../src/mls/storage.js";
import { loadGroupState, stageGroupState } from "../src/engine/store/stateCodec.js";
import { rng } from "./prng.js";

const STEPS = Number(process.env["REFCOUNT_STEPS"] ?? RETAIN_EPOCHS * 2 + 8);

const sorted = (m: ReadonlyMap<string, number>): Array<[string, number]> => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
const treeParts = (parts: ReadonlyMap<string, Uint8Array>): Map<string, string> => new Map([...parts].filter(([k]) => /^(h|m\/|k\/|n\/)/.test(k)).map(([k, v]) => [k, toHex(v)]));

/** Asserts that `meta` and the stored `parts` are what a full staging of `state` gives, and that the parts load back to `state` with the same counts; returns the reload. */
function checkAgainstFull(state: GroupState, meta: PersistMeta, parts: ReadonlyMap<string, Uint8Array>, at: string): { state: GroupState; meta: PersistMeta } {
  const full = stageGroupState(state, undefined);
  assert.deepEqual(sorted(meta.refs), sorted(full.meta.refs), `${at}: node reference counts`);
  assert.deepEqual(sorted(meta.chunkRefs), sorted(full.meta.chunkRefs), `${at}: chunk reference counts`);
  const loaded = loadGroupState([...parts], 0n);
  assert.equal(toHex(encodeGroupState({ ...loaded.state, nonceCounter: 0n })), toHex(encodeGroupState({ ...state, nonceCounter: 0n })), `${at}: the parts load to the state`);
  assert.deepEqual(sorted(loaded.meta.refs), sorted(meta.refs), `${at}: counts after a reload`);
  assert.deepEqual(sorted(loaded.meta.chunkRefs), sorted(meta.chunkRefs), `${at}: chunk counts after a reload`);
  const fullParts = new Map<string, Uint8Array>();
  for (const [key, value] of full.parts) if (value !== null) fullParts.set(key, value);
  assert.deepEqual(treeParts(parts), treeParts(fullParts), `${at}: tree parts as a full staging writes them`);
  return loaded;
}

/**
 * Stages `state` over `previous` into `parts` (applied in place), checks it against a full
 * staging, and checks that `previous`'s counts were left as they were (a returned meta's maps
 * may be shared by the next one, so staging must never write them).
 */
function stageOnto(state: GroupState, previous: PersistMeta | undefined, parts: Map<string, Uint8Array>, at: string): { meta: PersistMeta; loaded: { state: GroupState; meta: PersistMeta } } {
  const counts = (m: PersistMeta | undefined): unknown => (m === undefined ? undefined : [sorted(m.refs), sorted(m.chunkRefs)]);
  const before = counts(previous);
  const staged = stageGroupState(state, previous);
  for (const [key, value] of staged.parts) value === null ? parts.delete(key) : parts.set(key, value);
  assert.deepEqual(counts(previous), before, `${at}: the previous meta's counts are left as they were`);
  return { meta: staged.meta, loaded: checkAgainstFull(state, staged.meta, parts, at) };
}

test("staged reference counts equal a full staging's after every step, as epochs come and go", async () => {
  const r = rng(7);
  const owner = generateIdentity();
  const receiver = generateIdentity();
  let state = await createGroup({ identity: owner, groupId: new Uint8Array(32).fill(7), ciphersuite: "PANDA10_AES128GCM" });
  const kp = await createKeyPackage(receiver);
  const others: Identity[] = Array.from({ length: 5 }, () => generateIdentity());
  const fill = await Promise.all(others.map(async (id) => (await createKeyPackage(id)).keyPackage));
  const added = await addMembers(state, [kp.keyPackage, ...fill]);
  state = added.state;
  let rx = await joinGroup({ identity: receiver, secret: kp.secret, owner: owner.publicKey, commit: added.commit });
  const parts = new Map<string, Uint8Array>();
  let meta: PersistMeta | undefined;
  let left = 0;
  for (let step = 0; step <= STEPS; step++) {
    if (step > 0) {
      const what = r.int(6);
      let c: { state: GroupState; commit: Uint8Array };
      if (what === 0 && others.length < 9) {
        const id = generateIdentity();
        others.push(id);
        c = await addMembers(state, [(await createKeyPackage(id)).keyPackage]);
      } else if (what === 1 && others.length > 2) c = await removeMembers(state, others.splice(r.int(others.length), 1).map((id) => id.publicKey));
      else c = await updateGroup(state);
      state = c.state;
      rx = await processCommit(rx, c.commit);
    }
    const epochsBefore = meta?.epochs.size ?? 0;
    let loaded: { state: GroupState; meta: PersistMeta };
    ({ meta, loaded } = stageOnto(rx, meta, parts, `step ${step}`));
    if (meta.epochs.size <= epochsBefore) left++;
    // sometimes carry on from the reload, as a worker does after a cache miss
    if (r.int(4) === 0) ({ state: rx, meta } = loaded);
    if (r.int(2) === 0) {
      // a sender-ratchet message: only a secret tree moves, so the counts are shared, not copied
      const sent = await encrypt(state, utf8(`message ${step}`), { scheme: "sender-ratchet" });
      state = sent.state;
      rx = (await decrypt(rx, sent.message)).state;
      const previous = meta;
      ({ meta } = stageOnto(rx, meta, parts, `step ${step}, message`));
      assert.equal(meta.refs, previous.refs, `step ${step}: a message step shares the counts`);
    }
  }
  assert.ok(STEPS < RETAIN_EPOCHS + 2 || left >= STEPS - RETAIN_EPOCHS - 1, `epochs left the retention window ${left} times`);
});

test("a retained epoch whose tree object changed releases its old references", async () => {
  const owner = generateIdentity();
  const receiver = generateIdentity();
  let state = await createGroup({ identity: owner, groupId: new Uint8Array(32).fill(9), ciphersuite: "PANDA10_AES128GCM" });
  const kp = await createKeyPackage(receiver);
  const fill = await Promise.all([generateIdentity(), generateIdentity()].map(async (id) => (await createKeyPackage(id)).keyPackage));
  const added = await addMembers(state, [kp.keyPackage, ...fill]);
  state = added.state;
  let rx = await joinGroup({ identity: receiver, secret: kp.secret, owner: owner.publicKey, commit: added.commit });
  for (let i = 0; i < 3; i++) {
    const c = await updateGroup(state);
    state = c.state;
    rx = await processCommit(rx, c.commit);
  }
  const parts = new Map<string, Uint8Array>();
  const first = stageOnto(rx, undefined, parts, "first staging");
  // a retained past epoch's tree replaced by a copy with one leaf changed (its signature's first byte)
  const [epoch, data] = [...rx.mls.historicalReceiverData][0] ?? assert.fail("no retained epoch");
  const at = data.ratchetTree.findIndex((n) => n?.nodeType === "leaf");
  const node = data.ratchetTree[at];
  assert.ok(node?.nodeType === "leaf");
  const signature = node.leaf.signature.slice();
  signature[0] = (signature[0] ?? 0) ^ 1;
  const ratchetTree = data.ratchetTree.slice();
  ratchetTree[at] = { nodeType: "leaf", leaf: { ...node.leaf, signature } };
  const history = new Map(rx.mls.historicalReceiverData).set(epoch, { ...data, ratchetTree });
  const changed: GroupState = { ...rx, mls: { ...rx.mls, historicalReceiverData: history } };
  stageOnto(changed, first.meta, parts, `epoch ${epoch} changed`);
});
