/**
 * Reading the materialisation index: what `engine.history`, `engine.groupsOf` and
 * `engine.welcomeFor` return (issue 5). KeyPackageRefs whose key package document arrived after
 * the commit are resolved here, at read time, so no writer ever has to revisit a record.
 *
 * @module
 */
import { fromHex, toHex } from "../bytes.js";
import { decodeEventRecord, decodeKeyPackageIndexRecord, EventKind } from "./keyRecords.js";
import { decodeHistoryRecord } from "./chainRecords.js";
import { readGroupIndex } from "./leafMap.js";
import type { CommitKind } from "./chainRecords.js";
import type { LeafMember, Member } from "./records.js";
import { Keys, readValue, scanPrefix } from "./store.js";
import type { IndexReader } from "./store.js";

/**
 * One commit of a group's chain. `added`/`removed` are 32-byte public keys; members known only by
 * a KeyPackageRef whose key package document has not arrived yet are listed in `unresolved`.
 *
 * @example
 * ```ts
 * const [first] = await history(reader, gid); first.kind // "add"
 * ```
 */
export interface HistoryEntry {
  readonly commitId: Uint8Array;
  readonly previousCommit?: Uint8Array;
  /** The MLS epoch this commit starts. */
  readonly epoch: bigint;
  readonly kind: CommitKind;
  /** The commit carries a Welcome (it addresses every member it adds). */
  readonly welcome: boolean;
  readonly added: Uint8Array[];
  readonly removed: Uint8Array[];
  readonly unresolved: { readonly added: Uint8Array[]; readonly removed: Uint8Array[] };
}

/**
 * The groups a key was owner of, added to and removed from, with the commit ids in chain order.
 *
 * @example
 * ```ts
 * (await groupsOf(reader, bob)).map((g) => [toHex(g.groupId), g.added.length, g.removed.length])
 * ```
 */
export interface GroupMembership {
  readonly groupId: Uint8Array;
  /** The key authored the group's SecretGroup document. */
  readonly owner: boolean;
  readonly added: Uint8Array[];
  readonly removed: Uint8Array[];
}

/** A member of the indexed leaf map. @example `{ leaf: 0, publicKey: owner }` */
export interface IndexedMember {
  readonly leaf: number;
  readonly publicKey?: Uint8Array;
  /** Set when the member is known by its KeyPackageRef only. */
  readonly ref?: Uint8Array;
}

/** Where a group's index stands. @example `(await indexedGroup(reader, gid))?.members.length` */
export interface IndexedGroup {
  readonly owner?: Uint8Array;
  /** Last indexed commit. */
  readonly head?: Uint8Array;
  /** Current MLS epoch as far as the index knows. */
  readonly epoch: bigint;
  readonly commits: bigint;
  /** Members in leaf order. */
  readonly members: IndexedMember[];
}

class RefResolver {
  private readonly cache = new Map<string, Uint8Array | null>();
  constructor(private readonly reader: IndexReader) {}

  async resolve(member: Member): Promise<Uint8Array | undefined> {
    if (member.publicKey !== undefined) return member.publicKey;
    if (member.ref === undefined) return undefined;
    const hex = toHex(member.ref);
    let known = this.cache.get(hex);
    if (known === undefined) {
      const bytes = await readValue(this.reader, Keys.keyPackage(member.ref));
      known = bytes === undefined ? null : decodeKeyPackageIndexRecord(bytes).publicKey;
      this.cache.set(hex, known);
    }
    return known ?? undefined;
  }

  async split(list: readonly LeafMember[]): Promise<{ keys: Uint8Array[]; refs: Uint8Array[] }> {
    const keys: Uint8Array[] = [];
    const refs: Uint8Array[] = [];
    for (const { member } of list) {
      const key = await this.resolve(member);
      if (key !== undefined) keys.push(key);
      else if (member.ref !== undefined) refs.push(member.ref);
    }
    return { keys, refs };
  }
}

/**
 * The indexed commit chain of a group, oldest first (empty for an unknown group).
 *
 * @example
 * ```ts
 * for (const c of await history(reader, gid)) console.log(c.epoch, c.kind, c.added.length, c.removed.length)
 * ```
 */
export async function history(reader: IndexReader, groupId: Uint8Array): Promise<HistoryEntry[]> {
  const resolver = new RefResolver(reader);
  const out: HistoryEntry[] = [];
  for (const [, value] of await scanPrefix(reader, Keys.historyPrefix(groupId))) {
    const rec = decodeHistoryRecord(value);
    const added = await resolver.split(rec.added);
    const removed = await resolver.split(rec.removed);
    out.push({
      commitId: rec.commitId,
      ...(rec.previousCommit === undefined ? {} : { previousCommit: rec.previousCommit }),
      epoch: rec.epoch,
      kind: rec.kind,
      welcome: rec.welcome,
      added: added.keys,
      removed: removed.keys,
      unresolved: { added: added.refs, removed: removed.refs },
    });
  }
  return out;
}

interface Event {
  readonly gid: string;
  /** History position, -1 for the owner event. */
  readonly seq: number;
  readonly kind: EventKind;
  readonly commitId?: Uint8Array;
  readonly welcome: boolean;
}

