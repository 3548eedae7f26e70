/**
 * Sender-ratchet messages in the epoch a commit starts cross between the committer, a member who
 * processed the commit and the members who joined by it: each derives the epoch's secret tree on
 * its own path (createCommit, processCommit, joining from a Welcome), lazily since our ts-mls patch.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decrypt, encrypt, updateGroup, processCommit } from "../src/group/index.js";
import { addNew, makeGroup, text } from "./group-fixtures.js";
import type { Member } from "./group-fixtures.js";

async function crossAll(members: Member[], label: string): Promise<void> {
  for (const sender of members) {
    const e = await encrypt(sender.state, text(`${label} from ${members.indexOf(sender)}`), { scheme: "sender-ratchet" });
    sender.state = e.state;
    for (const reader of members) {
      if (reader === sender) continue;
      const d = await decrypt(reader.state, e.message);
      reader.state = d.state;
      assert.deepEqual(d.plaintext, text(`${label} from ${members.indexOf(sender)}`), `${label}: ${members.indexOf(reader)} reads ${members.indexOf(sender)}`);
    }
  }
}

test("sender-ratchet messages cross between committer, processing member and joiners in a fresh epoch", async () => {
  const { owner, members } = await makeGroup(1); // bob joined by the first commit
  const joined = await addNew(owner, members, 2); // bob processed this commit, the two joined by it
  await crossAll([owner, ...members, ...joined], "after add");
  const u = await updateGroup(owner.state, { rotate: false });
  owner.state = u.state;
  for (const m of [...members, ...joined]) m.state = await processCommit(m.state, u.commit);
  await crossAll([owner, ...members, ...joined], "after update");
});
