/**
 * Read-only views of states, messages and commits (for the engine and materialisation).
 * Nothing here needs keys except {@link groupMembers} and {@link describeGroup}.
 *
 * @module
 */
import { commitParts } from "../commit.js";
import type { SecretGroupCommit } from "../commit.js";
import type { LongTermCiphersuiteName, SchemeName } from "../constants.js";
import { decodeSecretGroupMessage, peekMlsPrivateMessage } from "../message.js";
import { latestLongTermSecret } from "../lts/secret.js";
import { parseMlsCommit, peekMlsCommitHeader, welcomeKeyPackageRefs } from "../mls/commit.js";
import type { MlsCommitInfo } from "../mls/commit.js";
import { mlsMembers, sameMembers } from "../mls/group.js";
import { assertGroupState } from "./state.js";
import type { GroupState, GroupStatus, MlsEpoch } from "./state.js";

/**
 * Public keys of every member (owner and self included), in leaf order. For a removed state:
 * the members of its last epoch.
 *
 * @example
 * ```ts
 * groupMembers(state).length // 3
 * ```
 */
export function groupMembers(state: GroupState): Uint8Array[] {
  assertGroupState(state);
  return mlsMembers(state.mls);
}

/**
 * True when `a` and `b` have the same {@link groupMembers}, told from their trees' leaves without
 * listing them (a commit that adds or removes no one leaves every leaf but its committer's as
 * it was); false may also mean "not told".
 *
 * @example
 * ```ts
 * const withMembers = !sameGroupMembers(before, after)
 * ```
 */
export function sameGroupMembers(a: GroupState, b: GroupState): boolean {
  return sameMembers(a.mls, b.mls);
}

/** Summary of a group state (no secrets). @example `describeGroup(state).longTermEpoch` */
export interface GroupDescription {
  readonly groupId: Uint8Array;
  readonly owner: Uint8Array;
  readonly self: Uint8Array;
  readonly status: GroupStatus;
  readonly mlsEpoch: MlsEpoch;
  /** Epoch of the latest long-term secret held. */
  readonly longTermEpoch: bigint;
  readonly ciphersuite: LongTermCiphersuiteName;
  readonly members: Uint8Array[];
}

/**
 * Describes a state without exposing keys.
 *
 * @example
 * ```ts
 * const { status, mlsEpoch, longTermEpoch } = describeGroup(state)
 * ```
 */
export function describeGroup(state: GroupState): GroupDescription {
  assertGroupState(state);
  return {
    groupId: state.groupId,
    owner: state.owner,
    self: state.self,
    status: state.status,
    mlsEpoch: state.mlsEpoch,
    longTermEpoch: latestLongTermSecret(state.secrets)?.epoch ?? 0n,
    ciphersuite: state.ciphersuite,
    members: mlsMembers(state.mls),
  };
}

/** Public header of an encoded SecretGroupMessage. @example `peekMessage(bytes).scheme` */
export interface MessagePeek {
  readonly scheme: SchemeName;
  readonly groupId: Uint8Array;
  /** Long-term epoch for `"long-term"`, MLS epoch for `"sender-ratchet"`. */
  readonly epoch: bigint;
}

/**
 * Reads which group, scheme and epoch an encoded SecretGroupMessage needs, without keys
 * (`DECODE_ERROR` on bad bytes). Lets a caller buffer a message until its epoch arrives.
 *
 * @example
 * ```ts
 * const { scheme, epoch } = peekMessage(bytes)
 * ```
 */
export function peekMessage(message: Uint8Array): MessagePeek {
  const decoded = decodeSecretGroupMessage(message);
  if (decoded.type === "long-term") {
    return { scheme: "long-term", groupId: decoded.ciphertext.groupId, epoch: decoded.ciphertext.epoch };
  }
  const header = peekMlsPrivateMessage(decoded.mlsMessage);
  return { scheme: "sender-ratchet", groupId: header.groupId, epoch: header.epoch };
}

/**
 * What a commit does to the membership.
 *
 * @example
 * ```ts
 * CommitKind.Add // "add"
 * ```
 */
export const CommitKind = { Add: "add", Remove: "remove", Update: "update" } as const;
/** One of {@link CommitKind}. @example `const k: CommitKind = "remove"` */
export type CommitKind = (typeof CommitKind)[keyof typeof CommitKind];

/**
 * The commit kind: `"add"` whenever it adds (a commit that adds and removes lists its removals
 * too), else `"remove"` when it removes, else `"update"`.
 *
 * @example
 * ```ts
 * commitKindOf(1, 1) // "add"
 * ```
 */
