/**
 * README "Security model": long-term, late joiners read the past, across rotations: the commit
 * that adds them carries every long-term secret of the group's history, not just the latest.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decrypt, encrypt, rotateLongTermSecret, processCommit } from "../src/group/index.js";
import { addNew, makeGroup, rejectsWith, text } from "./group-fixtures.js";

test("a member added after three rotations reads long-term data of every earlier long-term epoch", async () => {
  const { owner, members } = await makeGroup(1);
  const bob = members[0]!;
  const written: Uint8Array[] = [];
  for (let epoch = 0; epoch < 4; epoch++) {
    const e = await encrypt(bob.state, text(`written under secret ${epoch}`), { scheme: "long-term" });
    bob.state = e.state;
    written.push(e.message);
    if (epoch < 3) {
      const r = await rotateLongTermSecret(owner.state);
      owner.state = r.state;
      bob.state = await processCommit(bob.state, r.commit);
    }
  }
  const sr = await encrypt(bob.state, text("sender-ratchet before carol"), { scheme: "sender-ratchet" });
  const [carol] = await addNew(owner, [bob], 1);
  assert.ok(carol);
  assert.deepEqual(carol.state.secrets.map((s) => s.epoch), [0n, 1n, 2n, 3n]);
  for (let epoch = 0; epoch < 4; epoch++) {
    assert.deepEqual((await decrypt(carol.state, written[epoch]!)).plaintext, text(`written under secret ${epoch}`));
  }
  // the sender-ratchet past stays closed to her
  await rejectsWith(() => decrypt(carol.state, sr.message), "UNKNOWN_EPOCH");
});
