/**
 * MLS commits: the owner creates them (as PublicMessages, with the ratchet tree in the
 * Welcome), members apply them only when the owner sent them.
 *
 * @module
 */
import { createCommit, makePskIndex, processPublicMessage } from "ts-mls";
import type { IncomingMessageCallback, Proposal, PublicMessage } from "ts-mls";
import { equalBytes } from "../bytes.js";
import { MAX_MEMBERS_PER_COMMIT, MlsWireFormat } from "../constants.js";
import { readMlsFraming } from "../codec/mlsFraming.js";
import { Reader } from "../codec/tls.js";
import { DecodeError, ErrorCode, InternalError, UsageError, ValidationError } from "../errors.js";
import { decodeKeyPackageBytes, decodePublicMessageBytes, decodeWelcomeBytes, encodeMlsMessageBytes } from "./codec.js";
import { guard, typedError } from "./errors.js";
import { assertUniqueLeafKeys, mlsIsRemoved } from "./group.js";
import type { MlsState } from "./group.js";
import type { DecodedKeyPackage } from "./keyPackage.js";
import { newProposalFacts, noteProposal, scanMlsCommit } from "./commitScan.js";
import { getSuite } from "./suite.js";
import { seedStoredTreeHashes } from "./treeHashes.js";
import type { PreparesSeals } from "./crypto/hpkePrepared.js";
import type { ProviderName } from "./suite.js";

/** What the owner's commit changes. @example `mlsCommit(mls, "node", { remove: [3] })` */
export interface MlsCommitChanges {
  /** Key packages to add: MLSMessage-encoded, or already decoded (decodeAddableKeyPackage). */
  readonly add?: readonly (Uint8Array | DecodedKeyPackage)[];
  /** Leaf indices to remove. */
  readonly remove?: readonly number[];
}

/** The owner's new state and the encoded commit (and Welcome when members were added). @example `const { state, commit, welcome } = await mlsCommit(mls, "node", {})` */
export interface MlsCommitResult {
  readonly state: MlsState;
  readonly commit: Uint8Array;
  readonly welcome?: Uint8Array;
  /** The commit's public facts (what {@link parseMlsCommit} reads from `commit`), from the message before it was encoded. */
  readonly info: MlsCommitInfo;
  /** The Welcome's KeyPackageRefs (what {@link welcomeKeyPackageRefs} reads from `welcome`); present only with `welcome`. */
  readonly welcomeRefs?: Uint8Array[];
}

/**
 * Creates and merges a commit. An empty change set makes an update commit (with a path, so
 * the committer's keys are refreshed). Commits travel as PublicMessages so non-members can
 * classify them; the Welcome carries the ratchet tree.
 *
 * @example
 * ```ts
 * const { state, commit, welcome } = await mlsCommit(mls, "default", { add: [kpBytes] })
 * ```
 */
export async function mlsCommit(state: MlsState, provider: ProviderName, changes: MlsCommitChanges): Promise<MlsCommitResult> {
  const cs = await getSuite(state.groupContext.cipherSuite, provider);
  // a state read back from the store: its tree's stored hashes spare hashing it whole again
  seedStoredTreeHashes(state.ratchetTree, cs);
  const proposals: Proposal[] = [];
  for (const bytes of changes.remove ?? []) {
    proposals.push({ proposalType: "remove", remove: { removed: bytes } });
  }
  for (const item of changes.add ?? []) {
    const keyPackage = item instanceof Uint8Array ? decodeKeyPackageBytes(item) : item.keyPackage;
    proposals.push({ proposalType: "add", add: { keyPackage } });
  }
  // A refused add is almost always a bad key package (signature, credential, lifetime).
  const fallback = proposals.some((p) => p.proposalType === "add") ? ErrorCode.InvalidKeyPackage : ErrorCode.MlsFailure;
  // the Welcome seals to each new member's init key: the node HPKE's helper thread makes those
  // encapsulations while ts-mls checks the key packages and builds the commit here
  const initKeys = proposals.flatMap((p) => (p.proposalType === "add" ? [p.add.keyPackage.initKey] : []));
  const release = initKeys.length === 0 ? undefined : (cs.hpke as Partial<PreparesSeals>).prepareSeals?.(initKeys);
  let result: Awaited<ReturnType<typeof createCommit>>;
  try {
    result = await guard(fallback, "creating commit", () =>
      createCommit({ state, cipherSuite: cs }, { extraProposals: proposals, wireAsPublicMessage: true, ratchetTreeExtension: true }),
    );
  } finally {
    release?.();
  }
  // a key package reusing a leaf's encryption or signature key (ts-mls does not compare them)
  assertUniqueLeafKeys(result.newState, fallback === ErrorCode.InvalidKeyPackage ? ErrorCode.InvalidKeyPackage : ErrorCode.MlsFailure);
  const commit = encodeMlsMessageBytes(result.commit);
  if (result.commit.wireformat !== "mls_public_message") throw new InternalError(ErrorCode.Internal, "ts-mls did not make a PublicMessage commit");
  // read from the objects just encoded: an owner adding N members does not decode N key packages again
  const info = commitInfo(result.commit.publicMessage);
  const done = { state: result.newState, commit, info: { ...info, groupId: Uint8Array.from(info.groupId) } };
  // result.consumed is not zeroed: the caller's previous state still shares those buffers.
  if (result.welcome === undefined) return done;
  const welcome = encodeMlsMessageBytes({ version: "mls10", wireformat: "mls_welcome", welcome: result.welcome });
  return { ...done, welcome, welcomeRefs: result.welcome.secrets.map((s) => Uint8Array.from(s.newMember)) };
}

