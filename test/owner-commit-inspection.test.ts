/**
 * The owner's add commit is inspected from the objects ts-mls made before they were encoded
 * (`addMembersInspected`, used by the engine's worker so an add of N members is not decoded
 * again): that inspection must equal what `inspectCommit` reads from the encoded commit, in a
 * new group and in one whose tree has blanks the adds fill.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { addMembersInspected } from "../src/group/commit.js";
import { createGroup, inspectCommit, removeMembers } from "../src/group/index.js";
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
