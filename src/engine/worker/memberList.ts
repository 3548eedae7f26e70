/**
 * The member list a pool worker hands back with a state change (`StateSummary.members`,
 * src/engine/worker/protocol.ts): the members' identities in leaf order as one
 * `opaque members<V><V>` vector, the layout the cold group record keeps them in
 * (src/engine/store/records.ts). One buffer of its own crosses the thread boundary instead of an
 * array of views: structured cloning costs a view ~0.35 us each way (a round trip of 1000
 * members' views 0.65-0.75 ms in a micro, the vector ~0.01 ms), and the views ts-mls decodes
 * would pin the whole decoded trees and commits they point into (340 KB behind 32 KB of keys at
 * 1000 members).
 *
 * @module
 */
import { Writer, decodeAll } from "../../codec/tls.js";
import { MAX_INDEXED_LEAVES } from "../../constants.js";

/**
 * The vector of `members`' identities, in a buffer of its own.
 *
 * @example
 * ```ts
 * const packed = encodeMemberList([alice, bob]) // decodeMemberList(packed) equals [alice, bob]
 * ```
 */
export function encodeMemberList(members: readonly Uint8Array[]): Uint8Array {
  const w = new Writer(8 + members.reduce((n, m) => n + 4 + m.length, 0));
  w.vector(members, (v, member) => void v.opaque(member));
  return w.finish();
}

/**
 * The identities of {@link encodeMemberList}'s vector, as views into `bytes` (keep `bytes` whole:
 * the list is all it holds). Throws only a DecodeError (truncated, trailing bytes, more members than leaves).
 *
 * @example
 * ```ts
 * const members = decodeMemberList(out.change.summary.members)
 * ```
 */
export function decodeMemberList(bytes: Uint8Array): Uint8Array[] {
  return decodeAll(bytes, "member list", (r) => r.vector((v) => v.opaqueView(), MAX_INDEXED_LEAVES));
}
