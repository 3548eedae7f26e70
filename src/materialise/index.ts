/**
 * The materialisation index (spec "Materialisation", issue 5): every SecretGroupCommit
 * classified and replayed on a keyless leaf map, Welcome KeyPackageRefs matched to KeyPackage
 * documents, and the queries `history`, `groupsOf`, `welcomeFor`. Functions read a sublevel and
 * return batch ops; the engine writes them in the group's atomic batch.
 *
 * @example
 * ```ts
 * import { indexCommit, indexGroup, indexKeyPackage, history, groupsOf, welcomeFor } from "./materialise/index.js"
 * ```
 *
 * @module
 */
export { indexCommit, indexGroup, nextCommits } from "./commits.js";
export type { CommitFacts, IndexResult } from "./commits.js";
export { indexKeyPackage } from "./keyPackages.js";
export { history, groupsOf, welcomeFor, indexedGroup } from "./queries.js";
export type { GroupMembership, HistoryEntry } from "./queries.js";
export { Keys, PENDING_PREFIX } from "./store.js";
export type { IndexOp, IndexReader } from "./store.js";
export { applyMembershipChange, addedMembers, commitKindOf } from "./membership.js";
export type { MembershipChange } from "./membership.js";
export { encodeGroupIndexHead, decodeGroupIndexValue, encodeLeafChunk, decodeLeafChunk, encodeGroupIndexRecord, decodeGroupIndexRecord, encodeHistoryRecord, decodeHistoryRecord, encodeSeqRecord, decodeSeqRecord } from "./chainRecords.js";
export { encodePendingRecord, decodePendingRecord } from "./pendingRecord.js";
export { encodeEventRecord, decodeEventRecord, encodeKeyPackageIndexRecord, decodeKeyPackageIndexRecord } from "./keyRecords.js";
export type { Member } from "./records.js";
