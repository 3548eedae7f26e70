/**
 * Adversarial scenarios against the pure library, each asserting the typed error and that the
 * refusing member's encoded state is byte for byte what it was: a member forging the owner's
 * MLS signature, a secret list holding another group's secret or changing an older epoch's
 * value, replayed commits and messages, tampered tags, nonces and epochs in both schemes, and a
 * commit past the members-per-commit limit. (Other claims live beside their features: see the
 * README "Security model" and the report of issue 13.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeSecretGroupCommit, decodeSecretGroupCommit } from "../src/commit.js";
import { MAX_MEMBERS_PER_COMMIT } from "../src/constants.js";
import { addMembers, decrypt, encodeGroupState, encrypt, inspectCommit, processCommit, removeMembers, rotateLongTermSecret } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { sealSecretList } from "../src/group/secrets.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { generateIdentity } from "../src/identity.js";
import { decodeSecretGroupMessage, encodeSecretGroupMessage } from "../src/message.js";
import { asLongTermEpoch } from "../src/lts/secret.js";
import type { LongTermSecret } from "../src/lts/secret.js";
import type { LongTermSecretCiphertext } from "../src/lts/ciphertext.js";
import { mlsCommit } from "../src/mls/commit.js";
import { decodePrivateMessageBytes, decodePublicMessageBytes, encodeMlsMessageBytes } from "../src/mls/codec.js";
import { findLeafByIdentity } from "../src/mls/group.js";
import { makeGroup, newGroupId, rejectsWith, text } from "./group-fixtures.js";
import type { Member } from "./group-fixtures.js";

/** Asserts `fn` is refused with `code` and `member`'s encoded state did not change. */
async function refusedUnchanged(member: Member | GroupState, code: string, fn: () => Promise<unknown>): Promise<void> {
  const state = "state" in member ? member.state : member;
  const before = encodeGroupState(state);
  await rejectsWith(fn, code as never);
  assert.deepEqual(encodeGroupState(state), before, "state changed");
}

/** The owner's commit (through src/mls) with `secrets` as its secret list. */
async function ownerCommitWithList(owner: GroupState, secrets: (merged: GroupState["mls"]) => LongTermSecret[]): Promise<Uint8Array> {
  const merged = await mlsCommit(owner.mls, owner.provider, {});
  const sealed = await sealSecretList(merged.state, owner.provider, secrets(merged.state));
  return encodeSecretGroupCommit({ mlsCommit: merged.commit, encryptedSecrets: sealed.encryptedSecrets });
}

test("a member forging the owner's MLS signature (sender = the owner's leaf, signed with its own key) is refused: FORGED_SENDER", async () => {
  const { owner, members } = await makeGroup(2);
  const [bob, carol] = members as [Member, Member];
  const ownerLeaf = findLeafByIdentity(bob.state.mls, owner.identity.publicKey) as number;
  // bob's state, claiming the owner's leaf: ts-mls frames the commit as sent by that leaf, with a
  // valid membership tag (bob knows the epoch's membership key), signed by bob's key
  const claimed = { ...bob.state.mls, privatePath: { ...bob.state.mls.privatePath, leafIndex: ownerLeaf } };
  const merged = await mlsCommit(claimed, bob.state.provider, {});
  const sealed = await sealSecretList(merged.state, bob.state.provider, bob.state.secrets);
  const forged = encodeSecretGroupCommit({ mlsCommit: merged.commit, encryptedSecrets: sealed.encryptedSecrets });
  assert.equal(inspectCommit(forged).senderLeafIndex, ownerLeaf, "the forgery claims the owner's leaf");
  await refusedUnchanged(carol, "FORGED_SENDER", () => processCommit(carol.state, forged));
});

