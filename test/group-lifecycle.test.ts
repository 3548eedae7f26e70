import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  addMembers,
  createGroup,
  decodeGroupState,
  decrypt,
  describeGroup,
  encodeGroupState,
  encrypt,
  groupMembers,
  inspectCommit,
  joinGroup,
  peekMessage,
  processCommit,
  removeMembers,
  rotateLongTermSecret,
  updateGroup,
} from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage, keyPackageInfo } from "../src/keyPackage.js";
import { longTermKeyLabel } from "../src/lts/derive.js";
import { mlsExport } from "../src/mls/group.js";
import { LTS_KEY_SIZE, STORAGE_VERSION } from "../src/constants.js";
import type { LongTermCiphersuiteName } from "../src/constants.js";
import { equalBytes } from "../src/bytes.js";
import { addNew, makeGroup, newGroupId, rejectsWith, text } from "./group-fixtures.js";

test("createGroup starts at long-term epoch 0 and MLS epoch 0 with the owner as only member", async () => {
  const alice = generateIdentity();
  const groupId = newGroupId();
  const s = await createGroup({ identity: alice, groupId, ciphersuite: "PANDA10_AES128GCM" });
  assert.equal(s.status, "member");
  assert.equal(s.mlsEpoch, 0n);
  assert.equal(s.secrets.length, 1);
  assert.equal(s.secrets[0]?.epoch, 0n);
  assert.equal(s.secrets[0]?.value.length, 16);
  assert.deepEqual(groupMembers(s), [alice.publicKey]);
  const d = describeGroup(s);
  assert.deepEqual(d.owner, alice.publicKey);
  assert.equal(d.longTermEpoch, 0n);
  await rejectsWith(() => createGroup({ identity: alice, groupId, ciphersuite: "NOPE" as LongTermCiphersuiteName }), "INVALID_ARGUMENT");
  await rejectsWith(() => createGroup({ identity: alice, groupId: new Uint8Array(5), ciphersuite: "PANDA10_AES128GCM" }), "INVALID_ARGUMENT");
  await rejectsWith(
    () => createGroup({ identity: alice, groupId, ciphersuite: "PANDA10_AES128GCM", mlsCiphersuite: "MLS_128_DHKEMP256_AES128GCM_SHA256_P256" }),
    "UNSUPPORTED_CIPHERSUITE",
  );
});

test("late joiner decrypts long-term data written before joining, not earlier sender-ratchet messages", async () => {
  const { owner, members } = await makeGroup(1);
  const bob = members[0]!;
  let e = await encrypt(owner.state, text("old long-term"), { scheme: "long-term" });
  owner.state = e.state;
  const oldLongTerm = e.message;
  e = await encrypt(owner.state, text("old ratchet"), { scheme: "sender-ratchet" });
  owner.state = e.state;
  const oldRatchet = e.message;
  e = await encrypt(bob.state, text("bob ratchet"), { scheme: "sender-ratchet" });
  bob.state = e.state;
  const bobRatchet = e.message;

  const [carol] = await addNew(owner, [bob], 1);
  assert.ok(carol);
  // long-term data from before carol joined
  assert.deepEqual((await decrypt(carol.state, oldLongTerm)).plaintext, text("old long-term"));
  // sender-ratchet messages of an epoch before carol joined
  await rejectsWith(() => decrypt(carol.state, oldRatchet), "UNKNOWN_EPOCH");
  await rejectsWith(() => decrypt(carol.state, bobRatchet), "UNKNOWN_EPOCH");
  // bob (a member back then) still reads both
  assert.deepEqual((await decrypt(bob.state, oldRatchet)).plaintext, text("old ratchet"));
  assert.deepEqual((await decrypt(owner.state, bobRatchet)).plaintext, text("bob ratchet"));
  // everyone agrees on members and epoch
  for (const m of [owner, bob, carol]) {
    assert.equal(m.state.mlsEpoch, 2n);
    assert.equal(groupMembers(m.state).length, 3);
  }
});

