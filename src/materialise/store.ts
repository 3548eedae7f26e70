/**
 * How the materialisation index meets LevelDB: it reads through a {@link IndexReader} (a
 * `level` sublevel with utf8 keys and `"view"` values satisfies it) and never writes; it returns
 * {@link IndexOp}s that the engine puts into the group's atomic batch, e.g.
 * `db.batch(ops.map((op) => ({ ...op, sublevel: indexSublevel })))`. Values already carry their
 * {@link STORAGE_VERSION} byte: write them as they are (not through a wrapper that adds one).
 *
 * Keys (utf8; ids, keys and refs lowercase hex; `seq` 16 hex digits, so they sort):
 * ```
 * g/<groupId>                              GroupIndexHead     (written only by that group's actor; a whole
 *                                          GroupIndexRecord of before format 4 until the group's next write)
 * l/<groupId>/<chunk>                      leaf chunk          (INDEX_LEAF_CHUNK leaves; chunk: 8 hex digits)
 * h/<groupId>/<seq>                        HistoryRecord      (append only)
 * c/<groupId>/<commitId>                   SeqRecord          (commit id -> history position)
 * q/<groupId>/<previousId or "-">/<commitId> PendingRecord    (deleted once indexed or refused)
 * k/<publicKey>/<groupId>/<seq or "-">/<o|a|r>  EventRecord   (owner / added / removed, by key)
 * r/<ref>/<groupId>/<seq>/<a|r>            EventRecord        (added / removed, by KeyPackageRef: a member known by ref alone)
 * kp/<ref>                                 KeyPackageIndexRecord (ref -> public key, document)
 * p/<publicKey>/<ref>                      KeyPackageIndexRecord (public key -> its refs)
 * ```
 * Every key a commit writes names its group (and its commit position), and key package records
 * are the same bytes whoever writes them, so groups indexed concurrently never read-modify-write
 * the same record. A ref whose key package document arrives late is resolved when reading.
 *
 * @module
 */
import { toHex } from "../bytes.js";
import { DecodeError } from "../errors.js";

/**
 * The read side of a sublevel: `db.sublevel("materialise", { keyEncoding: "utf8", valueEncoding: "view" })`
 * satisfies it. Values are typed `unknown` and checked, since the store is outside our control.
 *
 * @example
 * ```ts
 * const reader: IndexReader = db.sublevel<string, Uint8Array>("materialise", { valueEncoding: "view" })
 * ```
 */
export interface IndexReader {
  get(key: string): Promise<unknown>;
  iterator(options: { gte: string; lt: string }): AsyncIterable<readonly [unknown, unknown]>;
}

/**
 * One write for the engine's batch (same shape as `level`'s batch operations).
 *
 * @example
 * ```ts
 * await sublevel.batch(ops as IndexOp[])
 * ```
 */
export type IndexOp =
  | { readonly type: "put"; readonly key: string; readonly value: Uint8Array }
  | { readonly type: "del"; readonly key: string };

/** 16 hex digits of a history position. @example `seqKey(10n) // "000000000000000a"` */
export function seqKey(seq: bigint): string {
  return seq.toString(16).padStart(16, "0");
}

/** Prefix of every pending follower record `q/<groupId>/<previousId or "-">/<commitId>`. @example `store.keys(sub, PENDING_PREFIX)` */
export const PENDING_PREFIX = "q/";

/**
 * The parts of a pending follower record's key (the hex strings, `prev` "-" for none); undefined
 * for any other key.
 *
 * @example
 * ```ts
 * parsePendingKey("q/ab/-/cd") // { gid: "ab", prev: "-", cid: "cd" }
 * ```
 */
export function parsePendingKey(key: string): { gid: string; prev: string; cid: string } | undefined {
  // called on every index key a batch writes (the ledgers follow batches): most are not pending records
  if (!key.startsWith(PENDING_PREFIX)) return undefined;
  const parts = key.split("/");
  if (parts.length !== 4 || `${parts[0]}/` !== PENDING_PREFIX) return undefined;
  return { gid: parts[1] as string, prev: parts[2] as string, cid: parts[3] as string };
}

/** Key builders of every record (see the module comment). @example `Keys.group(gid)` */
export const Keys = {
  group: (gid: Uint8Array): string => `g/${toHex(gid)}`,
  leafChunkPrefix: (gid: Uint8Array): string => `l/${toHex(gid)}/`,
  leafChunk: (gid: Uint8Array, chunk: number): string => `l/${toHex(gid)}/${chunk.toString(16).padStart(8, "0")}`,
  historyPrefix: (gid: Uint8Array): string => `h/${toHex(gid)}/`,
  history: (gid: Uint8Array, seq: bigint): string => `h/${toHex(gid)}/${seqKey(seq)}`,
  commit: (gid: Uint8Array, cid: Uint8Array): string => `c/${toHex(gid)}/${toHex(cid)}`,
  pendingPrefix: (gid: Uint8Array, previous: Uint8Array | undefined): string => `${PENDING_PREFIX}${toHex(gid)}/${previous === undefined ? "-" : toHex(previous)}/`,
  pending: (gid: Uint8Array, previous: Uint8Array | undefined, cid: Uint8Array): string => `${Keys.pendingPrefix(gid, previous)}${toHex(cid)}`,
  byKeyPrefix: (pk: Uint8Array): string => `k/${toHex(pk)}/`,
  byKey: (pk: Uint8Array, gid: Uint8Array, seq: bigint | undefined, kind: "o" | "a" | "r"): string =>
    `k/${toHex(pk)}/${toHex(gid)}/${seq === undefined ? "-" : seqKey(seq)}/${kind}`,
  byRefPrefix: (ref: Uint8Array): string => `r/${toHex(ref)}/`,
  byRef: (ref: Uint8Array, gid: Uint8Array, seq: bigint, kind: "a" | "r"): string => `r/${toHex(ref)}/${toHex(gid)}/${seqKey(seq)}/${kind}`,
  keyPackage: (ref: Uint8Array): string => `kp/${toHex(ref)}`,
  refsOfPrefix: (pk: Uint8Array): string => `p/${toHex(pk)}/`,
  refOf: (pk: Uint8Array, ref: Uint8Array): string => `p/${toHex(pk)}/${toHex(ref)}`,
} as const;

function asBytes(value: unknown, key: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new DecodeError(`index record ${key} is not bytes`);
  return value;
}

/**
 * Reads one value, `undefined` when absent.
 *
 * @example
 * ```ts
 * const bytes = await readValue(reader, Keys.group(gid))
 * ```
 */
export async function readValue(reader: IndexReader, key: string): Promise<Uint8Array | undefined> {
  const value = await reader.get(key);
  return value === undefined ? undefined : asBytes(value, key);
}

/**
 * Every `[key, value]` under `prefix`, in key order.
 *
 * @example
 * ```ts
 * for (const [key, value] of await scanPrefix(reader, Keys.historyPrefix(gid))) {}
 * ```
 */
export async function scanPrefix(reader: IndexReader, prefix: string): Promise<Array<[string, Uint8Array]>> {
  const out: Array<[string, Uint8Array]> = [];
  // Keys are ASCII, so "\uffff" sorts after every key with this prefix.
  for await (const [key, value] of reader.iterator({ gte: prefix, lt: prefix + "\uffff" })) {
    if (typeof key !== "string") throw new DecodeError("index key is not a string");
    out.push([key, asBytes(value, key)]);
  }
  return out;
}
