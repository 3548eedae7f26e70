/**
 * Applying the owner's commits as a member (spec "Processing commits").
 *
 * @module
 */
import { commitParts } from "../commit.js";
import type { SecretGroupCommit } from "../commit.js";
import { ErrorCode, ValidationError } from "../errors.js";
import { findLongTermSecret, mergeLongTermSecrets } from "../lts/secret.js";
import type { LongTermSecret } from "../lts/secret.js";
import { equalBytes } from "../bytes.js";
import { mlsApplyCommit } from "../mls/commit.js";
import { findLeafByIdentity, mlsEpochOf } from "../mls/group.js";
import { openSecretList } from "./secrets.js";
import { asMlsEpoch, assertMember, ownerLeaf } from "./state.js";
import type { GroupState } from "./state.js";

/**
 * Applies an encoded SecretGroupCommit. Only the owner's commits are accepted; a commit that
 * removes this member returns a `"removed"` state that keeps its long-term secrets (and its
 * last MLS epoch). The input state is never changed; on any error nothing is applied.
 *
 * Errors: `NOT_MEMBER` (state already removed), `DECODE_ERROR`, `WRONG_GROUP`,
 * `UNKNOWN_EPOCH` (the commit is for another epoch: already applied, or an earlier commit is
 * missing), `FORGED_SENDER` (commit or secret list not from the owner), `INVALID_CREDENTIAL`
 * (the commit adds a leaf whose credential is not its signature key), `MLS_FAILURE`
 * (does not verify), `INVALID_COMMIT` (bad secret list).
 *
 * @example
 * ```ts
 * const next = await processCommit(state, commitBytes)
 * if (next.status === "removed") console.log("we were removed")
 * ```
 */
export async function processCommit(state: GroupState, commit: Uint8Array | SecretGroupCommit): Promise<GroupState> {
  assertMember(state);
  const parts = commitParts(commit);
  const owner = ownerLeaf(state);
  if (owner === undefined) throw new ValidationError(ErrorCode.ForgedSender, "the group owner is not in the group");
  const applied = await mlsApplyCommit(state.mls, state.provider, parts.mlsCommit, owner);
  if (applied.removed) {
    // Keep the last state we were a member in: its secrets and retained epochs still decrypt.
    return { ...state, status: "removed" };
  }
  const newOwner = findLeafByIdentity(applied.state, state.owner);
  if (newOwner === undefined) throw new ValidationError(ErrorCode.InvalidCommit, "the commit removed the owner");
  const opened = await openSecretList(applied.state, state.provider, parts.encryptedSecrets, newOwner, state.groupId, state.ciphersuite);
  checkHeldSecrets(state.secrets, opened.secrets);
  return {
    ...state,
    mls: opened.mls,
    mlsEpoch: asMlsEpoch(mlsEpochOf(opened.mls)),
    secrets: mergeLongTermSecrets(state.secrets, opened.secrets),
  };
}

/**
 * A list that gives an epoch we hold another value is refused (`INVALID_COMMIT`): a member
 * keeps reading old data with the keys it has, and a joiner given that list would read it
 * differently, so the owner's fork shows instead of splitting the group silently.
 */
function checkHeldSecrets(held: readonly LongTermSecret[], received: readonly LongTermSecret[]): void {
  for (const s of received) {
    const mine = findLongTermSecret(held, s.epoch);
    if (mine !== undefined && !equalBytes(mine.value, s.value)) {
      throw new ValidationError(ErrorCode.InvalidCommit, `the secret list changes the value of long-term epoch ${s.epoch}`);
    }
  }
}