test("removed member: cannot read data after removal, cannot export the new key, keeps and uses old secrets", async () => {
  const { owner, members } = await makeGroup(2);
  const [bob, carol] = members as [typeof members[0] & {}, typeof members[0] & {}];
  const before = await encrypt(owner.state, text("before removal"), { scheme: "long-term" });
  owner.state = before.state;
  const oldBobState = bob.state;

  const r = await removeMembers(owner.state, [bob.identity.publicKey]);
  owner.state = r.state;
  assert.equal(owner.state.secrets.length, 2, "removal rotates by default");
  const info = inspectCommit(r.commit);
  assert.equal(info.kind, "remove");
  assert.deepEqual(info.removedLeaves, [1]);
  assert.equal(info.welcome, false);

  bob.state = await processCommit(bob.state, r.commit);
  carol.state = await processCommit(carol.state, r.commit);
  assert.equal(bob.state.status, "removed");
  assert.equal(carol.state.status, "member");
  assert.equal(carol.state.secrets.length, 2);
  assert.deepEqual(bob.state.secrets, oldBobState.secrets, "removed state keeps its secrets");
  assert.equal(bob.state.mlsEpoch, oldBobState.mlsEpoch);

  const after = await encrypt(owner.state, text("after removal"), { scheme: "long-term" });
  owner.state = after.state;
  assert.equal(peekMessage(after.message).epoch, 1n);
  assert.deepEqual((await decrypt(carol.state, after.message)).plaintext, text("after removal"));
  await rejectsWith(() => decrypt(bob.state, after.message), "UNKNOWN_EPOCH");

  // the removed member derives "long_term_secret1" from its last epoch: not the new key
  const newSecret = owner.state.secrets[1]!;
  const guess = await mlsExport(bob.state.mls, "default", longTermKeyLabel(1n), LTS_KEY_SIZE[newSecret.ciphersuite]);
  assert.equal(equalBytes(guess, newSecret.value), false);
  // and rotation came from the new epoch, not from the one bob shared (the 2022 leak)
  const fromOldEpoch = await mlsExport(oldBobState.mls, "default", longTermKeyLabel(1n), LTS_KEY_SIZE[newSecret.ciphersuite]);
  assert.equal(equalBytes(fromOldEpoch, newSecret.value), false);

  // old data still decrypts for the removed member; it cannot write any more
  assert.deepEqual((await decrypt(bob.state, before.message)).plaintext, text("before removal"));
  await rejectsWith(() => encrypt(bob.state, text("x"), { scheme: "long-term" }), "NOT_MEMBER");
  await rejectsWith(() => encrypt(bob.state, text("x"), { scheme: "sender-ratchet" }), "NOT_MEMBER");
  await rejectsWith(() => processCommit(bob.state, r.commit), "NOT_MEMBER");
  assert.equal(groupMembers(owner.state).length, 2);

  // a removed state survives storage
  const stored = decodeGroupState(encodeGroupState(bob.state));
  assert.equal(stored.status, "removed");
  assert.deepEqual((await decrypt(stored, before.message)).plaintext, text("before removal"));
});

test("removeMembers with rotate false keeps the long-term epoch; rotate and update commit as asked", async () => {
  const { owner, members } = await makeGroup(2);
  const [bob, carol] = members as [NonNullable<(typeof members)[0]>, NonNullable<(typeof members)[0]>];
  let r = await removeMembers(owner.state, [bob.identity.publicKey], { rotate: false });
  owner.state = r.state;
  carol.state = await processCommit(carol.state, r.commit);
  assert.equal(owner.state.secrets.length, 1);
  assert.equal(carol.state.secrets.length, 1);
  r = await updateGroup(owner.state);
  owner.state = r.state;
  assert.equal(inspectCommit(r.commit).kind, "update");
  carol.state = await processCommit(carol.state, r.commit);
  assert.equal(carol.state.secrets.length, 1);
  r = await rotateLongTermSecret(owner.state);
  owner.state = r.state;
  carol.state = await processCommit(carol.state, r.commit);
  assert.equal(carol.state.secrets.length, 2);
  assert.deepEqual(carol.state.secrets, owner.state.secrets);
  r = await updateGroup(owner.state, { rotate: true });
  owner.state = r.state;
  carol.state = await processCommit(carol.state, r.commit);
  assert.deepEqual(
    carol.state.secrets.map((s) => s.epoch),
    [0n, 1n, 2n],
  );
  assert.equal(describeGroup(carol.state).longTermEpoch, 2n);
  await rejectsWith(() => removeMembers(owner.state, [bob.identity.publicKey]), "INVALID_ARGUMENT");
  await rejectsWith(() => removeMembers(owner.state, [owner.identity.publicKey]), "INVALID_ARGUMENT");
});

