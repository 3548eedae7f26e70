/**
 * Our ts-mls patch on the owner's add commit (patches/ts-mls+1.6.4.patch): the Welcome's
 * EncryptContext and the committer's filtered direct path are computed once per commit, the
 * duplicate checks of add proposals are set lookups, and a commit adding nobody builds no
 * GroupInfo. Every joiner must still get the path secret of its own common ancestor (else its
 * join fails or lands in another epoch), and the duplicate checks must refuse exactly what
 * the pairwise scans refused.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { addMembers, removeMembers, updateGroup } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { mlsCommit } from "../src/mls/commit.js";
import { findLeafByIdentity, mlsExport } from "../src/mls/group.js";
import { addNew, makeGroup, rejectsWith } from "./group-fixtures.js";

const exporter = (s: { state: { mls: Parameters<typeof mlsExport>[0]; provider: Parameters<typeof mlsExport>[1] } }) => mlsExport(s.state.mls, s.state.provider, "patch-check", 32);

test("every member added in one commit to an uneven tree joins the owner's epoch", async () => {
  const { owner, members } = await makeGroup(9);
  // blanks at several depths: the joiners' common ancestors with the owner differ
  let state = (await removeMembers(owner.state, [members[1]!.identity.publicKey, members[4]!.identity.publicKey, members[7]!.identity.publicKey])).state;
  state = (await updateGroup(state)).state;
  owner.state = state;
  const joined = await addNew(owner, [], 21);
  const want = await exporter(owner);
  for (const j of joined) assert.deepEqual(await exporter(j), want);
});

test("an update commit makes no Welcome, an add commit does", async () => {
  const { owner } = await makeGroup(3);
  assert.equal((await updateGroup(owner.state)).parts.mlsWelcome, undefined);
  const kp = await createKeyPackage(generateIdentity());
  assert.ok((await addMembers(owner.state, [kp.keyPackage])).parts.mlsWelcome !== undefined);
});

test("ts-mls still refuses two adds of one client and the add of a member, but not of one removed in the same commit", async () => {
  const { owner, members } = await makeGroup(4);
  const fresh = await createKeyPackage(generateIdentity());
  const other = await createKeyPackage(generateIdentity());
  // through mlsCommit: addMembers refuses these itself (ALREADY_MEMBER) before ts-mls sees them
  await rejectsWith(() => mlsCommit(owner.state.mls, owner.state.provider, { add: [fresh.keyPackage, other.keyPackage, fresh.keyPackage] }), "INVALID_KEY_PACKAGE");
  const carol = members[2]!;
  const again = await createKeyPackage(carol.identity);
  await rejectsWith(() => mlsCommit(owner.state.mls, owner.state.provider, { add: [other.keyPackage, again.keyPackage] }), "INVALID_KEY_PACKAGE");
  const leaf = findLeafByIdentity(owner.state.mls, carol.identity.publicKey);
  assert.ok(leaf !== undefined);
  const merged = await mlsCommit(owner.state.mls, owner.state.provider, { remove: [leaf], add: [other.keyPackage, again.keyPackage] });
  assert.ok(merged.welcome !== undefined);
  assert.ok(findLeafByIdentity(merged.state, carol.identity.publicKey) !== undefined);
});
