/**
 * Joining a group from the owner's commit that added us (spec "Join existing group").
 *
 * @module
 */
import { equalBytes, toId32 } from "../bytes.js";
import { commitParts } from "../commit.js";
import type { SecretGroupCommit } from "../commit.js";
import { ErrorCode, ValidationError } from "../errors.js";
import { assertIdentity } from "../identity.js";
import type { Identity } from "../identity.js";
import { decodeKeyPackageSecret } from "../keyPackage.js";
import { peekMlsCommitHeader } from "../mls/commit.js";
import { findLeafByIdentity, mlsEpochOf, mlsGroupIdOf, mlsJoin } from "../mls/group.js";
import { DEFAULT_PROVIDER } from "../mls/suite.js";
import type { ProviderName } from "../mls/suite.js";
import { openSecretList } from "./secrets.js";
import { asMlsEpoch } from "./state.js";
import type { GroupState } from "./state.js";
import type { LongTermSecret } from "../lts/secret.js";

/** Options of {@link joinGroup}. @example `joinGroup({ identity, secret, owner, commit })` */
export interface JoinGroupOptions {
  /** The joining member. */
  readonly identity: Identity;
  /** The `secret` that {@link createKeyPackage} returned with the key package the owner added. */
  readonly secret: Uint8Array;
  /** Public key of the group owner (the SecretGroup document's author). */
  readonly owner: Uint8Array | string;
  /** The SecretGroupCommit that added us (it carries the Welcome), encoded or as decoded parts. */
  readonly commit: Uint8Array | SecretGroupCommit;
  /** Crypto provider. */
  readonly provider?: ProviderName;
}

/**
 * Joins a group. A joiner cannot verify the commit itself (it lacks the previous epoch), so
 * it checks that the commit names the owner's leaf as sender and that the long-term secret
 * list, which it can authenticate in the new epoch, was signed by the owner's leaf.
 *
 * Errors: `INVALID_WELCOME` (no Welcome, not for this key package, does not verify, does not
 * match the commit), `FORGED_SENDER` (commit or secret list not from `owner`),
 * `INVALID_CREDENTIAL` (a leaf of the tree whose credential is not its signature key),
 * `INVALID_COMMIT` (bad secret list), `DECODE_ERROR`.
 *
 * @example
 * ```ts
 * const state = await joinGroup({ identity: bob, secret, owner: alice.publicKey, commit })
 * ```
 */
export function joinGroup(options: JoinGroupOptions): Promise<GroupState> {
  return join(options, false);
}

/**
 * {@link joinGroup} for a commit whose SecretGroupCommit document's Ed25519 signature by
 * `owner` was verified (the engine's joins: ingest verifies every document before acting on it,
 * and a join goes only through a commit authored by the group's owner). Signatures under the
 * owner's key inside its Welcome (the GroupInfo's, the owner's leaf's) are not checked again:
 * the document's signature covers them (src/mls/documentSigner.ts); every other leaf is checked.
 * Not part of the public API: a caller holding only the commit's parts cannot know that.
 *
 * @example
 * ```ts
 * checkCommitAuthor(owner, doc.author); // doc verified on ingest
 * const state = await joinGroupFromVerifiedDocument({ identity, secret, owner, commit: readSecretGroupCommit(doc).commit })
 * ```
 */
export function joinGroupFromVerifiedDocument(options: JoinGroupOptions): Promise<GroupState> {
  return join(options, true);
}

async function join(options: JoinGroupOptions, ownerVerified: boolean): Promise<GroupState> {
  const { identity } = options;
  assertIdentity(identity);
  const owner = Uint8Array.from(toId32(options.owner, "owner"));
  const provider = options.provider ?? DEFAULT_PROVIDER;
  const parts = commitParts(options.commit);
  if (parts.mlsWelcome === undefined) throw new ValidationError(ErrorCode.InvalidWelcome, "the commit carries no Welcome");
  const secret = decodeKeyPackageSecret(options.secret);
  const mls = await mlsJoin(parts.mlsWelcome, secret, identity, provider, undefined, ownerVerified ? owner : undefined);
  const groupId = mlsGroupIdOf(mls);
  // the header is all a joiner can check: it cannot verify the commit (it lacks the previous epoch)
  const info = peekMlsCommitHeader(parts.mlsCommit);
  if (!equalBytes(info.groupId, groupId) || info.epoch + 1n !== mlsEpochOf(mls)) {
    throw new ValidationError(ErrorCode.InvalidWelcome, "the Welcome does not belong to this commit");
  }
  const ownerLeafIndex = findLeafByIdentity(mls, owner);
  if (ownerLeafIndex === undefined) throw new ValidationError(ErrorCode.ForgedSender, "the named owner is not a member of the group");
  if (info.senderLeafIndex !== ownerLeafIndex) throw new ValidationError(ErrorCode.ForgedSender, "the commit was not sent by the named owner");
  const opened = await openSecretList(mls, provider, parts.encryptedSecrets, ownerLeafIndex, groupId, undefined);
  const ciphersuite = (opened.secrets[0] as LongTermSecret).ciphersuite;
  return {
    groupId: Uint8Array.from(groupId),
    owner,
    self: Uint8Array.from(identity.publicKey),
    status: "member",
    ciphersuite,
    mlsEpoch: asMlsEpoch(mlsEpochOf(opened.mls)),
    secrets: opened.secrets,
    nonceCounter: 0n,
    provider,
    mls: opened.mls,
  };
}
