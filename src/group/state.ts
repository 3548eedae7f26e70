/**
 * The immutable state of one member of one secret group, and the checks every operation
 * shares.
 *
 * @module
 */
import { equalBytes } from "../bytes.js";
import { ErrorCode, UsageError } from "../errors.js";
import type { LongTermCiphersuiteName } from "../constants.js";
import type { LongTermSecret } from "../lts/secret.js";
import type { MlsState } from "../mls/group.js";
import { findLeafByIdentity } from "../mls/group.js";
import type { Exporter } from "../lts/derive.js";
import { mlsExport } from "../mls/group.js";
import type { ProviderName } from "../mls/suite.js";

/**
 * An MLS epoch number.
 *
 * @example
 * ```ts
 * const e: MlsEpoch = asMlsEpoch(3n)
 * ```
 */
export type MlsEpoch = bigint & { readonly __brand: "MlsEpoch" };

/**
 * Brands a non-negative integer as an {@link MlsEpoch}.
 *
 * @example
 * ```ts
 * asMlsEpoch(0)
 * ```
 */
export function asMlsEpoch(n: bigint | number): MlsEpoch {
  const v = typeof n === "number" ? BigInt(n) : n;
  if (v < 0n) throw new UsageError(ErrorCode.InvalidArgument, "an MLS epoch is not negative");
  return v as MlsEpoch;
}

/** `"member"` while in the group, `"removed"` after a commit removed this member. @example `if (state.status === "removed") return` */
export type GroupStatus = "member" | "removed";

/**
 * One member's view of one secret group. Never mutated: every operation returns a new state.
 * Holds private keys: keep it in the process or the store.
 *
 * @example
 * ```ts
 * const state: GroupState = await createGroup({ identity, groupId, ciphersuite: "PANDA10_AES256GCM" })
 * state.secrets.at(-1)?.epoch // 0n
 * ```
 */
export interface GroupState {
  /** Group id = the SecretGroup document id (MLS group id). */
  readonly groupId: Uint8Array;
  /** Public key of the owner: the only member who commits and creates long-term secrets. */
  readonly owner: Uint8Array;
  /** This member's public key. */
  readonly self: Uint8Array;
  readonly status: GroupStatus;
  /** Long-term secret ciphersuite of the group. */
  readonly ciphersuite: LongTermCiphersuiteName;
  /** Current MLS epoch (for a removed member: the last epoch it was in). */
  readonly mlsEpoch: MlsEpoch;
  /** Every long-term secret this member knows, sorted by epoch, no duplicates. */
  readonly secrets: readonly LongTermSecret[];
  /** The last long-term nonce counter this member used (0 before the first encryption). */
  readonly nonceCounter: bigint;
  /** Crypto provider used for MLS operations (runtime choice, not stored). */
  readonly provider: ProviderName;
  /** Opaque MLS state. */
  readonly mls: MlsState;
}

/**
 * Usage error `NOT_OWNER` unless `state` is the owner's.
 *
 * @example
 * ```ts
 * assertOwner(state)
 * ```
 */
export function assertOwner(state: GroupState): void {
  assertMember(state);
  if (!equalBytes(state.self, state.owner)) {
    throw new UsageError(ErrorCode.NotOwner, "only the group owner commits and creates long-term secrets");
  }
}

/**
 * Usage error `NOT_MEMBER` when `state` was removed.
 *
 * @example
 * ```ts
 * assertMember(state)
 * ```
 */
export function assertMember(state: GroupState): void {
  assertGroupState(state);
  if (state.status !== "member") throw new UsageError(ErrorCode.NotMember, "this member was removed from the group");
}

/**
 * Usage error `INVALID_ARGUMENT` when `state` is not a group state.
 *
 * @example
 * ```ts
 * assertGroupState(value)
 * ```
 */
export function assertGroupState(state: unknown): asserts state is GroupState {
  const s = state as Partial<GroupState> | null;
  if (typeof s !== "object" || s === null || !(s.groupId instanceof Uint8Array) || typeof s.mls !== "object" || !Array.isArray(s.secrets)) {
    throw new UsageError(ErrorCode.InvalidArgument, "not a GroupState");
  }
}

/**
 * Leaf index of the owner in the current ratchet tree; `FORGED_SENDER`-free lookup, so
 * `undefined` if the owner is not in the tree.
 *
 * @example
 * ```ts
 * const leaf = ownerLeaf(state)
 * ```
 */
export function ownerLeaf(state: GroupState): number | undefined {
  return findLeafByIdentity(state.mls, state.owner);
}

/**
 * The MLS exporter of the state's current epoch, in the shape `src/lts/derive.ts` expects.
 *
 * @example
 * ```ts
 * const secret = await deriveLongTermSecret(exporterOf(state.mls, state.provider), ...)
 * ```
 */
export function exporterOf(mls: MlsState, provider: ProviderName): Exporter {
  return (label, length) => mlsExport(mls, provider, label, length);
}
