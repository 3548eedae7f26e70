/**
 * The incremental state codec (src/mls/storage.ts through src/engine/store/stateCodec.ts): round
 * trips, writes only what changed, and deletes what left the retention window.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RETAIN_EPOCHS } from "../src/constants.js";
import { utf8, toHex } from "../src/bytes.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { addMembers, createGroup, decrypt, encodeGroupState, encrypt, joinGroup, processCommit, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import type { PersistMeta } from "../src/mls/storage.js";
import { loadGroupState, stageGroupState } from "../src/engine/store/stateCodec.js";

/** A store of parts as a Map, and a persist step that also returns what it wrote. */
function partStore() {
  const parts = new Map<string, Uint8Array>();
  let meta: PersistMeta | undefined;
  return {
    parts,
    persist(state: GroupState): string[] {
      const staged = stageGroupState(state, meta);
      meta = staged.meta;
      for (const [key, value] of staged.parts) value === null ? parts.delete(key) : parts.set(key, value);
      return staged.parts.map(([key, value]) => `${value === null ? "-" : "+"}${key.split("/")[0]}`);
    },
    /** Reloads and continues from the reloaded state (as a worker does after a miss). */
    load(counter = 0n): GroupState {
      const loaded = loadGroupState([...parts], counter);
      meta = loaded.meta;
      return loaded.state;
    },
    /** Reloads a copy to compare, without continuing from it. */
    peek(counter = 0n): GroupState {
      return loadGroupState([...parts], counter).state;
    },
  };
}

const sameState = (a: GroupState, b: GroupState): void => assert.equal(toHex(encodeGroupState({ ...a, nonceCounter: 0n })), toHex(encodeGroupState({ ...b, nonceCounter: 0n })));

test("a state survives store and reload at every step, and old epochs are deleted", async () => {
  const owner = generateIdentity();
  const member = generateIdentity();
  const groupId = new Uint8Array(32).fill(7);
  let state = await createGroup({ identity: owner, groupId, ciphersuite: "PANDA10_AES256GCM" });
  const kp = await createKeyPackage(member);
  const added = await addMembers(state, [kp.keyPackage, ...(await Promise.all([1, 2, 3].map(async () => (await createKeyPackage(generateIdentity())).keyPackage)))]);
  state = added.state;
  let memberState = await joinGroup({ identity: member, secret: kp.secret, owner: owner.publicKey, commit: added.commit });
  const store = partStore();
  store.persist(memberState);
  sameState(store.load(), memberState);

  for (let i = 0; i < RETAIN_EPOCHS + 4; i++) {
    const next = await updateGroup(state);
    state = next.state;
    memberState = await processCommit(store.load(), next.commit);
    const written = store.persist(memberState);
    // a commit writes the new epoch (manifest, a chunk or two, secret tree, a few path nodes) and the head, never the whole tree again
    assert.equal(written.filter((w) => w === "+l").length, 1);
    assert.equal(written.filter((w) => w === "+m").length, 1);
    assert.ok(written.filter((w) => w === "+k").length <= 2, `chunks written: ${written.join(" ")}`);
    assert.ok(!written.some((w) => w === "+s" || w === "+t"), "nothing in the format of before 3");
    assert.ok(written.filter((w) => w === "+n").length <= 8, `path nodes written: ${written.join(" ")}`);
  }
  sameState(store.load(), memberState);
  const epochsStored = [...store.parts.keys()].filter((k) => k.startsWith("l/")).length;
  assert.ok(epochsStored <= RETAIN_EPOCHS + 1, `${epochsStored} secret trees stored`);
  assert.ok([...store.parts.keys()].every((k) => /^(h|m\/\d{20}|l\/\d{20}|o\/\d{20}\/\d{8}|[nk]\/[0-9a-f]{32})$/.test(k)));

  // a sender-ratchet message changes one secret-tree node: one override part, nothing else
  const sent = await encrypt(state, utf8("hi"), { scheme: "sender-ratchet" });
  const read = await decrypt(store.load(), sent.message);
  assert.equal(new TextDecoder().decode(read.plaintext), "hi");
  assert.deepEqual(store.persist(read.state), ["+o"]);
  sameState(store.peek(), read.state);
  // a long-term message changes nothing stored (the nonce counter lives in the group record)
  const lt = await encrypt(read.state, utf8("x"), { scheme: "long-term" });
  assert.deepEqual(store.persist(lt.state), []);
  assert.equal(store.peek(41n).nonceCounter, 41n);
});

test("a missing or corrupt part is a DecodeError, never a silently different state", async () => {
  const owner = generateIdentity();
  const state = await createGroup({ identity: owner, groupId: new Uint8Array(32).fill(1), ciphersuite: "PANDA10_AES128GCM" });
  const store = partStore();
  store.persist(state);
  for (const key of [...store.parts.keys()]) {
    const copy = new Map(store.parts);
    copy.delete(key);
    assert.throws(() => loadGroupState([...copy], 0n), { code: "DECODE_ERROR" }, `without ${key}`);
    const cut = new Map(store.parts);
    cut.set(key, (store.parts.get(key) as Uint8Array).subarray(0, 3));
    assert.throws(() => loadGroupState([...cut], 0n), { code: "DECODE_ERROR" }, `truncated ${key}`);
  }
});
