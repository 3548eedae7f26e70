/**
 * Joins after removals (RFC 9420 12.4.3.1): add-only commits carry no UpdatePath, so parents keep
 * growing unmerged_leaves lists; a joiner must accept such trees. ts-mls 1.6.4 refused them until
 * our patch (patches/ts-mls+1.6.4.patch).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decrypt, encrypt, removeMembers, processCommit, groupMembers } from "../src/group/index.js";
import { equalBytes } from "../src/bytes.js";
import { addNew, makeGroup, text } from "./group-fixtures.js";
import type { Member } from "./group-fixtures.js";

async function applyToAll(members: Member[], commit: Uint8Array): Promise<void> {
  for (const m of members) if (m.state.status === "member") m.state = await processCommit(m.state, commit);
}

test("members added after removals at leaves 1 and 5 join, together or one by one", async () => {
  for (const oneByOne of [false, true]) {
    const { owner, members } = await makeGroup(7);
    const removed = [members[0]!, members[4]!]; // leaves 1 and 5
    const r = await removeMembers(owner.state, removed.map((m) => m.identity.publicKey));
    owner.state = r.state;
    await applyToAll(members, r.commit);
    for (const m of removed) assert.equal(m.state.status, "removed");
    const remaining = members.filter((m) => !removed.includes(m));
    const late: Member[] = [];
    if (oneByOne) {
      late.push(...(await addNew(owner, remaining, 1)));
      late.push(...(await addNew(owner, [...remaining, ...late], 1)));
    } else {
      late.push(...(await addNew(owner, remaining, 2)));
    }
    const all = [...remaining, ...late];
    for (const m of all) {
      assert.equal(m.state.status, "member");
      assert.equal(m.state.mlsEpoch, owner.state.mlsEpoch);
      assert.equal(groupMembers(m.state).length, 8);
    }
    const e = await encrypt(owner.state, text("after churn"), { scheme: "long-term" });
    owner.state = e.state;
    for (const m of late) {
      const d = await decrypt(m.state, e.message);
      assert.ok(equalBytes(d.plaintext, text("after churn")));
    }
  }
});
