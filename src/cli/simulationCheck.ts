/**
 * How the simulation judges itself. Every node tries to read every encrypted operation; the
 * simulation knows who was a member when each one was written, so each read is either
 * expected (the node was a member then, or joined later and the operation is long-term) or
 * not. An expected read that fails is a fault, whatever its code; so is a read by a node that
 * was not a member, a wrong plaintext, and a node that missed a commit.
 *
 * @module
 */
import type { SchemeName } from "../constants.js";
import { ErrorCode, InternalError } from "../errors.js";

/** What the reads of a simulation came to. @example `const t: ReadTally = emptyReadTally()` */
export interface ReadTally {
  decrypted: { "long-term": number; "sender-ratchet": number };
  /** Decryptions that returned other bytes than were written. */
  mismatched: number;
  /** Refused as expected: the node was not a member when the operation was written (by error code). */
  notMember: Record<string, number>;
  /** Reads a member should make that still wait (`PENDING`) after every document was delivered. */
  pending: number;
  /** Reads a member should make that failed otherwise, by error code. */
  unexpected: Record<string, number>;
  /** Operations read by a node that was not a member when they were written. */
  leaked: number;
}

/** A tally with nothing counted. @example `const tally = emptyReadTally()` */
export function emptyReadTally(): ReadTally {
  return { decrypted: { "long-term": 0, "sender-ratchet": 0 }, mismatched: 0, notMember: {}, pending: 0, unexpected: {}, leaked: 0 };
}

/** One read: what was written, and what the node got. @example `{ expected: true, scheme: "long-term", written: "hi", read: "hi" }` */
export interface ReadResult {
  /** The node was a member when the operation was written (or joined later and it is long-term). */
  readonly expected: boolean;
  readonly scheme: SchemeName;
  readonly written: string;
  /** The decrypted value, when the read succeeded. */
  readonly read?: unknown;
  /** The error, when it did not. */
  readonly error?: { readonly code?: string };
}

const bump = (record: Record<string, number>, code: string): void => {
  record[code] = (record[code] ?? 0) + 1;
};

/**
 * Counts one read into `tally`.
 *
 * @example
 * ```ts
 * tallyRead(tally, { expected: false, scheme: "long-term", written: body, error })
 * ```
 */
export function tallyRead(tally: ReadTally, r: ReadResult): void {
  if (r.error === undefined) {
    if (!r.expected) tally.leaked++;
    else if (r.read !== r.written) tally.mismatched++;
    else tally.decrypted[r.scheme]++;
    return;
  }
  const code = r.error.code ?? "UNKNOWN";
  if (!r.expected) bump(tally.notMember, code);
  else if (code === ErrorCode.Pending) tally.pending++;
  else bump(tally.unexpected, code);
}

const sum = (record: Record<string, number>): number => Object.values(record).reduce((a, b) => a + b, 0);
const codes = (record: Record<string, number>): string =>
  Object.entries(record)
    .map(([code, n]) => `${code} ${n}`)
    .join(", ");

/**
 * Everything wrong with a finished simulation, one phrase each (empty when it passed).
 *
 * @example
 * ```ts
 * simulationProblems({ ...summary, pending: 2 }) // ["2 reads by members still pending after full delivery"]
 * ```
 */
export function simulationProblems(s: ReadTally & { readonly commits: number; readonly indexedCommits: number }): string[] {
  const problems: string[] = [];
  if (s.mismatched > 0) problems.push(`${s.mismatched} decryptions returned wrong plaintexts`);
  if (sum(s.unexpected) > 0) problems.push(`${sum(s.unexpected)} reads by members failed (${codes(s.unexpected)})`);
  if (s.pending > 0) problems.push(`${s.pending} reads by members still pending after full delivery`);
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
