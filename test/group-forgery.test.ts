import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeSecretGroupCommit, decodeSecretGroupCommit } from "../src/commit.js";
import { addMembers, decrypt, encodeGroupState, encrypt, joinGroup, processCommit, rotateLongTermSecret } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { sealSecretList } from "../src/group/secrets.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { deriveLongTermSecret } from "../src/lts/derive.js";
import { mlsCommit } from "../src/mls/commit.js";
import { mlsExport } from "../src/mls/group.js";
import { makeGroup, rejectsWith, text } from "./group-fixtures.js";

/** `member`'s secret list and one more secret of its own (epoch `epoch`), sealed in the MLS epoch `mls`. */
async function sealWithOwnSecret(member: GroupState, mls: GroupState["mls"], epoch: bigint): ReturnType<typeof sealSecretList> {
  const evil = await deriveLongTermSecret((label, length) => mlsExport(mls, member.provider, label, length), member.groupId, member.ciphersuite, epoch);
  return sealSecretList(mls, member.provider, [...member.secrets, evil]);
}

/** A member (not the owner) forges a commit through src/mls, with its own secret list. */
async function forgeCommit(forger: GroupState, add?: Uint8Array[]): Promise<Uint8Array> {
  const merged = await mlsCommit(forger.mls, forger.provider, add === undefined ? {} : { add });
  const sealed = await sealWithOwnSecret(forger, merged.state, 99n);
  return encodeSecretGroupCommit(
    merged.welcome === undefined
      ? { mlsCommit: merged.commit, encryptedSecrets: sealed.encryptedSecrets }
      : { mlsCommit: merged.commit, mlsWelcome: merged.welcome, encryptedSecrets: sealed.encryptedSecrets },
  );
}

test("a non-owner's commit is rejected by every member with FORGED_SENDER and changes no state", async () => {
  const { owner, members } = await makeGroup(2);
  const [bob, carol] = members as [NonNullable<(typeof members)[0]>, NonNullable<(typeof members)[0]>];
  const forged = await forgeCommit(bob.state);
  for (const m of [owner, carol]) {
    const before = encodeGroupState(m.state);
    await rejectsWith(() => processCommit(m.state, forged), "FORGED_SENDER");
    assert.deepEqual(encodeGroupState(m.state), before);
  }
  // the group goes on: the owner's next commit is accepted by everyone, messages still flow
  const r = await rotateLongTermSecret(owner.state);
  owner.state = r.state;
  bob.state = await processCommit(bob.state, r.commit);
  carol.state = await processCommit(carol.state, r.commit);
  assert.deepEqual(carol.state.secrets.map((s) => s.epoch), [0n, 1n]);
  const e = await encrypt(carol.state, text("still fine"), { scheme: "sender-ratchet" });
  assert.deepEqual((await decrypt(bob.state, e.message)).plaintext, text("still fine"));
});

test("an owner commit whose secret list another member sent is rejected (processCommit and joinGroup)", async () => {
  const { owner, members } = await makeGroup(2);
  const [bob, carol] = members as [NonNullable<(typeof members)[0]>, NonNullable<(typeof members)[0]>];
  const dave = generateIdentity();
  const kp = await createKeyPackage(dave);
  const r = await addMembers(owner.state, [kp.keyPackage]);
  // bob processes the genuine commit, then sends his own secret list in the new epoch
  const bobNext = await processCommit(bob.state, r.commit);
  const sealed = await sealWithOwnSecret(bobNext, bobNext.mls, 7n);
  const parts = decodeSecretGroupCommit(r.commit);
  const swapped = encodeSecretGroupCommit({ ...parts, encryptedSecrets: sealed.encryptedSecrets });
  const before = encodeGroupState(carol.state);
  await rejectsWith(() => processCommit(carol.state, swapped), "FORGED_SENDER");
  assert.deepEqual(encodeGroupState(carol.state), before);
  await rejectsWith(() => joinGroup({ identity: dave, secret: kp.secret, owner: owner.identity.publicKey, commit: swapped }), "FORGED_SENDER");
  // the genuine commit works for both
  const daveState = await joinGroup({ identity: dave, secret: kp.secret, owner: owner.identity.publicKey, commit: r.commit });
  assert.equal(daveState.secrets.length, 1);
  assert.equal((await processCommit(carol.state, r.commit)).mlsEpoch, daveState.mlsEpoch);
});

