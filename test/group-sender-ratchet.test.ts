import { test } from "node:test";
import assert from "node:assert/strict";
import { decrypt, encrypt, peekMessage, processCommit, updateGroup } from "../src/group/index.js";
import { RETAIN_EPOCHS } from "../src/constants.js";
import { makeGroup, rejectsWith, text } from "./group-fixtures.js";

test("1000 sender-ratchet messages delivered in reverse order all decrypt, then each replay is rejected", async () => {
  const { owner, members } = await makeGroup(1);
  const bob = members[0]!;
  const messages: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) {
    const e = await encrypt(owner.state, text(`message ${i}`), { scheme: "sender-ratchet" });
    owner.state = e.state;
    messages.push(e.message);
  }
  let state = bob.state;
  for (let i = 999; i >= 0; i--) {
    const d = await decrypt(state, messages[i]!);
    assert.deepEqual(d.plaintext, text(`message ${i}`));
    state = d.state;
  }
  for (const i of [0, 500, 999]) await rejectsWith(() => decrypt(state, messages[i]!), "REPLAY");
  // the original state has not used any key: it still reads them
  assert.deepEqual((await decrypt(bob.state, messages[0]!)).plaintext, text("message 0"));
});

test("a replayed sender-ratchet message is rejected; the sender cannot read its own message", async () => {
  const { owner, members } = await makeGroup(2);
  const [bob, carol] = members as [NonNullable<(typeof members)[0]>, NonNullable<(typeof members)[0]>];
  const e = await encrypt(bob.state, text("once"), { scheme: "sender-ratchet" });
  bob.state = e.state;
  const first = await decrypt(carol.state, e.message);
  assert.deepEqual(first.plaintext, text("once"));
  carol.state = first.state;
  await rejectsWith(() => decrypt(carol.state, e.message), "REPLAY");
  // DESIGN.md section 3: MLS deletes the sender's key on use
  await rejectsWith(() => decrypt(bob.state, e.message), "REPLAY");
  assert.deepEqual((await decrypt(owner.state, e.message)).plaintext, text("once"));
});

test("messages from 10 epochs back still decrypt; beyond the retention window they do not", async () => {
  const { owner, members } = await makeGroup(2);
  const [bob, carol] = members as [NonNullable<(typeof members)[0]>, NonNullable<(typeof members)[0]>];
  const startEpoch = owner.state.mlsEpoch;
  const e = await encrypt(bob.state, text("ten epochs ago"), { scheme: "sender-ratchet" });
  bob.state = e.state;
  const longTerm = await encrypt(bob.state, text("long-term ten epochs ago"), { scheme: "long-term" });
  bob.state = longTerm.state;
  for (let i = 0; i < 10; i++) {
    const r = await updateGroup(owner.state, { rotate: i % 3 === 0 });
    owner.state = r.state;
    carol.state = await processCommit(carol.state, r.commit);
    bob.state = await processCommit(bob.state, r.commit);
  }
  assert.equal(carol.state.mlsEpoch, startEpoch + 10n);
  assert.equal(peekMessage(e.message).epoch, startEpoch);
  assert.deepEqual((await decrypt(carol.state, e.message)).plaintext, text("ten epochs ago"));
  assert.deepEqual((await decrypt(owner.state, e.message)).plaintext, text("ten epochs ago"));
  assert.deepEqual((await decrypt(carol.state, longTerm.message)).plaintext, text("long-term ten epochs ago"));
  // a message of the current epoch after ten rotations
  const now = await encrypt(carol.state, text("now"), { scheme: "sender-ratchet" });
  assert.deepEqual((await decrypt(bob.state, now.message)).plaintext, text("now"));
  // past the retention window the epoch's keys are gone
  for (let i = 0; i < RETAIN_EPOCHS - 10 + 1; i++) {
    const r = await updateGroup(owner.state);
    owner.state = r.state;
    carol.state = await processCommit(carol.state, r.commit);
  }
  await rejectsWith(() => decrypt(carol.state, e.message), "UNKNOWN_EPOCH");
  assert.deepEqual((await decrypt(carol.state, longTerm.message)).plaintext, text("long-term ten epochs ago"));
});

test("a sender-ratchet message from a future epoch is UNKNOWN_EPOCH until the commit is processed", async () => {
  const { owner, members } = await makeGroup(1);
  const bob = members[0]!;
  const r = await updateGroup(owner.state);
  owner.state = r.state;
  const e = await encrypt(owner.state, text("future"), { scheme: "sender-ratchet" });
  await rejectsWith(() => decrypt(bob.state, e.message), "UNKNOWN_EPOCH");
  bob.state = await processCommit(bob.state, r.commit);
  assert.deepEqual((await decrypt(bob.state, e.message)).plaintext, text("future"));
});
