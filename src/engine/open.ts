/**
 * Opening an engine: the options checked, the store opened (with its storage key) and migrated,
 * the in-memory books of pending commits, pending operations and the outbox loaded, and the
 * worker pool made. `SecretGroupEngine.open` builds the engine on the context this returns.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import type { Piscina } from "piscina";
import { limitsArg, pathArg } from "./arguments.js";
import { DEFAULT_WORKER_CACHE_BYTES, DEFAULT_WORKER_CACHE_ENTRIES } from "../constants.js";
import type { DEFAULT_ENGINE_LIMITS, EngineLimits } from "../constants.js";
import { assertIdentity } from "../identity.js";
import type { Identity } from "../identity.js";
import { emptyStats, workerGroupsBound } from "./context.js";
import { LruCache } from "../mls/crypto/lru.js";
import type { EngineContext } from "./context.js";
import { createPool } from "./pool.js";
import { JoinBatcher } from "./joinBatch.js";
import { EngineStore } from "./store/store.js";
import { PendingBook } from "./pendingOperations.js";
import { EventHub } from "./watch.js";
import { migrate } from "./store/migrate.js";
import { PendingCommits } from "./pending.js";
import { OutboxKeys } from "./outbox.js";
import { WelcomeKeys } from "./welcomeKeys.js";
import { PendingChain } from "./pendingChain.js";
import { PENDING_PREFIX } from "../materialise/store.js";
import { Sublevel } from "./store/sublevels.js";
import { deriveStorageKey, storageKeyArg } from "./store/seal.js";
import { bulkDecryptArg } from "./arguments.js";
import type { BulkDecrypt } from "./poolDecrypt.js";
import type { SecretGroupEngine } from "./engine.js";

/** Options of {@link SecretGroupEngine.open}. @example `{ path: "./data", identity, threads: 2 }` */
export interface EngineOptions {
  /** Folder of the LevelDB database (created if missing). */
  readonly path: string;
  /** This node's Ed25519 identity. */
  readonly identity: Identity;
  /** Worker threads of the pool the engine creates (default: available parallelism). */
  readonly threads?: number;
  /**
   * Bound of each pool worker's V8 young generation, in MiB (default: V8's own). A node with many
   * small groups saves memory with 16 (10,000 groups of 3: peak RSS 826 -> 736 MiB), at the price
   * of more garbage collection in large groups' commits (engine join at 1000 members ~1.25x
   * slower, bench/results/NOTES.md).
   */
  readonly workerYoungGenerationMb?: number;
  /** A pool to use instead (the engine then does not close it; its close() clears what it left in the pool's workers). */
  readonly pool?: Piscina;
  /** Most group actors kept live (default 256). */
  readonly liveActors?: number;
  /** Most estimated bytes of live group actors (default 64 MiB; a large group's member list weighs more). */
  readonly liveActorBytes?: number;
  /** Most decoded MLS states each worker keeps (default 64, `DEFAULT_WORKER_CACHE_ENTRIES`). */
  readonly workerCacheSize?: number;
  /**
   * Most bytes of decoded MLS states each worker keeps, a state weighing the bytes it is stored
   * in (default 8 MiB, `DEFAULT_WORKER_CACHE_BYTES`; a decoded state takes 8-9 times that
   * in heap). Least recently used states go first and reload from the store.
   */
  readonly workerCacheBytes?: number;
  /** Long-term nonce counters reserved per persisted block (default 1024). */
  readonly nonceBlock?: number;
  /**
   * Where large long-term `decrypt` batches open. `"auto"` (default): where the AEAD addon is
   * built (src/nativeAead.ts), on the main thread in slices, the event loop served between them,
   * unless the values average 32 KiB or more (`NATIVE_POOL_MIN_MEAN_BYTES`); without it, batches
   * of 64 values or 256 KiB go to the worker pool. `"pool"`: those batches always go to the pool,
   * leaving the main thread to other work at a cost in throughput (1 KiB values: ~1.6 us of
   * main-thread CPU a value in slices, ~2.6 us packing them for the pool, bench/results/NOTES.md).
   */
  readonly bulkDecrypt?: BulkDecrypt;
  /** Limits on pending input (defaults: {@link DEFAULT_ENGINE_LIMITS}). */
  readonly limits?: Partial<EngineLimits>;
  /**
   * 32-byte key sealing key material and plaintexts at rest (README "Threat model"). Default:
   * derived from the identity's secret key (HKDF-SHA256, `STORAGE_KEY_LABEL`). A key that does
   * not open the database is `StorageError` `STORAGE_KEY`; after {@link SecretGroupEngine.rotateStorageKey}
   * pass the new key.
   */
  readonly storageKey?: Uint8Array;
}

/**
 * Checks `options`, opens the store and loads what the engine keeps in memory; the store is
 * closed again if loading fails. The engine's context, before any actor exists.
 *
 * @example
 * ```ts
 * const ctx = await openContext({ path: dir, identity, threads: 2 })
 * ```
 */
export async function openContext(options: EngineOptions): Promise<EngineContext> {
  const path = pathArg(options);
  const limits = limitsArg(options.limits);
  const bulkDecrypt = bulkDecryptArg(options.bulkDecrypt);
  assertIdentity(options.identity);
  let pendingCommits: PendingCommits;
  let pendingOps: PendingBook;
  let outbox: OutboxKeys;
  let welcomes: WelcomeKeys;
  let pendingChain: PendingChain;
  const storageKey = options.storageKey === undefined ? deriveStorageKey(options.identity.secretKey) : storageKeyArg(options.storageKey);
  const store = await EngineStore.open(path, options.identity.publicKey, storageKey);
  try {
    await migrate(store);
    // the pending follower records, listed once for both in-memory views of them
    const pendingKeys = await store.keys(Sublevel.Materialise, PENDING_PREFIX);
    pendingCommits = await PendingCommits.load(store, pendingKeys);
    pendingOps = await PendingBook.load(store);
    outbox = await OutboxKeys.open(store);
    welcomes = await WelcomeKeys.load(store);
    pendingChain = PendingChain.fromKeys(pendingKeys);
  } catch (e) {
    await store.close();
    throw e;
  }
  const pool =
    options.pool ??
    createPool({
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.workerYoungGenerationMb === undefined ? {} : { youngGenerationMb: options.workerYoungGenerationMb }),
    });
  const cacheLimit = options.workerCacheSize ?? DEFAULT_WORKER_CACHE_ENTRIES;
  const ctx: EngineContext = {
    store,
    pool,
    joins: new JoinBatcher(pool),
    identity: options.identity,
    engineId: randomBytes(8).toString("hex"),
    cacheLimit,
    cacheBytes: options.workerCacheBytes ?? DEFAULT_WORKER_CACHE_BYTES,
    workerGroups: new LruCache(workerGroupsBound(cacheLimit, pool.threads.length)),
    nonceBlock: BigInt(options.nonceBlock ?? 1024),
    bulkDecrypt,
    stats: emptyStats(),
    limits,
    pendingCommits,
    pendingOps,
    welcomes,
    pendingChain,
    outbox,
    events: new EventHub(),
    droppedRuns: new Map(),
  };
  return ctx;
}
