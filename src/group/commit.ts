/**
 * The owner's commits (spec "Add / Remove / Update group members" and "Long Term Secret
 * Generation / Rotation"). Each merges the MLS commit first, then (when rotating) exports the
 * new long-term secret from the NEW epoch, so a member removed by the commit cannot derive it,
 * then sends the full secret list encrypted in the new epoch.
 *
 * @module
 */
import { equalBytes, toHex, toId32 } from "../bytes.js";
import { encodeSecretGroupCommit } from "../commit.js";
import type { SecretGroupCommit } from "../commit.js";
import { ErrorCode, UsageError, ValidationError } from "../errors.js";
import { MAX_MEMBERS_PER_COMMIT } from "../constants.js";
import { deriveLongTermSecret } from "../lts/derive.js";
import { latestLongTermSecret, mergeLongTermSecrets } from "../lts/secret.js";
import { mlsCommit } from "../mls/commit.js";
import type { MlsCommitChanges } from "../mls/commit.js";
import { findLeafByIdentity, mlsCiphersuiteOf, mlsEpochOf, mlsMembers } from "../mls/group.js";
import { decodeAddableKeyPackage } from "../mls/keyPackage.js";
import type { DecodedKeyPackage } from "../mls/keyPackage.js";
import { checkKeyPackageLifetime } from "../lifetime.js";
import { sealSecretList } from "./secrets.js";
import { inspectionOf } from "./inspect.js";
import type { CommitInspection } from "./inspect.js";
import { asMlsEpoch, assertOwner, exporterOf } from "./state.js";
import type { GroupState } from "./state.js";

/** What every owner operation returns: the new state and the encoded SecretGroupCommit. @example `const { state, commit }: CommitResult = await updateGroup(state)` */
export interface CommitResult {
  readonly state: GroupState;
  /** Encoded SecretGroupCommit (MLS commit, optional Welcome, encrypted secret list). */
  readonly commit: Uint8Array;
  /** The same commit as parts (what a SecretGroupCommit document's fields hold). */
  readonly parts: SecretGroupCommit;
}

/** An owner's commit and its inspection (what {@link inspectCommit} gives for it), read before it was encoded. @example `const { result, inspection } = await addMembersInspected(state, kps)` */
export interface InspectedCommit {
  readonly result: CommitResult;
  readonly inspection: CommitInspection;
}

async function ownerCommitInspected(state: GroupState, changes: MlsCommitChanges, rotate: boolean): Promise<InspectedCommit> {
  assertOwner(state);
  const merged = await mlsCommit(state.mls, state.provider, changes);
  let secrets = state.secrets;
  if (rotate) {
    // Spec: increment the long-term epoch, then derive its key from the (new) MLS epoch.
    const latest = latestLongTermSecret(secrets);
    const epoch = latest === undefined ? 0n : latest.epoch + 1n;
    const fresh = await deriveLongTermSecret(exporterOf(merged.state, state.provider), state.groupId, state.ciphersuite, epoch);
    secrets = mergeLongTermSecrets(secrets, [fresh]);
  }
  const sealed = await sealSecretList(merged.state, state.provider, secrets);
  const parts: SecretGroupCommit =
    merged.welcome === undefined
      ? { mlsCommit: merged.commit, encryptedSecrets: sealed.encryptedSecrets }
      : { mlsCommit: merged.commit, mlsWelcome: merged.welcome, encryptedSecrets: sealed.encryptedSecrets };
  const result: CommitResult = {
    state: { ...state, mls: sealed.mls, mlsEpoch: asMlsEpoch(mlsEpochOf(sealed.mls)), secrets },
    commit: encodeSecretGroupCommit(parts),
    parts,
  };
  return { result, inspection: inspectionOf(merged.info, merged.welcomeRefs) };
}

/** Options of {@link addMembers}. @example `addMembers(state, [kp], { rotate: true })` */
export interface AddMembersOptions {
  /** Also rotate the long-term secret (default false: new members read the group's past). */
  readonly rotate?: boolean;
}

/**
 * Adds members from their MLSMessage-encoded key packages (owner only). Errors:
 * `NOT_OWNER`, `INVALID_KEY_PACKAGE` (bad package, other MLS ciphersuite),
 * `KEY_PACKAGE_EXPIRED`, `ALREADY_MEMBER`, `DECODE_ERROR`.
 *
 * @example
 * ```ts
 * const { state: next, commit } = await addMembers(state, [bobKeyPackage])
 * ```
 */
export async function addMembers(
  state: GroupState,
  keyPackages: readonly Uint8Array[],
  options: AddMembersOptions = {},
): Promise<CommitResult> {
  return (await addMembersInspected(state, keyPackages, options)).result;
}

/**
 * {@link addMembers} with the commit's inspection, read from the commit before it was encoded
 * (the engine indexes the owner's add of N members without decoding its N key packages again;
 * its other commits likewise use the `...Inspected` form of theirs). `read` decodes one package
 * (default {@link decodeAddableKeyPackage}); the engine's worker passes one that also checks the
 * package against its document's author, so each package is decoded once, there. Not part of
 * the public API.
 *
 * @example
 * ```ts
 * const { result, inspection } = await addMembersInspected(state, [bobKeyPackage])
 * ```
 */