/** Public facts of an MLS commit, readable without any keys. @example `parseMlsCommit(bytes).senderLeafIndex` */
export interface MlsCommitInfo {
  readonly groupId: Uint8Array;
  /** The epoch the commit applies to (the group moves to `epoch + 1`). */
  readonly epoch: bigint;
  /** Committer's leaf index, undefined for non-member senders. */
  readonly senderLeafIndex: number | undefined;
  readonly addCount: number;
  /** Credential identities of the Add proposals' key packages, in proposal order. */
  readonly addedIdentities: Uint8Array[];
  readonly removedLeaves: number[];
  readonly hasPath: boolean;
}

function commitInfo(pm: PublicMessage): MlsCommitInfo {
  const content = pm.content;
  if (content.contentType !== "commit") throw new DecodeError("MLS commit: PublicMessage does not carry a commit");
  assertProposalCount(content.commit.proposals.length);
  const facts = newProposalFacts();
  for (const p of content.commit.proposals) noteProposal(facts, p);
  return {
    groupId: content.groupId,
    epoch: content.epoch,
    senderLeafIndex: content.sender.senderType === "member" ? content.sender.leafIndex : undefined,
    ...facts,
    hasPath: content.commit.path !== undefined,
  };
}

/**
 * Reads the public facts of an MLSMessage-encoded commit. `DECODE_ERROR` on anything else.
 *
 * @example
 * ```ts
 * const { epoch, senderLeafIndex } = parseMlsCommit(commitBytes)
 * ```
 */
export function parseMlsCommit(bytes: Uint8Array): MlsCommitInfo {
  // one pass keeping no proposal (src/mls/commitScan.ts); anything it does not read is decoded
  // in full, for the full decode's error
  const scanned = scanMlsCommit(bytes);
  if (scanned === undefined) return commitInfo(decodePublicMessageBytes(bytes, "MLS commit"));
  assertProposalCount(scanned.proposalCount);
  const { proposalCount: _count, ...info } = scanned;
  return info;
}

function assertProposalCount(count: number): void {
  if (count > MAX_MEMBERS_PER_COMMIT) {
    throw new ValidationError(ErrorCode.LimitExceeded, `MLS commit: more than ${MAX_MEMBERS_PER_COMMIT} proposals (MAX_MEMBERS_PER_COMMIT)`);
  }
}

/** The framing of an MLS commit: which group and epoch, and who sent it. @example `peekMlsCommitHeader(bytes).epoch` */
export type MlsCommitHeader = Pick<MlsCommitInfo, "groupId" | "epoch" | "senderLeafIndex">;

const SENDER_MEMBER = 1;
const SENDER_EXTERNAL = 2;
const SENDER_NEW_MEMBER_COMMIT = 4;
const CONTENT_TYPE_COMMIT = 3;

/**
 * Reads the framing of an MLSMessage-encoded commit (RFC 9420 6: version, wire format, group id,
 * epoch, sender, content type) and not its proposals: a joiner needs only these, and the add
 * commit that welcomes it into a group of N carries N key packages (`DECODE_ERROR` on bad framing).
 *
 * @example
 * ```ts
 * const { groupId, epoch, senderLeafIndex } = peekMlsCommitHeader(commitBytes)
 * ```
 */
