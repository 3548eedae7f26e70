/**
 * The patched ts-mls's per-thread caches of trees: its tree-hash snapshots (treeHash.js) and key
 * summaries (keySummary.js) keep the most recent few, each holding every node of the tree it was
 * made from. They are bounded by count, not bytes, so a group whose state a cache has let go kept
 * its whole tree alive through them: after the benchmark's membership rows at 1000 members, ~30
 * MB of the main thread's 62 MB heap (session 30). The engine's worker drops a state's entries
 * with the state ({@link forgetTreeCaches}); a state replaced by its next epoch keeps them, since
 * its next commit brings them up to date from there.
 *
 * @module
 */
import { forgetKeySummaries, keySummaryCount } from "ts-mls/keySummary.js";
import { forgetTreeSnapshots, treeSnapshotCount } from "ts-mls/treeHash.js";
import type { MlsState } from "./group.js";

/**
 * Drops the tree-hash snapshots and key summaries that hold nodes of `state`'s ratchet tree (its
 * group's, whichever epoch each was made at). Only memory: a later commit of the group hashes and
 * summarises what it then misses. Returns how many of each were dropped.
 *
 * @example
 * ```ts
 * const { snapshots, summaries } = forgetTreeCaches(evicted.mls)
 * ```
 */
export function forgetTreeCaches(state: MlsState): { readonly snapshots: number; readonly summaries: number } {
  return { snapshots: forgetTreeSnapshots(state.ratchetTree), summaries: forgetKeySummaries(state.ratchetTree) };
}

/**
 * How many tree-hash snapshots and key summaries this thread keeps (a worker's memory stats).
 *
 * @example
 * ```ts
 * const { snapshots, summaries } = treeCacheSizes()
 * ```
 */
export function treeCacheSizes(): { readonly snapshots: number; readonly summaries: number } {
  return { snapshots: treeSnapshotCount(), summaries: keySummaryCount() };
}