test("joinGroup refuses a Welcome whose commit was not sent by the named owner", async () => {
  const { owner, members } = await makeGroup(1);
  const bob = members[0]!;
  const dave = generateIdentity();
  const kp = await createKeyPackage(dave);
  // bob (a member, not the owner) adds dave through src/mls
  const forged = await forgeCommit(bob.state, [kp.keyPackage]);
  await rejectsWith(() => joinGroup({ identity: dave, secret: kp.secret, owner: owner.identity.publicKey, commit: forged }), "FORGED_SENDER");
  // naming the forger as owner does not help a genuine commit either way
  const r = await addMembers(owner.state, [kp.keyPackage]);
  await rejectsWith(() => joinGroup({ identity: dave, secret: kp.secret, owner: bob.identity.publicKey, commit: r.commit }), "FORGED_SENDER");
  // someone who is not in the group at all
  await rejectsWith(
    () => joinGroup({ identity: dave, secret: kp.secret, owner: generateIdentity().publicKey, commit: r.commit }),
    "FORGED_SENDER",
  );
  // and the members refuse the forged commit too
  await rejectsWith(() => processCommit(owner.state, forged), "FORGED_SENDER");
});

test("joinGroup refuses commits without a Welcome, Welcomes for someone else, and mismatched secrets", async () => {
  const { owner } = await makeGroup(0);
  const dave = generateIdentity();
  const erin = generateIdentity();
  const kpDave = await createKeyPackage(dave);
  const kpErin = await createKeyPackage(erin);
  const r = await addMembers(owner.state, [kpDave.keyPackage]);
  // erin's key package was not added
  await rejectsWith(() => joinGroup({ identity: erin, secret: kpErin.secret, owner: owner.identity.publicKey, commit: r.commit }), "INVALID_WELCOME");
  // dave's secret with erin's identity
  await rejectsWith(() => joinGroup({ identity: erin, secret: kpDave.secret, owner: owner.identity.publicKey, commit: r.commit }), "INVALID_KEY_PACKAGE");
  const noWelcome = (await rotateLongTermSecret(r.state)).commit;
  await rejectsWith(() => joinGroup({ identity: dave, secret: kpDave.secret, owner: owner.identity.publicKey, commit: noWelcome }), "INVALID_WELCOME");
  // a Welcome spliced onto another commit of the group
  const parts = decodeSecretGroupCommit(r.commit);
  const next = decodeSecretGroupCommit(noWelcome);
  const spliced = encodeSecretGroupCommit({ mlsCommit: next.mlsCommit, mlsWelcome: parts.mlsWelcome!, encryptedSecrets: parts.encryptedSecrets });
  await rejectsWith(() => joinGroup({ identity: dave, secret: kpDave.secret, owner: owner.identity.publicKey, commit: spliced }), "INVALID_WELCOME");
});

test("commits for another group or another epoch are refused with typed errors", async () => {
  const a = await makeGroup(1);
  const b = await makeGroup(1);
  const ra = await rotateLongTermSecret(a.owner.state);
  const bob = b.members[0]!;
  await rejectsWith(() => processCommit(bob.state, ra.commit), "WRONG_GROUP");
  const aBob = a.members[0]!;
  const next = await processCommit(aBob.state, ra.commit);
  // applying the same commit twice
  await rejectsWith(() => processCommit(next, ra.commit), "UNKNOWN_EPOCH");
  // a commit from two epochs ahead (its predecessor missing)
  const ra2 = await rotateLongTermSecret(ra.state);
  const ra3 = await rotateLongTermSecret(ra2.state);
  await rejectsWith(() => processCommit(next, ra3.commit), "UNKNOWN_EPOCH");
  // the owner does not apply its own commit
  await rejectsWith(() => processCommit(ra.state, ra2.commit), "INVALID_ARGUMENT");
  await rejectsWith(() => processCommit(ra2.state, ra2.commit), "UNKNOWN_EPOCH");
  // messages of another group
  const e = await encrypt(a.owner.state, text("a"), { scheme: "long-term" });
  await rejectsWith(() => decrypt(bob.state, e.message), "WRONG_GROUP");
  const s = await encrypt(a.owner.state, text("a"), { scheme: "sender-ratchet" });
  await rejectsWith(() => decrypt(bob.state, s.message), "WRONG_GROUP");
});
