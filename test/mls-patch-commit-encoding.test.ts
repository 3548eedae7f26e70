/**
 * Our ts-mls patch encodes a Commit once per commit object and copies those bytes wherever the
 * commit is encoded again (commit.js `encodedCommit`): making and applying a commit encodes it
 * four times (its FramedContentTBS, AuthenticatedContentTBM, confirmed transcript hash input and
 * message), and an add of N members carries N key packages. The bytes must be 1.6.4's for made
 * and received commits (adds with key packages, removes, updates with a path), the copy must land
 * at its place inside the enclosing messages, and a second encoding must reuse the first (a
 * regression to encoding every time would pass the byte checks but not that one).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeMlsMessage, encodeMlsMessage } from "ts-mls";
import { commitEncoder, encodeCommit, encodedCommit } from "ts-mls/commit.js";
import type { Commit } from "ts-mls/commit.js";
import { encode } from "ts-mls/codec/tlsEncoder.js";
import { encodeCommit as bareEncodeCommit } from "ts-mls-bare/commit.js";
import type { Commit as BareCommit } from "ts-mls-bare/commit.js";
import { decodeMlsMessage as bareDecodeMlsMessage, encodeMlsMessage as bareEncodeMlsMessage } from "ts-mls-bare";
import { decodeSecretGroupCommit } from "../src/commit.js";
import { addMembers, removeMembers, updateGroup } from "../src/group/index.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { generateIdentity } from "../src/identity.js";
import { makeGroup } from "./group-fixtures.js";

/** The MLS commit message of a SecretGroupCommit, and its Commit as ts-mls decodes it. */
function mlsCommitOf(secretGroupCommit: Uint8Array): { bytes: Uint8Array; commit: Commit } {
  const bytes = Uint8Array.from(decodeSecretGroupCommit(secretGroupCommit).mlsCommit);
  const msg = decodeMlsMessage(bytes, 0)![0];
  assert.ok(msg.wireformat === "mls_public_message" && msg.publicMessage.content.contentType === "commit");
  return { bytes, commit: msg.publicMessage.content.commit };
}

async function commitsOfEveryKind(): Promise<Uint8Array[]> {
  const { owner, members } = await makeGroup(6);
  const kps = await Promise.all([1, 2, 3].map(() => createKeyPackage(generateIdentity())));
  const added = await addMembers(owner.state, kps.map((k) => k.keyPackage));
  const removed = await removeMembers(added.state, [members[2]!.identity.publicKey]);
  const updated = await updateGroup(removed.state);
  return [added.commit, removed.commit, updated.commit];
}

test("a received commit encodes to 1.6.4's bytes, once, and into its message at its place", async () => {
  for (const sgc of await commitsOfEveryKind()) {
    const { bytes, commit } = mlsCommitOf(sgc);
    const first = encodedCommit(commit);
    assert.deepEqual(first, bareEncodeCommit(commit as unknown as BareCommit));
    assert.equal(encodedCommit(commit), first, "the second encoding reuses the first");
    // what callers get is a copy: the kept bytes are not theirs to change
    const copy = encodeCommit(commit);
    assert.deepEqual(copy, first);
    assert.notEqual(copy.buffer, first.buffer);
    assert.deepEqual(encode(commitEncoder)(commit), first);
    // inside the whole message (the commit is one field among several): the message's own bytes
    const msg = decodeMlsMessage(bytes, 0)![0];
    assert.deepEqual(encodeMlsMessage(msg), bytes);
    assert.deepEqual(encodeMlsMessage(msg), bareEncodeMlsMessage(bareDecodeMlsMessage(bytes, 0)![0]));
  }
});

test("a commit made here (an add carrying key packages) encodes to 1.6.4's bytes", async () => {
  const { owner } = await makeGroup(2);
  const kps = await Promise.all([1, 2, 3, 4].map(() => createKeyPackage(generateIdentity())));
  const added = await addMembers(owner.state, kps.map((k) => k.keyPackage));
  const { commit } = mlsCommitOf(added.commit);
  // a made commit object, not the decoded one: rebuilt from its parts, as createCommit builds it
  const made: Commit = { proposals: [...commit.proposals], path: commit.path };
  assert.deepEqual(encodedCommit(made), bareEncodeCommit(made as unknown as BareCommit));
  assert.equal(encodedCommit(made), encodedCommit(made));
  assert.notEqual(encodedCommit(made), encodedCommit(commit), "another object, another entry");
});
