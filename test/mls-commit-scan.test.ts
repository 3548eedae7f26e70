/**
 * parseMlsCommit reads a commit's public facts in one pass that keeps no proposal
 * (src/mls/commitScan.ts) and leaves anything else to the full decode. The pass must accept
 * exactly the bytes the full decode (ts-mls `decodeMlsMessage`, whole input) accepts as a
 * PublicMessage commit, with the same facts, and parseMlsCommit must answer as before for
 * everything else (the same error): valid commits of each kind, every truncation, random byte
 * changes (inside the key packages too), trailing bytes, views into larger buffers, messages
 * that are not commits.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { commitParts } from "../src/commit.js";
import { MAX_MEMBERS_PER_COMMIT } from "../src/constants.js";
import { addMembers, createGroup, removeMembers, updateGroup } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { DecodeError } from "../src/errors.js";
import { decodeMlsMessageBytes, decodePublicMessageBytes, encodeMlsMessageBytes } from "../src/mls/codec.js";
import { parseMlsCommit } from "../src/mls/commit.js";
import { scanMlsCommit } from "../src/mls/commitScan.js";
import { newGroupId } from "./group-fixtures.js";
import { decoderInputs, outcome, type Outcome } from "./fuzz-support.js";
import { rng } from "./prng.js";


/** parseMlsCommit as it was, on the full decode alone: its facts (with the proposal count) or its error. */
function reference(bytes: Uint8Array): Outcome {
  return outcome(() => {
    const content = decodePublicMessageBytes(bytes, "MLS commit").content;
    if (content.contentType !== "commit") throw new DecodeError("MLS commit: PublicMessage does not carry a commit");
    const proposals = content.commit.proposals.flatMap((p) => (p.proposalOrRefType === "proposal" ? [p.proposal] : []));
    const adds = proposals.flatMap((p) => (p.proposalType === "add" ? [p.add.keyPackage] : []));
    return {
      groupId: content.groupId,
      epoch: content.epoch,
      senderLeafIndex: content.sender.senderType === "member" ? content.sender.leafIndex : undefined,
      proposalCount: content.commit.proposals.length,
      addCount: adds.length,
      addedIdentities: adds.flatMap((kp) => (kp.leafNode.credential.credentialType === "basic" ? [Uint8Array.from(kp.leafNode.credential.identity)] : [])),
      removedLeaves: proposals.flatMap((p) => (p.proposalType === "remove" ? [p.remove.removed] : [])),
      hasPath: content.commit.path !== undefined,
    };
  });
}

let accepted = 0;
let refused = 0;

function same(bytes: Uint8Array, what: string): void {
  const expected = reference(bytes);
  const scanned = scanMlsCommit(bytes);
  const parsed = outcome(() => parseMlsCommit(bytes));
  if ("threw" in expected) {
    refused++;
    assert.equal(scanned, undefined, `${what}: the pass refuses what the full decode refuses`);
    assert.deepEqual(parsed, expected, `${what}: the full decode's error`);
    return;
  }
  accepted++;
  assert.deepEqual(scanned, expected.value, `${what}: the pass reads what the full decode reads`);
  const { proposalCount, ...info } = expected.value as { proposalCount: number };
  if (proposalCount <= MAX_MEMBERS_PER_COMMIT) assert.deepEqual(parsed, { value: info }, `${what}: parseMlsCommit's facts`);
  else assert.deepEqual(parsed, { threw: `ValidationError: MLS commit: more than ${MAX_MEMBERS_PER_COMMIT} proposals (MAX_MEMBERS_PER_COMMIT)` }, what);
}