test("owner-only operations refuse on a member's state with NOT_OWNER", async () => {
  const { members } = await makeGroup(1);
  const bob = members[0]!;
  const kp = await createKeyPackage(generateIdentity());
  await rejectsWith(() => addMembers(bob.state, [kp.keyPackage]), "NOT_OWNER");
  await rejectsWith(() => removeMembers(bob.state, [bob.identity.publicKey]), "NOT_OWNER");
  await rejectsWith(() => updateGroup(bob.state), "NOT_OWNER");
  await rejectsWith(() => rotateLongTermSecret(bob.state), "NOT_OWNER");
});

test("addMembers refuses members already in the group and bad key packages", async () => {
  const { owner, members } = await makeGroup(1);
  const bob = members[0]!;
  const again = await createKeyPackage(bob.identity);
  await rejectsWith(() => addMembers(owner.state, [again.keyPackage]), "ALREADY_MEMBER");
  const dave = generateIdentity();
  const k1 = await createKeyPackage(dave);
  const k2 = await createKeyPackage(dave);
  await rejectsWith(() => addMembers(owner.state, [k1.keyPackage, k2.keyPackage]), "ALREADY_MEMBER");
  await rejectsWith(() => addMembers(owner.state, [k1.keyPackage.subarray(0, 40)]), "DECODE_ERROR");
  await rejectsWith(() => addMembers(owner.state, []), "INVALID_ARGUMENT");
  const other = await createKeyPackage(dave, { ciphersuite: "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519" });
  await rejectsWith(() => addMembers(owner.state, [other.keyPackage]), "INVALID_KEY_PACKAGE");
  const info = keyPackageInfo(k1.keyPackage);
  assert.deepEqual(info.publicKey, dave.publicKey);
  assert.equal(info.ref.length, 32);
  assert.ok(info.notAfter > info.notBefore);
  // the Welcome of the commit names exactly that KeyPackageRef
  const r = await addMembers(owner.state, [k1.keyPackage]);
  const inspected = inspectCommit(r.commit);
  assert.equal(inspected.kind, "add");
  assert.equal(inspected.welcome, true);
  assert.deepEqual(inspected.addedKeyPackageRefs, [info.ref]);
  assert.equal(inspected.mlsEpoch, owner.state.mlsEpoch);
  assert.equal(inspected.senderLeafIndex, 0);
});

for (const ciphersuite of ["PANDA10_AES128GCM", "PANDA10_AES256GCM", "PANDA10_CHACHA20POLY1305"] as const) {
  test(`long-term scheme with ${ciphersuite}: 0 B to 1 MiB values, aad binding, every member reads`, async () => {
    const { owner, members } = await makeGroup(1, ciphersuite);
    const bob = members[0]!;
    assert.equal(bob.state.ciphersuite, ciphersuite);
    assert.equal(bob.state.secrets[0]?.value.length, LTS_KEY_SIZE[ciphersuite]);
    const aad = text("document-id/field");
    for (const size of [0, 1, 255, 256, 65_536, 1024 * 1024]) {
      const value = new Uint8Array(randomBytes(size));
      const e = await encrypt(bob.state, value, { scheme: "long-term", aad });
      assert.equal(e.state.nonceCounter, bob.state.nonceCounter + 1n);
      bob.state = e.state;
      assert.deepEqual((await decrypt(owner.state, e.message, { aad })).plaintext, value);
      await rejectsWith(() => decrypt(owner.state, e.message), "DECRYPTION_FAILED");
      await rejectsWith(() => decrypt(owner.state, e.message, { aad: text("other/field") }), "DECRYPTION_FAILED");
    }
    // same plaintext twice: different nonces, different ciphertexts
    const a = await encrypt(owner.state, text("same"), { scheme: "long-term" });
    const b = await encrypt(a.state, text("same"), { scheme: "long-term" });
    assert.notDeepEqual(a.message, b.message);
    // sender-ratchet values of the same sizes
    for (const size of [0, 1024 * 1024]) {
      const value = new Uint8Array(randomBytes(size));
      const e = await encrypt(owner.state, value, { scheme: "sender-ratchet", aad });
      owner.state = e.state;
      assert.deepEqual((await decrypt(bob.state, e.message, { aad })).plaintext, value);
    }
  });
}

