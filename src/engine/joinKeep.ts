/**
 * Whether a worker may evict other cached states to keep a joined group's state. A node that
 * materialises a stream of many groups joins each once, and nothing else happens to most of them
 * for a long time: a state cached at its join was evicted unused by the joins after it (64
 * entries a worker), having lived long enough to be promoted to the old generation, which then
 * collected it. So a small group's joined state takes a place in the cache only when one is free,
 * unless work for the group is known to wait: pending operations (the drain after the join
 * decrypts them) or pending commits after the joined one. A large group's state always takes one
 * (see {@link JOIN_KEEP_MIN_BYTES}). A state not kept is loaded from the store by the group's next
 * task (the worker answers it with a miss, src/engine/context.ts). Measured on many groups
 * (groupsDev, rounds of 1000 groups of 3, A/B in one process, 3 runs): 0.88-0.97x the wall time
 * and 0.89-0.96x the process CPU per group.
 *
 * @module
 */
import { JOIN_KEEP_MIN_BYTES } from "../constants.js";
import type { SecretGroupCommit } from "../commit.js";
import type { EngineContext } from "./context.js";

/**
 * True when the worker that joins `gid` through commit `cid` should keep the joined state even
 * if that evicts another; false: only if the cache has room.
 *
 * @example
 * ```ts
 * const keepState = keepsJoinedState(ctx, gid, cid, commit) // false for a 3-member group with nothing pending: cached only if there is room
 * ```
 */
export function keepsJoinedState(ctx: EngineContext, gid: string, cid: string, commit: SecretGroupCommit): boolean {
  if (commit.mlsCommit.length + (commit.mlsWelcome?.length ?? 0) >= JOIN_KEEP_MIN_BYTES) return true;
  if (ctx.pendingOps.entries(gid).length > 0) return true;
  return ctx.pendingCommits.ofGroup(gid).some((e) => e.cid !== cid);
}
