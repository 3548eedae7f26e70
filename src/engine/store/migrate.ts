/**
 * Migrations of databases written by earlier releases, run by `SecretGroupEngine.open` before
 * anything else reads them. Each is idempotent (safe to run on every open) and writes in one
 * atomic batch, so an interrupted open leaves either the old or the new form.
 *
 * @module
 */
import { Sublevel } from "./store.js";
import type { EngineStore } from "./store.js";

/**
 * Release 0.1.0 kept its own commit chain beside the follower's (`next`: successors by
 * `previous_commit`); the follower (src/materialise/commits.ts) now is the only one, and
 * everything `next` listed is in its records too, so the entries go.
 *
 * @example
 * ```ts
 * await dropLegacyChain(store)
 * ```
 */
async function dropLegacyChain(store: EngineStore): Promise<void> {
  const keys = await store.keys(Sublevel.Next, "");
  await store.batch(keys.map((key) => ({ sub: Sublevel.Next, key, value: null })));
}

/**
 * Every migration, in order.
 *
 * @example
 * ```ts
 * await migrate(store)
 * ```
 */
export async function migrate(store: EngineStore): Promise<void> {
  await dropLegacyChain(store);
}