export function commitKindOf(addCount: number, removeCount: number): CommitKind {
  if (addCount > 0) return CommitKind.Add;
  return removeCount > 0 ? CommitKind.Remove : CommitKind.Update;
}

/** Public facts of a SecretGroupCommit. @example `inspectCommit(bytes).addedKeyPackageRefs` */
export interface CommitInspection {
  readonly groupId: Uint8Array;
  /** MLS epoch the commit applies to (the group moves to `mlsEpoch + 1`). */
  readonly mlsEpoch: bigint;
  /** Committer's leaf index (-1 for a non-member sender, which every member refuses). */
  readonly senderLeafIndex: number;
  readonly kind: CommitKind;
  readonly welcome: boolean;
  /** KeyPackageRefs the Welcome addresses (spec "Materialisation"). */
  readonly addedKeyPackageRefs: Uint8Array[];
  /** Public keys (credential identities) the Add proposals bring in, in proposal order. */
  readonly addedPublicKeys: Uint8Array[];
  readonly removedLeaves: number[];
}

/**
 * Classifies a SecretGroupCommit, encoded or as decoded parts, without keys (`DECODE_ERROR` on bad bytes).
 * Commits are MLS PublicMessages, so any node can index who was added and removed.
 *
 * @example
 * ```ts
 * const { kind, addedKeyPackageRefs } = inspectCommit(commitBytes)
 * ```
 */
export function inspectCommit(commit: Uint8Array | SecretGroupCommit): CommitInspection {
  const parts = commitParts(commit);
  const info = parseMlsCommit(parts.mlsCommit);
  return inspectionOf(info, parts.mlsWelcome === undefined ? undefined : welcomeKeyPackageRefs(parts.mlsWelcome));
}

/**
 * The inspection of a commit from its MLS facts and its Welcome's KeyPackageRefs (undefined:
 * no Welcome): {@link inspectCommit} after decoding, and the owner's commit from the facts
 * `mlsCommit` read before encoding (an add of N members is not decoded again to index it).
 *
 * @example
 * ```ts
 * const inspection = inspectionOf(parseMlsCommit(parts.mlsCommit), welcomeKeyPackageRefs(parts.mlsWelcome))
 * ```
 */
export function inspectionOf(info: MlsCommitInfo, welcomeRefs: Uint8Array[] | undefined): CommitInspection {
  return {
    groupId: info.groupId,
    mlsEpoch: info.epoch,
    senderLeafIndex: info.senderLeafIndex ?? -1,
    kind: commitKindOf(info.addCount, info.removedLeaves.length),
    welcome: welcomeRefs !== undefined,
    addedKeyPackageRefs: welcomeRefs ?? [],
    addedPublicKeys: info.addedIdentities,
    removedLeaves: info.removedLeaves,
  };
}

/** What a joiner reads of a commit before anything else. @example `peekWelcome(parts)?.addedKeyPackageRefs` */
export interface WelcomePeek extends CommitHeader {
  /** KeyPackageRefs the Welcome addresses. */
  readonly addedKeyPackageRefs: Uint8Array[];
}

/** A commit's group and epoch, read from its framing alone. @example `peekCommitHeader(parts).mlsEpoch` */
export interface CommitHeader {
  readonly groupId: Uint8Array;
  /** MLS epoch the commit applies to. */
  readonly mlsEpoch: bigint;
}

/**
 * The commit's group and epoch from its MLS framing, without decoding its proposals or path
 * (the engine starts a member's next commit on its worker from these while it reads the rest).
 * `DECODE_ERROR` on bad framing.
 *
 * @example
 * ```ts
 * const { groupId, mlsEpoch } = peekCommitHeader(parts)
 * ```
 */
export function peekCommitHeader(commit: Uint8Array | SecretGroupCommit): CommitHeader {
  const header = peekMlsCommitHeader(commitParts(commit).mlsCommit);
  return { groupId: header.groupId, mlsEpoch: header.epoch };
}

/**
 * The commit's framing and its Welcome's KeyPackageRefs, without decoding the proposals (the
 * add commit that welcomes a member into a group of N carries N key packages); undefined when
 * the commit has no Welcome. `DECODE_ERROR` on bad framing or a bad Welcome.
 *
 * @example
 * ```ts
 * const peek = peekWelcome(parts) // a joiner's engine starts joining while it decodes the rest
 * ```
 */
export function peekWelcome(commit: Uint8Array | SecretGroupCommit): WelcomePeek | undefined {
  const parts = commitParts(commit);
  if (parts.mlsWelcome === undefined) return undefined;
  return { ...peekCommitHeader(parts), addedKeyPackageRefs: welcomeKeyPackageRefs(parts.mlsWelcome) };
}