test("a secret list with another group's secret, or an older epoch's value changed, is refused: INVALID_COMMIT", async () => {
  const { owner, members } = await makeGroup(1);
  const bob = members[0] as Member;
  const rotated = await rotateLongTermSecret(owner.state);
  owner.state = rotated.state;
  bob.state = await processCommit(bob.state, rotated.commit);
  assert.equal(bob.state.secrets.length, 2);
  const [first, second] = owner.state.secrets as [LongTermSecret, LongTermSecret];
  const otherGroup = await ownerCommitWithList(owner.state, () => [first, { ...second, epoch: asLongTermEpoch(2n), groupId: newGroupId() }]);
  await refusedUnchanged(bob, "INVALID_COMMIT", () => processCommit(bob.state, otherGroup));
  const changed = await ownerCommitWithList(owner.state, () => [{ ...first, value: new Uint8Array(first.value.length).fill(7) }, second]);
  await refusedUnchanged(bob, "INVALID_COMMIT", () => processCommit(bob.state, changed));
  // the same list unchanged is accepted
  const honest = await ownerCommitWithList(owner.state, () => [first, second]);
  assert.equal((await processCommit(bob.state, honest)).secrets.length, 2);
});

test("replayed commits and messages: a commit again is UNKNOWN_EPOCH, a sender-ratchet message again is REPLAY; long-term ones read the same", async () => {
  const { owner, members } = await makeGroup(1);
  const bob = members[0] as Member;
  const r = await rotateLongTermSecret(owner.state);
  owner.state = r.state;
  bob.state = await processCommit(bob.state, r.commit);
  await refusedUnchanged(bob, "UNKNOWN_EPOCH", () => processCommit(bob.state, r.commit));
  const sr = await encrypt(owner.state, text("once"), { scheme: "sender-ratchet" });
  owner.state = sr.state;
  bob.state = (await decrypt(bob.state, sr.message)).state;
  await refusedUnchanged(bob, "REPLAY", () => decrypt(bob.state, sr.message));
  const lt = await encrypt(owner.state, text("long-term"), { scheme: "long-term" });
  const first = await decrypt(bob.state, lt.message);
  const again = await decrypt(first.state, lt.message);
  assert.deepEqual(again.plaintext, text("long-term"));
  assert.deepEqual(encodeGroupState(again.state), encodeGroupState(bob.state), "reading long-term data changes nothing");
});

