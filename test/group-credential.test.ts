/**
 * A malicious owner adds a leaf whose MLS credential (the identity it claims) is not its
 * signature key. Our own `addMembers` refuses such a key package, so the owner forges the
 * commit through ts-mls with an authentication service that accepts anything. Every member
 * and the joiner must refuse it with INVALID_CREDENTIAL and keep their state.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultCapabilities, encodeMlsMessage, generateKeyPackageWithKey } from "ts-mls";
import { toHex } from "../src/bytes.js";
import { decodeSecretGroupCommit, encodeSecretGroupCommit } from "../src/commit.js";
import { DEFAULT_MLS_CIPHERSUITE } from "../src/constants.js";
import { decodeDocument, readKeyPackage, secretGroupCommitDocument } from "../src/documents/index.js";
import { encodeGroupState, joinGroup, processCommit } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { sealSecretList } from "../src/group/secrets.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { mlsCommit } from "../src/mls/commit.js";
import { vectorClientConfig } from "../src/mls/config.js";
import { getSuite } from "../src/mls/suite.js";
import { loadGroupState } from "../src/engine/store/stateCodec.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { makeGroup, rejectsWith } from "./group-fixtures.js";
import { ingestAll, openNode, openStore } from "./engine-helpers.js";

/** A key package that claims `claimed`'s identity but is signed with (and carries) `signer`'s key. */
async function mismatchedKeyPackage(claimed: Uint8Array, signer: Identity): Promise<Uint8Array> {
  const cs = await getSuite(DEFAULT_MLS_CIPHERSUITE as "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
  const now = BigInt(Math.floor(Date.now() / 1000));
  const { publicPackage } = await generateKeyPackageWithKey(
    { credentialType: "basic", identity: claimed },
    defaultCapabilities(),
    { notBefore: now - 60n, notAfter: now + 3600n },
    [],
    { signKey: signer.secretKey, publicKey: signer.publicKey },
    cs,
  );
  return encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage: publicPackage });
}

/** The owner's add commit made by ts-mls with an authentication service that accepts any credential. */
async function ownerAddsUnchecked(owner: GroupState, keyPackages: Uint8Array[]): Promise<Uint8Array> {
  const merged = await mlsCommit({ ...owner.mls, clientConfig: vectorClientConfig }, owner.provider, { add: keyPackages });
  const sealed = await sealSecretList(merged.state, owner.provider, owner.secrets);
  assert.ok(merged.welcome !== undefined);
  return encodeSecretGroupCommit({ mlsCommit: merged.commit, mlsWelcome: merged.welcome, encryptedSecrets: sealed.encryptedSecrets });
}

test("a leaf whose credential is not its signature key is refused by every member and by the joiner (INVALID_CREDENTIAL)", async () => {
  const { owner, members } = await makeGroup(2);
  const [bob, carol] = members as [NonNullable<(typeof members)[0]>, NonNullable<(typeof members)[0]>];
  const mallory = generateIdentity();
  const dave = generateIdentity();
  const daveKp = await createKeyPackage(dave);
  // mallory's leaf claims to be carol, a member: the impersonation the rule exists for
  const forged = await ownerAddsUnchecked(owner.state, [await mismatchedKeyPackage(carol.identity.publicKey, mallory), daveKp.keyPackage]);
  for (const m of [bob, carol]) {
    const before = encodeGroupState(m.state);
    const e = await rejectsWith(() => processCommit(m.state, forged), "INVALID_CREDENTIAL");
    assert.match(e.message, /credential/);
    assert.deepEqual(encodeGroupState(m.state), before, "the member's state is unchanged");
  }
  await rejectsWith(() => joinGroup({ identity: dave, secret: daveKp.secret, owner: owner.identity.publicKey, commit: forged }), "INVALID_CREDENTIAL");
  // a leaf that claims nobody known is refused the same way
  const stranger = await ownerAddsUnchecked(owner.state, [await mismatchedKeyPackage(generateIdentity().publicKey, mallory)]);
  await rejectsWith(() => processCommit(bob.state, stranger), "INVALID_CREDENTIAL");

  // control: the very same forging path with honest key packages is accepted by all, so the
  // refusals above are the credential check and nothing else
  const erin = generateIdentity();
  const erinKp = await createKeyPackage(erin);
  const honest = await ownerAddsUnchecked(owner.state, [erinKp.keyPackage]);
  const bobNext = await processCommit(bob.state, honest);
  const carolNext = await processCommit(carol.state, honest);
  const erinState = await joinGroup({ identity: erin, secret: erinKp.secret, owner: owner.identity.publicKey, commit: honest });
  assert.equal(bobNext.mlsEpoch, erinState.mlsEpoch);
  assert.equal(carolNext.mlsEpoch, erinState.mlsEpoch);
});

test("the engine refuses such a commit from the owner with INVALID_CREDENTIAL and stays at its epoch; the joiner does not join", async () => {
  const owner = await openNode();
  const bob = await openNode();
  const dave = await openNode();
  let ownerEngine = owner.engine;
  try {
    const bobKp = (await bob.engine.publishKeyPackage()).documents;
    const daveKp = (await dave.engine.publishKeyPackage()).documents;
    const created = await ownerEngine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const gid = created.groupId as Uint8Array;
    const added = await ownerEngine.addMembers(gid, bobKp);
    await ingestAll(bob.engine, [...created.documents, ...added.documents]);
    const bobBefore = await bob.engine.describe(gid);
    // the owner's node turns malicious: its state, out of its own store, commits through ts-mls
    await ownerEngine.close();
    const store = await openStore(owner.path, owner.identity);
    const prefix = `${toHex(gid)}/`;
    const parts = (await store.scan(Sublevel.State, prefix, "group state")).map(([k, v]) => [k.slice(prefix.length), v] as const);
    await store.close();
    const { state } = loadGroupState(parts, 0n);
    const daveMls = readKeyPackage(decodeDocument(daveKp[0] as Uint8Array)).keyPackage;
    const commit = await ownerAddsUnchecked(state, [await mismatchedKeyPackage(bob.identity.publicKey, generateIdentity()), daveMls]);
    const doc = secretGroupCommitDocument(owner.identity, { secretGroup: gid, previousCommit: bobBefore.head as Uint8Array, commit: decodeSecretGroupCommit(commit) });

    const refusal = await bob.engine.ingest([doc.bytes]).then(
      () => assert.fail("the commit was accepted"),
      (e: { refused?: Array<{ error: { code: string } }> }) => e,
    );
    assert.deepEqual(refusal.refused?.map((r) => r.error.code), ["INVALID_CREDENTIAL"]);
    const bobAfter = await bob.engine.describe(gid);
    assert.equal(bobAfter.mlsEpoch, bobBefore.mlsEpoch);
    assert.equal(toHex(bobAfter.head as Uint8Array), toHex(bobBefore.head as Uint8Array));
    assert.equal(bobAfter.members.length, 2);

    await ingestAll(dave.engine, [...created.documents, ...added.documents]);
    const daveRefusal = await dave.engine.ingest([doc.bytes]).then(
      () => assert.fail("the joiner accepted the Welcome"),
      (e: { refused?: Array<{ error: { code: string } }> }) => e,
    );
    assert.deepEqual(daveRefusal.refused?.map((r) => r.error.code), ["INVALID_CREDENTIAL"]);
    assert.equal(await dave.engine.status(gid), "awaiting-welcome");
    ownerEngine = await owner.reopen();
  } finally {
    await ownerEngine.close();
    for (const n of [bob, dave]) await n.engine.close();
    for (const n of [owner, bob, dave]) await n.cleanup();
  }
});
