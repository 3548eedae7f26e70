/**
 * Shared set-up for the group scenario tests: identities, a group with members, assertions
 * on typed errors.
 *
 * @module
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { SecretGroupError } from "../src/errors.js";
import type { ErrorCode } from "../src/errors.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { addMembers, createGroup, joinGroup, processCommit, removeMembers, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import type { LongTermCiphersuiteName } from "../src/constants.js";
import type { RatchetTree } from "ts-mls";
import { decodeSecretGroupCommit } from "../src/commit.js";
import { secretGroupCommitDocument, secretGroupDocument } from "../src/documents/index.js";

/** A member: identity and current state. */
export interface Member {
  readonly identity: Identity;
  state: GroupState;
}

/** Random 32-byte group id. @example `const id = newGroupId()` */
export function newGroupId(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/**
 * Creates a group owned by a fresh identity and adds `count` members in one commit.
 *
 * @example
 * ```ts
 * const { owner, members } = await makeGroup(2)
 * ```
 */
export async function makeGroup(
  count: number,
  ciphersuite: LongTermCiphersuiteName = "PANDA10_AES256GCM",
): Promise<{ owner: Member; members: Member[]; groupId: Uint8Array }> {
  const ownerId = generateIdentity();
  const groupId = newGroupId();
  const owner: Member = { identity: ownerId, state: await createGroup({ identity: ownerId, groupId, ciphersuite }) };
  const members: Member[] = [];
  if (count > 0) members.push(...(await addNew(owner, [], count)));
  return { owner, members, groupId };
}

/**
 * Owner adds `count` fresh identities; existing members process the commit.
 *
 * @example
 * ```ts
 * const [dave] = await addNew(owner, members, 1)
 * ```
 */
export async function addNew(owner: Member, existing: Member[], count: number): Promise<Member[]> {
  const ids = Array.from({ length: count }, () => generateIdentity());
  const kps = await Promise.all(ids.map((id) => createKeyPackage(id)));
  const r = await addMembers(
    owner.state,
    kps.map((k) => k.keyPackage),
  );
  owner.state = r.state;
  for (const m of existing) if (m.state.status === "member") m.state = await processCommit(m.state, r.commit);
  const joined: Member[] = [];
  for (let i = 0; i < ids.length; i++) {
    const identity = ids[i] as Identity;
    const secret = (kps[i] as { secret: Uint8Array }).secret;
    joined.push({ identity, state: await joinGroup({ identity, secret, owner: owner.identity.publicKey, commit: r.commit }) });
  }
  return joined;
}

/**
 * A tree received after some churn: a group of `count`, the owner's update path (a commit leaf and
 * parent nodes), member `removed` removed (a blank), then 3 members added (unmerged leaves).
 * Returns the owner and the first of those 3, whose tree came whole in its Welcome.
 *
 * @example
 * ```ts
 * const { owner, joiner } = await joinedAfterChurn(7, 3)
 * ```
 */
export async function joinedAfterChurn(count: number, removed: number): Promise<{ owner: Member; joiner: Member }> {
  const { owner, members } = await makeGroup(count);
  owner.state = (await updateGroup(owner.state)).state;
  owner.state = (await removeMembers(owner.state, [(members[removed] as Member).identity.publicKey])).state;
  const [joiner] = await addNew(owner, [], 3);
  return { owner, joiner: joiner as Member };
}

/**
 * Asserts that `fn` rejects with a SecretGroupError of `code`.
 *
 * @example
 * ```ts
 * await rejectsWith(() => decrypt(s, bytes), "REPLAY")
 * ```
 */
export async function rejectsWith(fn: () => Promise<unknown> | unknown, code: ErrorCode | `${ErrorCode}`): Promise<SecretGroupError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `expected ${code}, but nothing was thrown`);
  assert.ok(caught instanceof SecretGroupError, `expected a SecretGroupError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  return caught;
}

/** UTF-8 bytes. @example `text("hi")` */
export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** `state` with leaf `leaf`'s signature changed in its own tree (byte `at` flipped): an owner tampering with its copy before a commit. */
export function forgeLeafSignature(state: GroupState, leaf: number, at = 63): GroupState {
  const tree: RatchetTree = state.mls.ratchetTree.map((node, i) => {
    if (i !== 2 * leaf || node?.nodeType !== "leaf") return node;
    const signature = Uint8Array.from(node.leaf.signature);
    signature[at] = signature[at]! ^ 1;
    return { ...node, leaf: { ...node.leaf, signature } };
  });
  assert.equal(tree[2 * leaf]?.nodeType, "leaf");
  return { ...state, mls: { ...state.mls, ratchetTree: tree } };
}

/**
 * An owner's documents for a group of 1 + `fillers` whose second, add-only commit welcomes
 * `keyPackage`: the group document and both commit documents, and the second commit. `forged`:
 * that leaf's signature is flipped (byte `at`) in the owner's tree before the second commit, so
 * its GroupInfo is signed over the tampered tree.
 */
export async function welcomeDocuments(
  owner: Identity,
  keyPackage: Uint8Array,
  fillers: number,
  forged?: { readonly leaf: number; readonly at?: number },
): Promise<{ groupId: Uint8Array; commit: Uint8Array; documents: Uint8Array[] }> {
  const groupDoc = secretGroupDocument(owner, { ciphersuite: "PANDA10_AES128GCM" });
  const created = await createGroup({ identity: owner, groupId: groupDoc.id, ciphersuite: "PANDA10_AES128GCM" });
  const kps = await Promise.all(Array.from({ length: fillers }, () => createKeyPackage(generateIdentity())));
  const first = await addMembers(created, kps.map((k) => k.keyPackage));
  const firstDoc = secretGroupCommitDocument(owner, { secretGroup: groupDoc.id, commit: decodeSecretGroupCommit(first.commit) });
  const before = forged === undefined ? first.state : forgeLeafSignature(first.state, forged.leaf, forged.at);
  const second = await addMembers(before, [keyPackage]);
  const secondDoc = secretGroupCommitDocument(owner, { secretGroup: groupDoc.id, previousCommit: firstDoc.id, commit: decodeSecretGroupCommit(second.commit) });
  return { groupId: groupDoc.id, commit: second.commit, documents: [groupDoc.bytes, firstDoc.bytes, secondDoc.bytes] };
}