test("tampered tag, nonce or epoch: long-term DECRYPTION_FAILED or UNKNOWN_EPOCH, sender-ratchet DECRYPTION_FAILED or UNKNOWN_EPOCH", async () => {
  const { owner, members } = await makeGroup(1);
  const bob = members[0] as Member;
  const r = await rotateLongTermSecret(owner.state);
  owner.state = r.state;
  bob.state = await processCommit(bob.state, r.commit);
  const lt = await encrypt(owner.state, text("long-term value"), { scheme: "long-term" });
  const decoded = decodeSecretGroupMessage(lt.message);
  assert.equal(decoded.type, "long-term");
  const ct = (decoded as { ciphertext: LongTermSecretCiphertext }).ciphertext;
  const flipLast = (b: Uint8Array): Uint8Array => Uint8Array.from(b, (x, i) => (i === b.length - 1 ? x ^ 1 : x));
  const withCt = (change: Partial<typeof ct>): Uint8Array => encodeSecretGroupMessage({ type: "long-term", ciphertext: { ...ct, ...change } });
  await refusedUnchanged(bob, "DECRYPTION_FAILED", () => decrypt(bob.state, withCt({ ciphertext: flipLast(ct.ciphertext) }))); // the tag
  await refusedUnchanged(bob, "DECRYPTION_FAILED", () => decrypt(bob.state, withCt({ ciphertext: Uint8Array.from(ct.ciphertext, (x, i) => (i === 0 ? x ^ 1 : x)) })));
  await refusedUnchanged(bob, "DECRYPTION_FAILED", () => decrypt(bob.state, withCt({ nonce: flipLast(ct.nonce) })));
  await refusedUnchanged(bob, "DECRYPTION_FAILED", () => decrypt(bob.state, withCt({ epoch: asLongTermEpoch(ct.epoch - 1n) }))); // a held epoch, another key
  await refusedUnchanged(bob, "UNKNOWN_EPOCH", () => decrypt(bob.state, withCt({ epoch: asLongTermEpoch(ct.epoch + 1n) })));
  await refusedUnchanged(bob, "WRONG_GROUP", () => decrypt(bob.state, withCt({ groupId: newGroupId() })));

  const sr = await encrypt(owner.state, text("ratchet value"), { scheme: "sender-ratchet" });
  const srDecoded = decodeSecretGroupMessage(sr.message);
  const mls = srDecoded.type === "mls" ? srDecoded.mlsMessage : new Uint8Array(0);
  const pm = decodePrivateMessageBytes(mls, "test");
  const withPm = (change: Record<string, unknown>): Uint8Array =>
    encodeSecretGroupMessage({ type: "mls", mlsMessage: encodeMlsMessageBytes({ version: "mls10", wireformat: "mls_private_message", privateMessage: { ...pm, ...change } } as never) });
  await refusedUnchanged(bob, "DECRYPTION_FAILED", () => decrypt(bob.state, withPm({ ciphertext: flipLast(pm.ciphertext) }))); // the tag
  await refusedUnchanged(bob, "DECRYPTION_FAILED", () => decrypt(bob.state, withPm({ encryptedSenderData: flipLast(pm.encryptedSenderData) }))); // the sender data (generation, reuse guard)
  await refusedUnchanged(bob, "DECRYPTION_FAILED", () => decrypt(bob.state, withPm({ epoch: pm.epoch - 1n })));
  await refusedUnchanged(bob, "UNKNOWN_EPOCH", () => decrypt(bob.state, withPm({ epoch: pm.epoch + 1n })));
  // the genuine messages still read
  assert.deepEqual((await decrypt(bob.state, lt.message)).plaintext, text("long-term value"));
  assert.deepEqual((await decrypt(bob.state, sr.message)).plaintext, text("ratchet value"));
});

test(`a commit with more than MAX_MEMBERS_PER_COMMIT (${MAX_MEMBERS_PER_COMMIT}) changes is refused before MLS work: LIMIT_EXCEEDED; the owner cannot make one`, async () => {
  const { owner, members } = await makeGroup(2);
  const bob = members[0] as Member;
  const carol = members[1] as Member;
  const removal = await removeMembers(owner.state, [carol.identity.publicKey]);
  // the same remove proposal, MAX_MEMBERS_PER_COMMIT + 1 times (the signature no longer
  // matches: the limit must refuse it first, with its own code)
  const parts = decodeSecretGroupCommit(removal.commit);
  const pm = decodePublicMessageBytes(parts.mlsCommit, "test");
  const content = pm.content as { commit: { proposals: unknown[] } };
  const proposals = Array.from({ length: MAX_MEMBERS_PER_COMMIT + 1 }, () => content.commit.proposals[0]);
  const big = encodeMlsMessageBytes({ version: "mls10", wireformat: "mls_public_message", publicMessage: { ...pm, content: { ...pm.content, commit: { ...content.commit, proposals } } } } as never);
  const commit = encodeSecretGroupCommit({ ...parts, mlsCommit: big });
  await refusedUnchanged(bob, "LIMIT_EXCEEDED", () => processCommit(bob.state, commit));
  await rejectsWith(() => inspectCommit(commit), "LIMIT_EXCEEDED");
  const kp = await createKeyPackage(generateIdentity());
  await refusedUnchanged(owner, "INVALID_ARGUMENT", () => addMembers(owner.state, Array.from({ length: MAX_MEMBERS_PER_COMMIT + 1 }, () => kp.keyPackage)));
  await refusedUnchanged(owner, "INVALID_ARGUMENT", () => removeMembers(owner.state, Array.from({ length: MAX_MEMBERS_PER_COMMIT + 1 }, () => bob.identity.publicKey)));
});
