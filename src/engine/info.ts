/**
 * What the engine tells about a group: its record without keys or internals.
 *
 * @module
 */
import type { GroupRecord, GroupStatus } from "./store/records.js";

/**
 * What the engine tells about one group (its record, without keys or internals).
 *
 * @example
 * ```ts
 * const { status, mlsEpoch, members } = await engine.describe(groupId)
 * ```
 */
export interface GroupInfo {
  readonly groupId: Uint8Array;
  readonly status: GroupStatus;
  /** Undefined while the SecretGroup document has not arrived. */
  readonly owner?: Uint8Array;
  readonly ciphersuite?: string;
  readonly mlsEpoch: bigint;
  readonly ltsEpoch: bigint;
  /** Public keys, owner and self included (empty while not a member yet). */
  readonly members: Uint8Array[];
  /** Id of the last applied commit. */
  readonly head?: Uint8Array;
}

/**
 * The {@link GroupInfo} of a record (copies, so callers cannot change cached records).
 *
 * @example
 * ```ts
 * groupInfo(gidHex, record).status
 * ```
 */
export function groupInfo(gidHex: string, record: GroupRecord): GroupInfo {
  return {
    groupId: Uint8Array.from(Buffer.from(gidHex, "hex")),
    status: record.status,
    ...(record.owner === undefined ? {} : { owner: Uint8Array.from(record.owner) }),
    ...(record.ciphersuite === undefined ? {} : { ciphersuite: record.ciphersuite }),
    mlsEpoch: record.mlsEpoch,
    ltsEpoch: record.ltsEpoch,
    members: record.members.map((k) => Uint8Array.from(k)),
    ...(record.head === undefined ? {} : { head: Uint8Array.from(record.head) }),
  };
}