async function messages(): Promise<Array<[string, Uint8Array]>> {
  const owner = generateIdentity();
  let state = await createGroup({ identity: owner, groupId: newGroupId(), ciphersuite: "PANDA10_AES256GCM" });
  const ids = Array.from({ length: 12 }, () => generateIdentity());
  const kps = await Promise.all(ids.map((id) => createKeyPackage(id)));
  const added = await addMembers(state, kps.map((k) => k.keyPackage));
  state = added.state;
  const updated = await updateGroup(state);
  const removed = await removeMembers(updated.state, [ids[1]!.publicKey, ids[7]!.publicKey]);
  const readded = await addMembers(removed.state, [(await createKeyPackage(generateIdentity())).keyPackage]);
  const parts = commitParts(added.commit);
  return [
    ["add commit (12 key packages)", parts.mlsCommit],
    ["update commit (path)", commitParts(updated.commit).mlsCommit],
    ["remove commit (2 leaves)", commitParts(removed.commit).mlsCommit],
    ["add after removals", commitParts(readded.commit).mlsCommit],
    ["welcome", parts.mlsWelcome!],
    ["key package", kps[0]!.keyPackage],
  ];
}

test("the pass accepts what the full decode accepts, with its facts; parseMlsCommit answers as before", async () => {
  const random = rng(0x5ca11);
  for (const [what, bytes] of await messages()) {
    for (const [label, input] of decoderInputs(what, bytes, random, { frame: [4, 9], cuts: 300, changes: 300, trailing: true })) same(input, label);
  }
  // both kinds of outcome met often (a pass refusing everything, or accepting everything, fails above)
  assert.ok(accepted > 100 && refused > 1000, `accepted ${accepted}, refused ${refused}`);
});

test("the pass reads every proposal: a change inside any key package is refused or read as the full decode reads it", async () => {
  const owner = generateIdentity();
  const state = await createGroup({ identity: owner, groupId: newGroupId(), ciphersuite: "PANDA10_AES256GCM" });
  const kps = await Promise.all(Array.from({ length: 4 }, () => createKeyPackage(generateIdentity())));
  const bytes = commitParts((await addMembers(state, kps.map((k) => k.keyPackage))).commit).mlsCommit;
  // every single byte of the commit set to values a field decoder refuses or reads differently
  for (let at = 0; at < bytes.length; at++) {
    for (const value of [0x00, 0x07, 0xff]) {
      if (bytes[at] === value) continue;
      const changed = Uint8Array.from(bytes);
      changed[at] = value;
      same(changed, `byte ${at} set to ${value}`);
    }
  }
});

test("a commit over the proposal limit is refused (LIMIT_EXCEEDED) after the pass, as before", async () => {
  const owner = generateIdentity();
  let state = await createGroup({ identity: owner, groupId: newGroupId(), ciphersuite: "PANDA10_AES256GCM" });
  const ids = [generateIdentity(), generateIdentity()];
  state = (await addMembers(state, await Promise.all(ids.map(async (id) => (await createKeyPackage(id)).keyPackage)))).state;
  const removed = decodeMlsMessageBytes(commitParts((await removeMembers(state, [ids[0]!.publicKey])).commit).mlsCommit, "MLS commit");
  assert.equal(removed.wireformat, "mls_public_message");
  if (removed.wireformat !== "mls_public_message" || removed.publicMessage.content.contentType !== "commit") return;
  const content = removed.publicMessage.content;
  // the remove proposal repeated past the limit: decodes (not signed: facts only)
  const proposals = Array.from({ length: MAX_MEMBERS_PER_COMMIT + 1 }, () => content.commit.proposals[0]!);
  const over = encodeMlsMessageBytes({ ...removed, publicMessage: { ...removed.publicMessage, content: { ...content, commit: { ...content.commit, proposals } } } });
  const atLimit = encodeMlsMessageBytes({ ...removed, publicMessage: { ...removed.publicMessage, content: { ...content, commit: { ...content.commit, proposals: proposals.slice(1) } } } });
  assert.equal(scanMlsCommit(over)?.proposalCount, MAX_MEMBERS_PER_COMMIT + 1);
  same(over, "one proposal over the limit");
  assert.throws(() => parseMlsCommit(over), (e: Error) => e.constructor.name === "ValidationError" && (e as unknown as { code: string }).code === "LIMIT_EXCEEDED");
  same(atLimit, "at the limit");
  assert.equal(parseMlsCommit(atLimit).removedLeaves.length, MAX_MEMBERS_PER_COMMIT);
});
