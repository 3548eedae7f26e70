/**
 * Migrations of databases written by earlier releases, run by `SecretGroupEngine.open` before
 * anything else reads them. Each is idempotent (safe to run on every open, and to resume after
 * a crash) and writes in atomic batches, so an interrupted open leaves every value in either
 * its old or its new form.
 *
 * @module
 */
import { STORAGE_VERSION } from "../../constants.js";
import { isSealed, ownKeyId, Sublevel, SUBLEVEL_PROTECTION } from "./sublevels.js";
import type { EngineStore } from "./store.js";
import type { SublevelName } from "./sublevels.js";
import { MetaKey, reseal, sealingPending } from "./keys.js";

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
 * Releases up to 0.1.0 wrote every value in the clear. Seals each value of a sealed sublevel
 * that is still in the clear (version byte {@link STORAGE_VERSION}), then drops the marker and
 * compacts LevelDB so the clear copies leave its files (freed blocks may stay on the device:
 * the README's threat model says so). A value of an unknown version stays as it is, for the
 * reader to refuse.
 *
 * @example
 * ```ts
 * await sealClearValues(store)
 * ```
 */
async function sealClearValues(store: EngineStore): Promise<void> {
  if (!(await sealingPending(store))) return;
  const subs = (Object.keys(SUBLEVEL_PROTECTION) as SublevelName[]).filter(isSealed);
  await reseal(
    store,
    subs,
    (raw) => raw[0] === STORAGE_VERSION,
    (_sub, _key, raw) => raw,
  );
  await store.rawBatch([{ sub: Sublevel.Meta, key: MetaKey.Sealing, raw: null }], true);
  await store.compact();
}

/**
 * Own keys whose value is gone (a crash between a batch and the keyring write that follows or
 * precedes it) are destroyed.
 *
 * @example
 * ```ts
 * await dropOrphanKeys(store)
 * ```
 */
async function dropOrphanKeys(store: EngineStore): Promise<void> {
  const orphans: string[] = [];
  for (const id of store.keyring.ids()) {
    const slash = id.indexOf("/");
    const sub = id.slice(0, slash) as SublevelName;
    const key = id.slice(slash + 1);
    if (slash < 0 || !(sub in SUBLEVEL_PROTECTION) || ownKeyId(sub, key) !== id || !(await store.has(sub, key))) orphans.push(id);
  }
  await store.keyring.destroy(orphans);
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
  await sealClearValues(store);
  await dropLegacyChain(store);
  await dropOrphanKeys(store);
}
