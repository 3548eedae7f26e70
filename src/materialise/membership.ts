/**
 * Replaying a group's membership without keys, the way RFC 9420 changes the ratchet tree
 * (section 12.3: updates, then removes, then adds). Only leaf occupancy matters here: updates
 * keep every leaf where it is; a remove blanks its leaf (truncating trailing blank leaves, which
 * never moves a member); an add takes the leftmost blank leaf, else extends the tree, so it
 * always lands on the first blank index. The owner sits at leaf 0 from group creation.
 *
 * @module
 */
import { checkCommitSender } from "../documents/rules.js";
import { equalBytes, toHex } from "../bytes.js";
import { MAX_INDEXED_LEAVES } from "./records.js";
import type { LeafMember, Member } from "./records.js";

/** Public facts of one commit, as the index needs them. @example `{ mlsEpoch: 0n, welcome: true, refs: [ref], addedPublicKeys: [], removedLeaves: [], senderLeaf: 0 }` */
export interface MembershipChange {
  /** KeyPackageRefs the Welcome names, in the order the Add proposals come. */
  readonly refs: readonly Uint8Array[];
  /** Credential keys of the Add proposals, in order (empty when the inspector gives none). */
  readonly addedPublicKeys: readonly Uint8Array[];
  readonly removedLeaves: readonly number[];
  /** Committer's leaf, -1 when unknown. */
  readonly senderLeaf: number;
}

/** The leaf map after a commit and what it changed. @example `const { leaves, added, removed } = applyMembershipChange(...)` */
export interface MembershipResult {
  readonly leaves: ReadonlyArray<Member | undefined>;
  readonly added: readonly LeafMember[];
  readonly removed: readonly LeafMember[];
}

export { commitKindOf } from "../group/inspect.js";

/**
 * The members a commit adds, in proposal order: keys from the Add proposals when given (they
 * decide the count), refs from the Welcome, paired by position when both lists have the same
 * length (a Welcome names exactly the added members, in proposal order). Known keys are looked up by ref in `known`.
 *
 * @example
 * ```ts
 * addedMembers({ refs: [r], addedPublicKeys: [], removedLeaves: [], senderLeaf: 0 }, new Map()) // [{ ref: r }]
 * ```
 */
export function addedMembers(change: MembershipChange, known: ReadonlyMap<string, Uint8Array>): Member[] {
  const { refs, addedPublicKeys: keys } = change;
  // The Add proposals are authoritative when the inspector gives them; refs pair only when the counts agree.
  const count = keys.length > 0 ? keys.length : refs.length;
  const paired = keys.length === 0 || refs.length === keys.length;
  const out: Member[] = [];
  for (let i = 0; i < count; i++) {
    const ref = paired ? refs[i] : undefined;
    const publicKey = keys[i] ?? (ref === undefined ? undefined : known.get(toHex(ref)));
    out.push({ ...(publicKey === undefined ? {} : { publicKey }), ...(ref === undefined ? {} : { ref }) });
  }
  return out;
}

/**
 * Applies one commit to a leaf map. Returns a reason (string) instead when the commit cannot be
 * valid against this membership: a sender that is not the owner's leaf, a removed leaf that is
 * blank, out of range, the committer's own or named twice.
 *
 * @example
 * ```ts
 * const r = applyMembershipChange([{ publicKey: owner }], owner, change, addedMembers(change, known))
 * if (typeof r === "string") refuse(r)
 * ```
 */
export function applyMembershipChange(
  leaves: ReadonlyArray<Member | undefined>,
  owner: Uint8Array,
  change: MembershipChange,
  adds: readonly Member[],
): MembershipResult | string {
  const next = leaves.slice();
  if (change.senderLeaf >= 0) {
    try {
      checkCommitSender({ author: owner }, next[change.senderLeaf]?.publicKey);
    } catch (e) {
      return `sender leaf ${change.senderLeaf}: ${(e as Error).message}`;
    }
  }
  const removed: LeafMember[] = [];
  for (const leaf of change.removedLeaves) {
    const member = next[leaf];
    if (member === undefined) return `removes blank or unknown leaf ${leaf}`;
    if (member.publicKey !== undefined && equalBytes(member.publicKey, owner)) return "removes the owner";
    next[leaf] = undefined;
    removed.push({ leaf, member });
  }
  while (next.length > 0 && next[next.length - 1] === undefined) next.pop();
  const added: LeafMember[] = [];
  let cursor = 0;
  for (const member of adds) {
    while (cursor < next.length && next[cursor] !== undefined) cursor++;
    if (cursor >= MAX_INDEXED_LEAVES) return "tree grows beyond the index limit";
    next[cursor] = member;
    added.push({ leaf: cursor, member });
  }
  return { leaves: next, added, removed };
}
