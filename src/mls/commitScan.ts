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

/** Thrown by {@link scan}'s reader where a field does not decode: `scanMlsCommit` answers undefined. */
const NOT_READ = new Error("commit scan: not read");

function scan(b: Uint8Array): ScannedCommit | undefined {
  let at = 0;
  // each field in order; one that does not decode ends the pass (the full decode reports it)
  const take = <T>(decode: (bytes: Uint8Array, offset: number) => [T, number] | undefined): T => {
    const field = decode(b, at);
    if (field === undefined) throw NOT_READ;
    at += field[1];
    return field[0];
  };
  take(decodeProtocolVersion);
  if (take(decodeWireformat) !== "mls_public_message") return undefined;
  // FramedContent: group_id, epoch, sender, authenticated_data, content_type, then the commit
  const groupId = take(decodeVarLenData);
  const epoch = take(decodeUint64);
  const sender = take(decodeSender);
  take(decodeVarLenData); // authenticated_data
  if (take(decodeContentType) !== "commit") return undefined;
  // Commit.proposals: the vector's bytes, its elements decoded within them one by one
  const proposals = take(decodeVarLenData);
  let proposalCount = 0;
  const facts = newProposalFacts();
  for (let cursor = 0; cursor < proposals.length; ) {
    const item = decodeProposalOrRef(proposals, cursor);
    if (item === undefined) return undefined;
    cursor += item[1];
    proposalCount++;
    noteProposal(facts, item[0]);
  }
  const path = take(decodeOptionalPath);
  take(decodeFramedContentAuthData("commit"));
  take(decodePublicMessageInfo(sender.senderType));
  if (at !== b.length) return undefined; // trailing bytes: the full decode's error
  return {
    groupId,
    epoch,
    senderLeafIndex: sender.senderType === "member" ? sender.leafIndex : undefined,
    proposalCount,
    ...facts,
    hasPath: path !== undefined,
  };
}