export async function addMembersInspected(
  state: GroupState,
  keyPackages: readonly Uint8Array[],
  options: AddMembersOptions = {},
  read: (bytes: Uint8Array, index: number) => DecodedKeyPackage = decodeAddableKeyPackage,
): Promise<InspectedCommit> {
  assertOwner(state);
  if (!Array.isArray(keyPackages) || keyPackages.length === 0) {
    throw new UsageError(ErrorCode.InvalidArgument, "addMembers needs at least one key package");
  }
  if (keyPackages.length > MAX_MEMBERS_PER_COMMIT) throw new UsageError(ErrorCode.InvalidArgument, `at most ${MAX_MEMBERS_PER_COMMIT} members per commit`);
  const now = Date.now();
  // identities as strings: one lookup per package, not a scan of the group and of the others
  const idOf = (publicKey: Uint8Array) => toHex(publicKey);
  const taken = new Set(mlsMembers(state.mls).map(idOf));
  const decoded = keyPackages.map((bytes, index) => {
    const info = read(bytes, index); // decoded once, the commit uses it as it is
    if (info.ciphersuite !== mlsCiphersuiteOf(state.mls)) {
      throw new ValidationError(ErrorCode.InvalidKeyPackage, `key package uses ${info.ciphersuite}, the group ${mlsCiphersuiteOf(state.mls)}`);
    }
    checkKeyPackageLifetime(info, now);
    const id = idOf(info.publicKey);
    if (taken.has(id)) throw new UsageError(ErrorCode.AlreadyMember, "a key package's author is already a member");
    taken.add(id);
    return info;
  });
  return ownerCommitInspected(state, { add: decoded }, options.rotate ?? false);
}

/** Options of {@link removeMembers}. @example `removeMembers(state, [pk], { rotate: false })` */
export interface RemoveMembersOptions {
  /** Rotate the long-term secret so removed members cannot read new data (default true). */
  readonly rotate?: boolean;
}

/**
 * Removes members by public key (owner only) and, by default, rotates the long-term secret
 * after the removal. Errors: `NOT_OWNER`, `INVALID_ARGUMENT` (not a member, the owner).
 *
 * @example
 * ```ts
 * const { state: next, commit } = await removeMembers(state, [bob.publicKey])
 * ```
 */
export async function removeMembers(
  state: GroupState,
  publicKeys: readonly (Uint8Array | string)[],
  options: RemoveMembersOptions = {},
): Promise<CommitResult> {
  return (await removeMembersInspected(state, publicKeys, options)).result;
}

/**
 * {@link removeMembers} with the commit's inspection, read before it was encoded (see
 * {@link addMembersInspected}). Not part of the public API.
 *
 * @example
 * ```ts
 * const { result, inspection } = await removeMembersInspected(state, [bob.publicKey])
 * ```
 */
export async function removeMembersInspected(
  state: GroupState,
  publicKeys: readonly (Uint8Array | string)[],
  options: RemoveMembersOptions = {},
): Promise<InspectedCommit> {
  assertOwner(state);
  if (!Array.isArray(publicKeys) || publicKeys.length === 0) {
    throw new UsageError(ErrorCode.InvalidArgument, "removeMembers needs at least one public key");
  }
  if (publicKeys.length > MAX_MEMBERS_PER_COMMIT) throw new UsageError(ErrorCode.InvalidArgument, `at most ${MAX_MEMBERS_PER_COMMIT} members per commit`);
  const leaves = new Set<number>();
  for (const key of publicKeys) {
    const pk = toId32(key, "public key");
    if (equalBytes(pk, state.owner)) throw new UsageError(ErrorCode.InvalidArgument, "the owner cannot remove itself");
    const leaf = findLeafByIdentity(state.mls, pk);
    if (leaf === undefined) throw new UsageError(ErrorCode.InvalidArgument, "public key is not a member of the group");
    leaves.add(leaf);
  }
  return ownerCommitInspected(state, { remove: [...leaves] }, options.rotate ?? true);
}

/** Options of {@link updateGroup}. @example `updateGroup(state, { rotate: true })` */
export interface UpdateGroupOptions {
  /** Also rotate the long-term secret (default false). */
  readonly rotate?: boolean;
}

/**
 * Commits with no proposals (owner only): refreshes the owner's path keys and moves the
 * group to a new epoch; optionally rotates the long-term secret.
 *
 * @example
 * ```ts
 * const { state: next, commit } = await updateGroup(state)
 * ```
 */
export async function updateGroup(state: GroupState, options: UpdateGroupOptions = {}): Promise<CommitResult> {
  return (await updateGroupInspected(state, options)).result;
}

/**
 * {@link updateGroup} (and, with `rotate: true`, {@link rotateLongTermSecret}) with the commit's
 * inspection, read before it was encoded (see {@link addMembersInspected}). Not part of the
 * public API.
 *
 * @example
 * ```ts
 * const { result, inspection } = await updateGroupInspected(state, { rotate: true })
 * ```
 */
export async function updateGroupInspected(state: GroupState, options: UpdateGroupOptions = {}): Promise<InspectedCommit> {
  return ownerCommitInspected(state, {}, options.rotate ?? false);
}

/**
 * Rotates the long-term secret (owner only): an update commit whose new epoch gives the
 * next long-term secret.
 *
 * @example
 * ```ts
 * const { state: next, commit } = await rotateLongTermSecret(state)
 * ```
 */
export async function rotateLongTermSecret(state: GroupState): Promise<CommitResult> {
  return (await updateGroupInspected(state, { rotate: true })).result;
}
