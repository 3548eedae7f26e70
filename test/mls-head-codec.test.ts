/**
 * The stored head's ts-mls half (src/mls/headCodec.ts) is ts-mls's own encoding of the stripped
 * state, byte for byte, whatever the past epochs held: none (a fresh group), a full retention
 * window, entries changed by a decryption in a past epoch (a new entry object), a member removed,
 * and after the cache saw the same entries in earlier states.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeGroupState } from "ts-mls";
import type { ClientState } from "ts-mls";
import { toHex, utf8 } from "../src/bytes.js";
import { RETAIN_EPOCHS } from "../src/constants.js";
import { decrypt, encrypt, processCommit, removeMembers, updateGroup } from "../src/group/index.js";
import { encodeStrippedState, stripTrees } from "../src/mls/headCodec.js";
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
