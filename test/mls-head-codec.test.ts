/**
 * The stored head's ts-mls half (src/mls/headCodec.ts) is ts-mls's own encoding of the stripped
 * state, byte for byte, whatever the past epochs held: none (a fresh group), a full retention
 * window, entries changed by a decryption in a past epoch (a new entry object), a member removed,
 * and after the cache saw the same entries in earlier states; a state loaded from its stored parts
 * writes its past entries back as its head held them (`decodeStrippedState` keeps their bytes).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeGroupState, encodeGroupState } from "ts-mls";
import type { ClientState } from "ts-mls";
import { toHex, utf8 } from "../src/bytes.js";
import { RETAIN_EPOCHS } from "../src/constants.js";
import { decrypt, encrypt, processCommit, removeMembers, updateGroup } from "../src/group/index.js";
import { decodeStrippedState, encodeStrippedState, stripTrees } from "../src/mls/headCodec.js";
import { loadState, stageState } from "../src/mls/storage.js";
import { makeGroup } from "./group-fixtures.js";

const same = (mls: ClientState, at: string): void => assert.equal(toHex(encodeStrippedState(mls)), toHex(encodeGroupState(stripTrees(mls))), at);

test("the head's ts-mls bytes equal encodeGroupState of the stripped state at every step", async () => {
  const { owner, members } = await makeGroup(4);
  const [alice, bob] = members as [(typeof members)[0], (typeof members)[0]];
  same(owner.state.mls, "fresh group, owner");
  same(alice.state.mls, "fresh group, joiner (no past epochs)");
  const pending: Uint8Array[] = [];
  for (let i = 0; i < RETAIN_EPOCHS + 3; i++) {
    // a message of this epoch, opened only after the next commits: a past epoch's entry changes
    if (i % 3 === 0) pending.push((await encrypt(owner.state, utf8(`epoch ${i}`), { scheme: "sender-ratchet" })).message);
    const c = await updateGroup(owner.state);
    owner.state = c.state;
    alice.state = await processCommit(alice.state, c.commit);
    bob.state = await processCommit(bob.state, c.commit);
    same(owner.state.mls, `owner after update ${i}`);
    same(alice.state.mls, `member after update ${i}`);
    if (i % 3 === 2) {
      const before = alice.state.mls.historicalReceiverData;
      alice.state = (await decrypt(alice.state, pending.shift() as Uint8Array)).state;
      assert.notEqual(alice.state.mls.historicalReceiverData, before, "the decryption changed a past epoch's entry");
      same(alice.state.mls, `member after a past epoch's message ${i}`);
    }
  }
  const removed = await removeMembers(owner.state, [bob.identity.publicKey]);
  owner.state = removed.state;
  same(owner.state.mls, "owner after a remove");
  same((await processCommit(alice.state, removed.commit)).mls, "member after a remove");
  same((await processCommit(bob.state, removed.commit)).mls, "the removed member");
});

test("a state loaded from its parts writes its past epochs' entries back as the head held them, and decodes its head as ts-mls does", async () => {
  const { owner, members } = await makeGroup(3);
  let alice = (members as [(typeof members)[0]])[0].state;
  for (let i = 0; i < RETAIN_EPOCHS + 2; i++) {
    const c = await updateGroup(owner.state);
    owner.state = c.state;
    alice = await processCommit(alice, c.commit);
  }
  const tsHead = encodeStrippedState(alice.mls);
  // field for field as ts-mls 1.6.4's decodeGroupState
  const ours = decodeStrippedState(tsHead);
  const theirs = decodeGroupState(tsHead, 0);
  assert.ok(ours !== undefined && theirs !== undefined && theirs[1] === tsHead.length);
  assert.deepEqual(ours, theirs[0]);
  // cut, as ts-mls's decoder: it throws its CodecError (the loader's guard makes it a DecodeError)
  assert.throws(() => decodeGroupState(tsHead.subarray(0, tsHead.length - 1), 0), { name: "CodecError" });
  assert.throws(() => decodeStrippedState(tsHead.subarray(0, tsHead.length - 1)), { name: "CodecError" });
  assert.equal(decodeStrippedState(Uint8Array.from([...tsHead, 0])), undefined, "a byte left over: undefined");
  // loaded (past epochs' entries built lazily, their head bytes kept): the same head, then the
  // same head as ts-mls's encoding after a commit on the loaded state
  const parts = stageState(new Uint8Array(0), alice.mls, undefined).parts.filter((p): p is readonly [string, Uint8Array] => p[1] !== null);
  const loaded = loadState(parts);
  assert.equal(loaded.mls.historicalReceiverData.size, RETAIN_EPOCHS);
  assert.equal(toHex(encodeStrippedState(loaded.mls)), toHex(tsHead), "the loaded state's head");
  const c = await updateGroup(owner.state);
  const next = await processCommit({ ...alice, mls: loaded.mls }, c.commit);
  same(next.mls, "the loaded state after a commit");
});
