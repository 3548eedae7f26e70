/**
 * The secret group lifecycle as pure functions over immutable states (DESIGN.md section 4).
 *
 * @example
 * ```ts
 * import { createGroup, addMembers, joinGroup, encrypt, decrypt } from "./group/index.js"
 * ```
 *
 * @module
 */
export { createGroup } from "./create.js";
export type { CreateGroupOptions } from "./create.js";
export { addMembers, removeMembers, updateGroup, rotateLongTermSecret } from "./commit.js";
export type { AddMembersOptions, CommitResult, RemoveMembersOptions, UpdateGroupOptions } from "./commit.js";
export { joinGroup } from "./join.js";
export type { JoinGroupOptions } from "./join.js";
export { processCommit } from "./process.js";
export { encrypt } from "./encrypt.js";
export type { EncryptOptions, EncryptResult } from "./encrypt.js";
export { decrypt } from "./decrypt.js";
export type { DecryptOptions, DecryptResult } from "./decrypt.js";
export { encodeGroupState, decodeGroupState } from "./codec.js";
export type { DecodeGroupStateOptions } from "./codec.js";
export { groupMembers, sameGroupMembers, describeGroup, peekMessage, inspectCommit, peekCommitHeader, peekWelcome } from "./inspect.js";
export type { CommitHeader, CommitInspection, GroupDescription, MessagePeek, WelcomePeek } from "./inspect.js";
export { asMlsEpoch } from "./state.js";
export type { GroupState, GroupStatus, MlsEpoch } from "./state.js";