export function peekMlsCommitHeader(bytes: Uint8Array): MlsCommitHeader {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError("MLS commit: expected bytes");
  const r = new Reader(bytes, "MLS commit");
  const { groupId, epoch } = readMlsFraming(r, MlsWireFormat.PublicMessage, "MLS commit");
  const senderType = r.u8();
  let senderLeafIndex: number | undefined;
  if (senderType === SENDER_MEMBER) senderLeafIndex = r.u32();
  else if (senderType === SENDER_EXTERNAL) r.u32();
  else if (senderType !== SENDER_NEW_MEMBER_COMMIT) throw new DecodeError(`MLS commit: sender type ${senderType} cannot send a commit`);
  r.opaqueView(); // authenticated_data
  if (r.u8() !== CONTENT_TYPE_COMMIT) throw new DecodeError("MLS commit: PublicMessage does not carry a commit");
  return { groupId, epoch, senderLeafIndex };
}

/**
 * KeyPackageRefs of the new members a Welcome addresses.
 *
 * @example
 * ```ts
 * welcomeKeyPackageRefs(welcomeBytes) // [Uint8Array(32)]
 * ```
 */
export function welcomeKeyPackageRefs(bytes: Uint8Array): Uint8Array[] {
  return decodeWelcomeBytes(bytes).secrets.map((s) => s.newMember);
}

/** Result of applying a commit as a receiver. @example `const { removed } = await mlsApplyCommit(mls, "node", bytes, 0)` */
export interface MlsApplyResult {
  readonly state: MlsState;
  /** True when the commit removed this member (the state stays in the old epoch). */
  readonly removed: boolean;
}

/**
 * Applies a commit that must come from leaf `committer` (the owner). The commit is refused
 * before it is merged (ts-mls' incoming-message callback sees the authenticated sender):
 * `FORGED_SENDER` for anyone else, `WRONG_GROUP` for another group, `UNKNOWN_EPOCH` for a
 * commit that does not apply to the current epoch, `MLS_FAILURE` for one that does not verify.
 *
 * @example
 * ```ts
 * const { state, removed } = await mlsApplyCommit(mls, "default", commitBytes, ownerLeaf)
 * ```
 */
export async function mlsApplyCommit(
  state: MlsState,
  provider: ProviderName,
  bytes: Uint8Array,
  committer: number,
): Promise<MlsApplyResult> {
  const pm = decodePublicMessageBytes(bytes, "MLS commit");
  const info = commitInfo(pm);
  if (!equalBytes(info.groupId, state.groupContext.groupId)) {
    throw new ValidationError(ErrorCode.WrongGroup, "commit belongs to another group");
  }
  if (info.epoch !== state.groupContext.epoch) {
    throw new ValidationError(
      ErrorCode.UnknownEpoch,
      `commit applies to epoch ${info.epoch}, the group is at epoch ${state.groupContext.epoch}`,
    );
  }
  if (info.senderLeafIndex !== committer) {
    throw new ValidationError(ErrorCode.ForgedSender, "commit was not sent by the group owner");
  }
  if (committer === state.privatePath.leafIndex) {
    // ts-mls cannot process a commit it created itself; the creator already holds the result.
    throw new UsageError(ErrorCode.InvalidArgument, "this is our own commit: use the state the commit function returned");
  }
  const cs = await getSuite(state.groupContext.cipherSuite, provider);
  // a state read back from the store: its tree's stored hashes spare hashing it whole again
  seedStoredTreeHashes(state.ratchetTree, cs);
  let rejected = false;
  const onlyOwner: IncomingMessageCallback = (incoming) => {
    if (incoming.kind === "commit" && incoming.senderLeafIndex === committer) return "accept";
    rejected = true;
    return "reject";
  };
  const result = await guard(ErrorCode.MlsFailure, "processing commit", () =>
    processPublicMessage(state, pm, makePskIndex(state, {}), cs, onlyOwner),
  );
  if (rejected || result.actionTaken === "reject") {
    throw typedError(ErrorCode.ForgedSender, "commit was not sent by the group owner");
  }
  assertUniqueLeafKeys(result.newState, ErrorCode.InvalidCommit);
  return { state: result.newState, removed: mlsIsRemoved(result.newState) };
}