test("encodeGroupState/decodeGroupState round-trip yields usable states", async () => {
  const { owner, members } = await makeGroup(1);
  const bob = members[0]!;
  const ownerBytes = encodeGroupState(owner.state);
  assert.equal(ownerBytes[0], STORAGE_VERSION);
  const ownerBack: GroupState = decodeGroupState(ownerBytes);
  assert.deepEqual(ownerBack.groupId, owner.state.groupId);
  assert.deepEqual(ownerBack.secrets, owner.state.secrets);
  assert.equal(ownerBack.mlsEpoch, owner.state.mlsEpoch);
  assert.equal(ownerBack.nonceCounter, owner.state.nonceCounter);
  // retention config is re-attached (16 epochs, 1000 generations), not ts-mls' default
  assert.equal(ownerBack.mls.clientConfig.keyRetentionConfig.retainKeysForEpochs, 16);
  assert.equal(ownerBack.mls.clientConfig.keyRetentionConfig.retainKeysForGenerations, 1000);
  const bobBack = decodeGroupState(encodeGroupState(bob.state));
  // the decoded owner commits, the decoded member follows, both exchange messages
  const r = await rotateLongTermSecret(ownerBack);
  const bobNext = await processCommit(bobBack, r.commit);
  const e = await encrypt(bobNext, text("from decoded"), { scheme: "sender-ratchet" });
  assert.deepEqual((await decrypt(r.state, e.message)).plaintext, text("from decoded"));
  const lt = await encrypt(r.state, text("lt"), { scheme: "long-term" });
  const bobAgain = decodeGroupState(encodeGroupState(bobNext));
  assert.deepEqual((await decrypt(bobAgain, lt.message)).plaintext, text("lt"));
  // a nonce counter survives storage
  const counted = decodeGroupState(encodeGroupState(lt.state));
  assert.equal(counted.nonceCounter, 1n);
  // an unknown storage version is a storage error
  const wrong = Uint8Array.from(ownerBytes);
  wrong[0] = 99;
  await rejectsWith(() => decodeGroupState(wrong), "STORAGE_VERSION");
});

test("input states are never mutated", async () => {
  const { owner, members } = await makeGroup(1);
  const bob = members[0]!;
  const ownerBytes = encodeGroupState(owner.state);
  const bobBytes = encodeGroupState(bob.state);
  const e1 = await encrypt(owner.state, text("a"), { scheme: "sender-ratchet" });
  await encrypt(owner.state, text("b"), { scheme: "long-term" });
  const r = await rotateLongTermSecret(owner.state);
  await decrypt(bob.state, e1.message);
  await processCommit(bob.state, r.commit);
  assert.deepEqual(encodeGroupState(owner.state), ownerBytes);
  assert.deepEqual(encodeGroupState(bob.state), bobBytes);
  // the same input state can be used again (no shared buffers were zeroed)
  const again = await decrypt(bob.state, e1.message);
  assert.deepEqual(again.plaintext, text("a"));
  const next = await processCommit(bob.state, r.commit);
  assert.equal(next.mlsEpoch, r.state.mlsEpoch);
});

test("a group on MLS ciphersuite 3 (X25519, ChaCha20-Poly1305, Ed25519) works end to end", async () => {
  const alice = generateIdentity();
  const bob = generateIdentity();
  const mlsCiphersuite = "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519";
  let a = await createGroup({ identity: alice, groupId: newGroupId(), ciphersuite: "PANDA10_CHACHA20POLY1305", mlsCiphersuite });
  const kp = await createKeyPackage(bob, { ciphersuite: mlsCiphersuite });
  const r = await addMembers(a, [kp.keyPackage]);
  a = r.state;
  let b = await joinGroup({ identity: bob, secret: kp.secret, owner: alice.publicKey, commit: r.commit });
  const e = await encrypt(b, text("chacha"), { scheme: "sender-ratchet" });
  b = e.state;
  assert.deepEqual((await decrypt(a, e.message)).plaintext, text("chacha"));
  const rot = await rotateLongTermSecret(a);
  b = await processCommit(b, rot.commit);
  const lt = await encrypt(rot.state, text("lt"), { scheme: "long-term" });
  assert.deepEqual((await decrypt(b, lt.message)).plaintext, text("lt"));
});
