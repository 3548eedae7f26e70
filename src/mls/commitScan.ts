/**
 * The public facts of an MLS commit read in one pass that keeps no proposal: each ProposalOrRef
 * is decoded, read and dropped. Why: a commit adding N members carries N key packages, and the
 * whole decoded message (tens of thousands of objects at N = 1000) stayed alive while it was
 * decoded, so every scavenge on the way copied it. The add commit of a group of 1000 (999 key
 * packages), which the engine of a joiner and of every member reads on its main thread: 23.0 ->
 * 15.6 ms of process CPU per read with its garbage collected (14.1 -> 10.4 ms on the thread).
 *
 * The pass runs ts-mls's own decoders in the order `decodeMlsMessage` runs them for a
 * PublicMessage carrying a commit (RFC 9420 6: version, wire format, FramedContent, auth data,
 * membership tag; the proposals vector element by element within its bytes, as
 * `decodeVarLenType` does), so it accepts exactly the bytes the full decode accepts. Anything
 * else (another wire format or content type, a decoder refusing, a throw, trailing bytes) is
 * left to the full decode, which gives the error; test/mls-commit-scan.test.ts checks both
 * against it on valid, truncated and altered commits.
 *
 * @module
 */
import { decodeUint64 } from "ts-mls/codec/number.js";
import { decodeOptional } from "ts-mls/codec/optional.js";
import { decodeVarLenData } from "ts-mls/codec/variableLength.js";
import { decodeContentType } from "ts-mls/contentType.js";
import { decodeFramedContentAuthData } from "ts-mls/framedContent.js";
import { decodeProposalOrRef, type ProposalOrRef } from "ts-mls/proposalOrRefType.js";
import { decodeProtocolVersion } from "ts-mls/protocolVersion.js";
import { decodePublicMessageInfo } from "ts-mls/publicMessage.js";
import { decodeSender } from "ts-mls/sender.js";
import { decodeUpdatePath } from "ts-mls/updatePath.js";
import { decodeWireformat } from "ts-mls/wireformat.js";

/** What {@link scanMlsCommit} reads (MlsCommitInfo of src/mls/commit.ts, with the proposal count for its limit). */
export interface ScannedCommit {
  readonly groupId: Uint8Array;
  readonly epoch: bigint;
  readonly senderLeafIndex: number | undefined;
  readonly proposalCount: number;
  readonly addCount: number;
  readonly addedIdentities: Uint8Array[];
  readonly removedLeaves: number[];
  readonly hasPath: boolean;
}

const decodeOptionalPath = decodeOptional(decodeUpdatePath);

/** What a commit's proposals say in public: its adds (and their identities) and removed leaves. */
export interface ProposalFacts {
  addCount: number;
  readonly addedIdentities: Uint8Array[];
  readonly removedLeaves: number[];
}

/** Empty {@link ProposalFacts}, to fill with {@link noteProposal}. @example `const facts = newProposalFacts()` */
export function newProposalFacts(): ProposalFacts {
  return { addCount: 0, addedIdentities: [], removedLeaves: [] };
}

/**
 * Adds one proposal's public facts to `facts` (the one rule for the scan here and for the full
 * decode's fallback in src/mls/commit.ts); a proposal reference says nothing.
 *
 * @example
 * ```ts
 * for (const p of commit.proposals) noteProposal(facts, p)
 * ```
 */
export function noteProposal(facts: ProposalFacts, p: ProposalOrRef): void {
  if (p.proposalOrRefType !== "proposal") return;
  if (p.proposal.proposalType === "add") {
    facts.addCount++;
    const credential = p.proposal.add.keyPackage.leafNode.credential;
    if (credential.credentialType === "basic") facts.addedIdentities.push(Uint8Array.from(credential.identity));
  } else if (p.proposal.proposalType === "remove") facts.removedLeaves.push(p.proposal.remove.removed);
}

/**
 * The facts of a PublicMessage commit, or undefined when the bytes are anything else or do not
 * decode (the caller's full decode then names the error).
 *
 * @example
 * ```ts
 * const facts = scanMlsCommit(commitBytes) ?? commitInfo(decodePublicMessageBytes(commitBytes, "MLS commit"))
 * ```
 */
export function scanMlsCommit(bytes: Uint8Array): ScannedCommit | undefined {
  if (!(bytes instanceof Uint8Array)) return undefined;
  try {
    return scan(bytes);
  } catch {
    return undefined; // the full decode throws it again, as the DecodeError its callers expect
  }
}

function scan(b: Uint8Array): ScannedCommit | undefined {
  let at = 0;
  const version = decodeProtocolVersion(b, at);
  if (version === undefined) return undefined;
  at += version[1];
  const wireformat = decodeWireformat(b, at);
  if (wireformat === undefined || wireformat[0] !== "mls_public_message") return undefined;
  at += wireformat[1];
  // FramedContent: group_id, epoch, sender, authenticated_data, content_type, then the commit
  const groupId = decodeVarLenData(b, at);
  if (groupId === undefined) return undefined;
  at += groupId[1];
  const epoch = decodeUint64(b, at);
  if (epoch === undefined) return undefined;
  at += epoch[1];
  const sender = decodeSender(b, at);
  if (sender === undefined) return undefined;
  at += sender[1];
  const authenticatedData = decodeVarLenData(b, at);
  if (authenticatedData === undefined) return undefined;
  at += authenticatedData[1];
  const contentType = decodeContentType(b, at);
  if (contentType === undefined || contentType[0] !== "commit") return undefined;
  at += contentType[1];
  // Commit.proposals: the vector's bytes, its elements decoded within them one by one
  const vector = decodeVarLenData(b, at);
  if (vector === undefined) return undefined;
  at += vector[1];
  const proposals = vector[0];
  let proposalCount = 0;
  const facts = newProposalFacts();
  for (let cursor = 0; cursor < proposals.length; ) {
    const item = decodeProposalOrRef(proposals, cursor);
    if (item === undefined) return undefined;
    cursor += item[1];
    proposalCount++;
    noteProposal(facts, item[0]);
  }
  const path = decodeOptionalPath(b, at);
  if (path === undefined) return undefined;
  at += path[1];
  const auth = decodeFramedContentAuthData("commit")(b, at);
  if (auth === undefined) return undefined;
  at += auth[1];
  const info = decodePublicMessageInfo(sender[0].senderType)(b, at);
  if (info === undefined) return undefined;
  at += info[1];
  if (at !== b.length) return undefined; // trailing bytes: the full decode's error
  return {
    groupId: groupId[0],
    epoch: epoch[0],
    senderLeafIndex: sender[0].senderType === "member" ? sender[0].leafIndex : undefined,
    proposalCount,
    ...facts,
    hasPath: path[0] !== undefined,
  };
}