function parseEvents(entries: ReadonlyArray<[string, Uint8Array]>, into: Map<string, Event>): void {
  for (const [key, value] of entries) {
    const parts = key.split("/");
    const gid = parts[2];
    const seqPart = parts[3];
    if (parts.length !== 5 || gid === undefined || seqPart === undefined) continue;
    const rec = decodeEventRecord(value);
    const seq = seqPart === "-" ? -1 : parseInt(seqPart, 16);
    // The same event may be stored under the key and under a ref: one entry per (group, seq, kind).
    into.set(`${gid}/${seqPart}/${rec.kind}`, { gid, seq, kind: rec.kind, welcome: rec.welcome, ...(rec.commitId === undefined ? {} : { commitId: rec.commitId }) });
  }
}

async function eventsOf(reader: IndexReader, publicKey: Uint8Array, groupId?: Uint8Array): Promise<Event[]> {
  const events = new Map<string, Event>();
  const suffix = groupId === undefined ? "" : `${toHex(groupId)}/`;
  parseEvents(await scanPrefix(reader, Keys.byKeyPrefix(publicKey) + suffix), events);
  for (const [key] of await scanPrefix(reader, Keys.refsOfPrefix(publicKey))) {
    const refHex = key.slice(key.lastIndexOf("/") + 1);
    parseEvents(await scanPrefix(reader, `r/${refHex}/${suffix}`), events);
  }
  return [...events.values()].sort((a, b) => (a.gid < b.gid ? -1 : a.gid > b.gid ? 1 : a.seq - b.seq));
}

/**
 * The groups `publicKey` owns, was added to or removed from, sorted by group id; commit ids in
 * chain order. Includes adds known only by a KeyPackageRef once that key package is indexed.
 *
 * @example
 * ```ts
 * const [g] = await groupsOf(reader, bob); g.added // [commitId]
 * ```
 */
export async function groupsOf(reader: IndexReader, publicKey: Uint8Array): Promise<GroupMembership[]> {
  const groups = new Map<string, { owner: boolean; added: Uint8Array[]; removed: Uint8Array[] }>();
  for (const e of await eventsOf(reader, publicKey)) {
    let g = groups.get(e.gid);
    if (g === undefined) groups.set(e.gid, (g = { owner: false, added: [], removed: [] }));
    if (e.kind === EventKind.Owner) g.owner = true;
    else if (e.commitId !== undefined) (e.kind === EventKind.Added ? g.added : g.removed).push(e.commitId);
  }
  return [...groups.entries()].map(([gid, g]) => ({ groupId: fromHex(gid), ...g }));
}

/**
 * The latest commit of `groupId` whose Welcome addresses `publicKey`, with its document from
 * `loadDocument` (the engine's document store); `null` when there is none. A commit whose
 * document is gone is skipped for the next older one.
 *
 * @example
 * ```ts
 * const w = await welcomeFor(reader, me, gid, (id) => docs.get(toHex(id)))
 * if (w !== null) await joinGroup({ identity, secret, owner, commit: encodeSecretGroupCommit(readSecretGroupCommit(w.document).commit) })
 * ```
 */
export async function welcomeFor<T>(
  reader: IndexReader,
  publicKey: Uint8Array,
  groupId: Uint8Array,
  loadDocument: (commitId: Uint8Array) => Promise<T | undefined> | T | undefined,
): Promise<{ commitId: Uint8Array; document: T } | null> {
  const welcomes = (await eventsOf(reader, publicKey, groupId)).filter((e) => e.kind === EventKind.Added && e.welcome);
  for (let i = welcomes.length - 1; i >= 0; i--) {
    const commitId = welcomes[i]?.commitId;
    if (commitId === undefined) continue;
    const document = await loadDocument(commitId);
    if (document !== undefined) return { commitId, document };
  }
  return null;
}

/**
 * The index's view of a group (owner, head, epoch, members in leaf order), `undefined` when the
 * index knows nothing of it. For a non-member node this is its `members(groupId)`.
 *
 * @example
 * ```ts
 * const g = await indexedGroup(reader, gid); g?.members.map((m) => m.publicKey)
 * ```
 */
export async function indexedGroup(reader: IndexReader, groupId: Uint8Array): Promise<IndexedGroup | undefined> {
  const rec = await readGroupIndex(reader, groupId);
  if (rec === undefined) return undefined;
  const resolver = new RefResolver(reader);
  const members: IndexedMember[] = [];
  for (let leaf = 0; leaf < rec.leaves.length; leaf++) {
    const member = rec.leaves[leaf];
    if (member === undefined) continue;
    const publicKey = await resolver.resolve(member);
    members.push({ leaf, ...(publicKey === undefined ? {} : { publicKey }), ...(member.ref === undefined ? {} : { ref: member.ref }) });
  }
  return {
    ...(rec.owner === undefined ? {} : { owner: rec.owner }),
    ...(rec.head === undefined ? {} : { head: rec.head }),
    epoch: rec.nextEpoch,
    commits: rec.count,
    members,
  };
}
