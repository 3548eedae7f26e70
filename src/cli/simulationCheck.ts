/**
 * How the simulation judges itself. Every node ingests every document and never calls decrypt;
 * afterwards it reads every encrypted operation from what its engine materialised
 * (`engine.read`). The simulation knows who was a member when each one was written, so each
 * operation is either readable by the protocol for that node (it was a member then, or joined
 * later and the operation is long-term) or not. Per scheme it counts the readable ones, those
 * read, those missing (readable but not read: a fault, whatever the reason), and the unreadable
 * ones by the reason the engine gives: not a member (pending: no Welcome for this node), joined
 * later (`UNKNOWN_EPOCH`: sender-ratchet keys from before the join), removed (`NOT_MEMBER`).
 * A wrong plaintext, a read by a node that was not a member and a node that missed a commit
 * are faults too.
 *
 * @module
 */
import type { SchemeName } from "../constants.js";
import { ErrorCode, InternalError } from "../errors.js";

/** Why an operation is unreadable for a node, as the engine tells it. @example `"joined later"` */
export type UnreadableReason = "not a member" | "joined later" | "removed";

/** One scheme's count. @example `{ readable: 10, read: 10, missing: 0, unreadable: { removed: 2 } }` */
export interface SchemeTally {
  /** Reads the protocol allows (node was a member when written, or a long-term late joiner). */
  readable: number;
  /** Of those, read with the written value. */
  read: number;
  /** Of those, not read (must be 0); `missingBy` says what the engine answered. */
  missing: number;
  missingBy: Record<string, number>;
  /** Reads the protocol does not allow, by the reason the engine gave (another code: its code). */
  unreadable: Record<string, number>;
}

/** What the reads of a simulation came to. @example `const t: ReadTally = emptyReadTally()` */
export interface ReadTally {
  schemes: Record<SchemeName, SchemeTally>;
  /** Reads that returned other values than were written. */
  mismatched: number;
  /** Operations read by a node that was not a member when they were written. */
  leaked: number;
}

const emptyScheme = (): SchemeTally => ({ readable: 0, read: 0, missing: 0, missingBy: {}, unreadable: {} });

/** A tally with nothing counted. @example `const tally = emptyReadTally()` */
export function emptyReadTally(): ReadTally {
  return { schemes: { "long-term": emptyScheme(), "sender-ratchet": emptyScheme() }, mismatched: 0, leaked: 0 };
}

/** One read: what was written, and what the node's engine holds. @example `{ expected: true, scheme: "long-term", written: "hi", read: "hi" }` */
export interface ReadResult {
  /** The protocol lets this node read it (a member when written, or a long-term late joiner). */
  readonly expected: boolean;
  readonly scheme: SchemeName;
  readonly written: string;
  /** The materialised value, when the field was read. */
  readonly read?: unknown;
  /** The field's error code, when it can never be read (`PENDING` when it still waits, `MISSING` when the node has no such operation). */
  readonly code?: string;
}

const bump = (record: Record<string, number>, key: string): void => {
  record[key] = (record[key] ?? 0) + 1;
};

/** The reason an unreadable operation's answer stands for. @example `reasonOf("NOT_MEMBER") // "removed"` */
export function reasonOf(code: string): UnreadableReason | string {
  if (code === ErrorCode.Pending) return "not a member";
  if (code === ErrorCode.UnknownEpoch) return "joined later";
  if (code === ErrorCode.NotMember) return "removed";
  return code;
}

/**
 * Counts one read into `tally`.
 *
 * @example
 * ```ts
 * tallyRead(tally, { expected: false, scheme: "long-term", written: body, code: "NOT_MEMBER" })
 * ```
 */
export function tallyRead(tally: ReadTally, r: ReadResult): void {
  const s = tally.schemes[r.scheme];
  if (r.expected) s.readable++;
  if (r.code === undefined) {
    if (!r.expected) tally.leaked++;
    else if (r.read !== r.written) tally.mismatched++;
    else s.read++;
    return;
  }
  if (r.expected) {
    s.missing++;
    bump(s.missingBy, r.code);
  } else bump(s.unreadable, reasonOf(r.code));
}

const codes = (record: Record<string, number>): string =>
  Object.entries(record)
    .map(([code, n]) => `${code} ${n}`)
    .join(", ");

/**
 * Everything wrong with a finished simulation, one phrase each (empty when it passed).
 *
 * @example
 * ```ts
 * simulationProblems({ ...summary, mismatched: 2 }) // ["2 reads returned wrong values"]
 * ```
 */
export function simulationProblems(s: ReadTally & { readonly commits: number; readonly indexedCommits: number }): string[] {
  const problems: string[] = [];
  if (s.mismatched > 0) problems.push(`${s.mismatched} reads returned wrong values`);
  for (const [scheme, t] of Object.entries(s.schemes)) {
    if (t.missing > 0) problems.push(`${t.missing} ${scheme} operations readable by the protocol were not read (${codes(t.missingBy)})`);
  }
  if (s.leaked > 0) problems.push(`${s.leaked} operations were read by nodes that were not members`);
  if (s.indexedCommits !== s.commits) problems.push(`a node indexed ${s.indexedCommits} of ${s.commits} commits`);
  return problems;
}

/**
 * Throws one `InternalError` naming every problem of a finished simulation, or returns.
 *
 * @example
 * ```ts
 * checkSimulation(await runSimulation(options))
 * ```
 */
export function checkSimulation(s: ReadTally & { readonly commits: number; readonly indexedCommits: number }): void {
  const problems = simulationProblems(s);
  if (problems.length > 0) throw new InternalError(ErrorCode.Internal, `simulation failed: ${problems.join("; ")}`);
}
