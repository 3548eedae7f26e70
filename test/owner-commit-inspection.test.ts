/**
 * The owner's commits are inspected from the objects ts-mls made before they were encoded
 * (`addMembersInspected`, `removeMembersInspected`, `updateGroupInspected`, used by the engine's
 * worker so a commit is not decoded again): that inspection must equal what `inspectCommit`
 * reads from the encoded commit, for an add in a new group and in one whose tree has blanks the
 * adds fill, and for removes, updates and rotations (with and without a rotation each).
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { addMembersInspected, removeMembersInspected, updateGroupInspected } from "../src/group/commit.js";
import { createGroup, inspectCommit, removeMembers, rotateLongTermSecret, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { newGroupId } from "./group-fixtures.js";

async function newcomers(count: number): Promise<{ identities: Identity[]; keyPackages: Uint8Array[] }> {
  const identities = Array.from({ length: count }, () => generateIdentity());
  const keyPackages = await Promise.all(identities.map(async (id) => (await createKeyPackage(id)).keyPackage));
  return { identities, keyPackages };
}

test("addMembersInspected: the inspection equals inspectCommit of the encoded commit (new group, blanks filled, rotation)", async () => {
  const owner = generateIdentity();
  let state = await createGroup({ identity: owner, groupId: newGroupId(), ciphersuite: "PANDA10_AES256GCM" });
  const first = await newcomers(7);
  const added = await addMembersInspected(state, first.keyPackages);
  assert.deepEqual(added.inspection, inspectCommit(added.result.commit));
  assert.equal(added.inspection.kind, "add");
  assert.equal(added.inspection.addedKeyPackageRefs.length, 7);
  assert.deepEqual(added.inspection.addedPublicKeys, first.identities.map((i) => i.publicKey));
  state = added.result.state;

  // blanks at leaves 2, 4 and 5: the next adds fill them, then extend the tree
  state = (await removeMembers(state, [1, 3, 4].map((i) => first.identities[i]!.publicKey))).state;
  const second = await newcomers(5);
  const refill = await addMembersInspected(state, second.keyPackages, { rotate: true });
  assert.deepEqual(refill.inspection, inspectCommit(refill.result.commit));
  assert.deepEqual(refill.inspection, inspectCommit(refill.result.parts));
  assert.equal(refill.inspection.mlsEpoch, state.mlsEpoch);
  assert.deepEqual(refill.inspection.groupId, state.groupId);
});

test("removeMembersInspected and updateGroupInspected: the inspection equals inspectCommit of the encoded commit, the result that of the public call", async () => {
  const owner = generateIdentity();
  let state: GroupState = await createGroup({ identity: owner, groupId: newGroupId(), ciphersuite: "PANDA10_AES128GCM" });
  const people = await newcomers(6);
  state = (await addMembersInspected(state, people.keyPackages)).result.state;
  const kinds: string[] = [];
  const steps: Array<(s: GroupState) => ReturnType<typeof updateGroupInspected>> = [
    (s) => removeMembersInspected(s, [people.identities[2]!.publicKey]),
    (s) => removeMembersInspected(s, [people.identities[0]!.publicKey, people.identities[5]!.publicKey], { rotate: false }),
    (s) => updateGroupInspected(s),
    (s) => updateGroupInspected(s, { rotate: true }),
  ];
  for (const step of steps) {
    const { result, inspection } = await step(state);
    assert.deepEqual(inspection, inspectCommit(result.commit));
    assert.deepEqual(inspection, inspectCommit(result.parts));
    kinds.push(inspection.kind);
    state = result.state;
  }
  assert.deepEqual(kinds, ["remove", "remove", "update", "update"]);
  assert.equal(state.secrets.length, 3, "the first remove and the last update rotated");
  // the public calls are the inspected ones' results: same epochs, members and secret lists
  const viaPublic = [
    await removeMembers(state, [people.identities[1]!.publicKey]),
    await updateGroup(state),
    await rotateLongTermSecret(state),
  ];
  const viaInspected = [
    await removeMembersInspected(state, [people.identities[1]!.publicKey]),
    await updateGroupInspected(state),
    await updateGroupInspected(state, { rotate: true }),
  ];
  for (const [i, r] of viaPublic.entries()) {
    const inspected = viaInspected[i]!;
    assert.deepEqual(inspectCommit(r.commit), inspected.inspection);
    assert.deepEqual(r.state.secrets.map((s) => s.epoch), inspected.result.state.secrets.map((s) => s.epoch));
    assert.equal(r.state.mlsEpoch, inspected.result.state.mlsEpoch);
  }
});
