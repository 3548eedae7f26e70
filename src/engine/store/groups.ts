/**
 * Where group records live: the cold half at `groups/<gid>` (written by membership changes:
 * status, owner, members, about 34 bytes a member) and the hot half at `groups/<gid>/hot`
 * (written by every commit and by messages: chain head, state token, epochs, nonce reservation, a
 * few dozen bytes), so neither an encryption nor an update commit in a group of 1000 rewrites its
 * member list. Before storage format 5 the head lay in the cold half, which every commit rewrote;
 * such a cold half (or a format-1 record with every field) is read as it is: the group's next write
 * puts the head in a format-5 hot half, which stands over it, and the old cold half stays until a
 * cold field changes.
 *
 * @module
 */
import { coldChanged, decodeGroupRecord, encodeColdRecord, encodeHotRecord } from "./records.js";
import type { GroupRecord } from "./records.js";
import { Sublevel } from "./sublevels.js";
import type { EngineStore, StoreOp } from "./store.js";

const HOT = "/hot";

/**
 * Reads a group's record (both halves); undefined when the group was never stored.
 *
 * @example
 * ```ts
 * const record = await readGroupRecord(store, gidHex)
 * ```
 */
export async function readGroupRecord(store: EngineStore, groupId: string): Promise<GroupRecord | undefined> {
  const cold = await store.get(Sublevel.Groups, groupId, "group record");
  if (cold === undefined) return undefined;
  return decodeGroupRecord(cold, await store.get(Sublevel.Groups, groupId + HOT, "group record"));
}

/**
 * Every stored group record, in group id order.
 *
 * @example
 * ```ts
 * for (const [gid, record] of await listGroupRecords(store)) {}
 * ```
 */
export async function listGroupRecords(store: EngineStore): Promise<Array<[string, GroupRecord]>> {
  const rows = await store.scan(Sublevel.Groups, "", "group record");
  const hot = new Map(rows.filter(([key]) => key.endsWith(HOT)));
  return rows.filter(([key]) => !key.endsWith(HOT)).map(([gid, cold]) => [gid, decodeGroupRecord(cold, hot.get(gid + HOT))]);
}

/**
 * The ops storing `record` after a commit, a join or the group document: the hot half (unless
 * nothing was stored and it is empty), the cold half only when it differs from `previous` (the
 * record as stored before; undefined: nothing stored, the cold half written).
 *
 * @example
 * ```ts
 * ops.push(...recordOps(gid, next, record))
 * ```
 */
export function recordOps(groupId: string, record: GroupRecord, previous: GroupRecord | undefined): StoreOp[] {
  if (previous !== undefined && !coldChanged(previous, record)) return [hotOp(groupId, record)];
  const cold: StoreOp = { sub: Sublevel.Groups, key: groupId, value: encodeColdRecord(record) };
  // a first record whose hot half holds nothing (a group document before any state: no head,
  // no state token, epochs and reservation 0) is its cold half alone, which reads back with
  // that empty hot half (decodeGroupRecord): one sealed value less per group seen
  return previous === undefined && emptyHot(record) ? [cold] : [cold, hotOp(groupId, record)];
}

/** True when the hot half of `record` holds only what a record read without one has. */
function emptyHot(record: GroupRecord): boolean {
  return record.head === undefined && record.stateToken === undefined && record.mlsEpoch === 0n && record.ltsEpoch === 0n && record.nonceReserved === 0n;
}

/** The op writing the hot half only (after a message changed the state or the reservation). @example `ops.push(hotOp(gid, next))` */
export function hotOp(groupId: string, record: GroupRecord): StoreOp {
  return { sub: Sublevel.Groups, key: groupId + HOT, value: encodeHotRecord(record) };
}
