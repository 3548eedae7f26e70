/**
 * The storage key's life in the database: the check value that tells a wrong key (`meta/keycheck`,
 * {@link STORAGE_KEY_CHECK} sealed under it), and rotation (`engine.rotateStorageKey`).
 *
 * Rotation, crash-safe: (1) one synced batch writes `meta/rotation`, the new key sealed under the
 * old one and the old key sealed under the new one; from then on new values are sealed under the
 * new generation; (2) every value still sealed under the old generation is opened and sealed
 * again, in synced batches of {@link RESEAL_BATCH}; (3) the keyring file is written under the new
 * key; (4) one synced batch writes the new check value and deletes `meta/rotation`. Killed
 * anywhere, the next open accepts either key while `meta/rotation` exists (it recovers the other
 * one from the record) and finishes the rotation; after (4) only the new key opens the database.
 * Values under their own keys (keyring.ts) are not touched: their keys move with the keyring.
 *
 * @module
 */
import { RESEAL_BATCH, STORAGE_KEY_CHECK, STORAGE_VERSION } from "../../constants.js";
import { Writer, decodeAll } from "../../codec/tls.js";
import { concatBytes, equalBytes, utf8 } from "../../bytes.js";
import { ErrorCode, InternalError, StorageError, UsageError } from "../../errors.js";
import { Sealer } from "./seal.js";
import { sealedGeneration } from "./sealedValue.js";
import { Protection, SUBLEVEL_PROTECTION, Sublevel } from "./sublevels.js";
import { unversioned } from "./version.js";
import type { EngineStore, RawOp } from "./store.js";
import type { SublevelName } from "./sublevels.js";

/** Keys of `meta` this module writes. */
export const MetaKey = {
  KeyCheck: "keycheck",
  Rotation: "rotation",
  /** A database written in the clear by an earlier release, being sealed (migrate.ts). */
  Sealing: "sealing",
} as const;

const CHECK = concatBytes(Uint8Array.of(STORAGE_VERSION), utf8(STORAGE_KEY_CHECK));

interface RotationRecord {
  readonly generation: number;
  readonly newUnderOld: Uint8Array;
  readonly oldUnderNew: Uint8Array;
}

function decodeRotation(raw: Uint8Array): RotationRecord {
  return decodeAll(unversioned(raw, "key rotation record"), "key rotation record", (r) => ({ generation: r.u32(), newUnderOld: r.opaque(), oldUnderNew: r.opaque() }));
}

function opens(sealer: Sealer, check: Uint8Array): boolean {
  try {
    return equalBytes(sealer.open(Sublevel.Meta, MetaKey.KeyCheck, check), CHECK);
  } catch {
    return false;
  }
}

function tryOpen(sealer: Sealer, key: string, sealed: Uint8Array): Uint8Array | undefined {
  try {
    return sealer.open(Sublevel.Meta, key, sealed);
  } catch {
    return undefined;
  }
}

/**
 * The sealer for a database given the caller's storage key: checked against `meta/keycheck`
 * (none yet: a new or unsealed database, generation 0). During an interrupted rotation either
 * key opens it, and the sealer holds both. A wrong key is StorageError(STORAGE_KEY).
 *
 * @example
 * ```ts
 * const sealer = await unlock((key) => meta.get(key), storageKey)
 * ```
 */
export async function unlock(getMeta: (key: string) => Promise<Uint8Array | undefined>, storageKey: Uint8Array): Promise<Sealer> {
  const check = await getMeta(MetaKey.KeyCheck);
  if (check === undefined) return new Sealer(new Map([[0, storageKey]]), 0);
  const generation = sealedGeneration(check) ?? -1;
  const rotationRaw = await getMeta(MetaKey.Rotation);
  const rotation = rotationRaw === undefined ? undefined : decodeRotation(rotationRaw);
  const asOld = new Sealer(new Map([[generation, storageKey]]), generation);
  if (opens(asOld, check)) {
    if (rotation === undefined) return asOld;
    const newKey = tryOpen(asOld, "rotation/new", rotation.newUnderOld);
    if (newKey === undefined) throw new StorageError(ErrorCode.StorageIntegrity, "key rotation record does not open under the storage key");
    return new Sealer(
      new Map([
        [generation, storageKey],
        [rotation.generation, newKey],
      ]),
      rotation.generation,
    );
  }
  if (rotation !== undefined) {
    const oldKey = tryOpen(new Sealer(new Map([[rotation.generation, storageKey]]), rotation.generation), "rotation/old", rotation.oldUnderNew);
    if (oldKey !== undefined && opens(new Sealer(new Map([[generation, oldKey]]), generation), check)) {
      return new Sealer(
        new Map([
          [generation, oldKey],
          [rotation.generation, storageKey],
        ]),
        rotation.generation,
      );
    }
  }
  throw new StorageError(ErrorCode.StorageKey, "the storage key does not open this database (nothing was changed)");
}

async function metaRaw(store: EngineStore, key: string): Promise<Uint8Array | undefined> {
  return (await store.rawScan(Sublevel.Meta, key)).find(([k]) => k === key)?.[1];
}

/** True when the database has a storage key check value. @example `await hasKeyCheck(store)` */
export async function hasKeyCheck(store: EngineStore): Promise<boolean> {
  return (await metaRaw(store, MetaKey.KeyCheck)) !== undefined;
}

/** True when an unsealed database is being sealed (migrate.ts). @example `await sealingPending(store)` */
export async function sealingPending(store: EngineStore): Promise<boolean> {
  return (await metaRaw(store, MetaKey.Sealing)) !== undefined;
}

/**
 * Writes the check value of the current storage key (and, for a database written in the
 * clear, the marker that migrate.ts must seal it), in one synced batch.
 *
 * @example
 * ```ts
 * await writeKeyCheck(store, false)
 * ```
 */
export async function writeKeyCheck(store: EngineStore, sealing: boolean): Promise<void> {
  const ops: RawOp[] = [{ sub: Sublevel.Meta, key: MetaKey.KeyCheck, raw: store.sealer.seal(Sublevel.Meta, MetaKey.KeyCheck, CHECK) }];
  if (sealing) ops.push({ sub: Sublevel.Meta, key: MetaKey.Sealing, raw: Uint8Array.of(STORAGE_VERSION) });
  await store.rawBatch(ops, true);
}

/** Sublevels sealed under the storage key (not under own keys). */
const storageSealed = (): SublevelName[] => (Object.keys(SUBLEVEL_PROTECTION) as SublevelName[]).filter((s) => SUBLEVEL_PROTECTION[s] === Protection.Sealed);

/** The storage key generation of a raw value (undefined: not sealed under the storage key, or malformed: left for the reader to report). */
function generationOf(raw: Uint8Array): number | undefined {
  try {
    return sealedGeneration(raw);
  } catch {
    return undefined;
  }
}

/**
 * Re-seals, in synced batches, every value that `select` picks; `plain` gives its unsealed
 * stored form (version byte in front). Used by rotation and by the sealing migration.
 *
 * @example
 * ```ts
 * await reseal(store, ["state"], (raw) => raw[0] === 1, (sub, key, raw) => raw)
 * ```
 */
export async function reseal(
  store: EngineStore,
  subs: readonly SublevelName[],
  select: (raw: Uint8Array) => boolean,
  plain: (sub: SublevelName, key: string, raw: Uint8Array) => Uint8Array,
): Promise<number> {
  let done = 0;
  for (const sub of subs) {
    let chunk: Array<[string, Uint8Array]> = [];
    const flush = async (): Promise<void> => {
      if (SUBLEVEL_PROTECTION[sub] === Protection.OwnKey) await store.keyring.create(chunk.map(([key]) => `${sub}/${key}`));
      await store.rawBatch(
        chunk.map(([key, raw]) => ({ sub, key, raw: store.sealed(sub, key, plain(sub, key, raw)) })),
        true,
      );
      done += chunk.length;
      chunk = [];
    };
    for await (const [key, raw] of store.rawEntries(sub)) {
      if (!select(raw)) continue;
      chunk.push([key, raw]);
      if (chunk.length >= RESEAL_BATCH) await flush();
    }
    if (chunk.length > 0) await flush();
  }
  return done;
}

/**
 * Finishes a rotation that `meta/rotation` says is under way (nothing to do otherwise): steps
 * (2) to (4) of the module comment.
 *
 * @example
 * ```ts
 * await finishRotation(store)
 * ```
 */
export async function finishRotation(store: EngineStore): Promise<void> {
  if ((await metaRaw(store, MetaKey.Rotation)) === undefined) return;
  const current = store.sealer.generation;
  await reseal(
    store,
    storageSealed(),
    (raw) => {
      const g = generationOf(raw);
      return g !== undefined && g !== current;
    },
    (sub, key, raw) => store.opened(sub, key, raw),
  );
  await store.keyring.persist(true);
  await store.rawBatch(
    [
      { sub: Sublevel.Meta, key: MetaKey.KeyCheck, raw: store.sealer.seal(Sublevel.Meta, MetaKey.KeyCheck, CHECK) },
      { sub: Sublevel.Meta, key: MetaKey.Rotation, raw: null },
    ],
    true,
  );
  for (let g = 0; g < current; g++) store.sealer.forget(g);
}

/**
 * Step (1) of a rotation: the record that lets either key open the database, durable, and the
 * new generation current. Exported so tests can stop a rotation after it (a crash).
 *
 * @example
 * ```ts
 * await beginRotation(store, newKey)
 * ```
 */
export async function beginRotation(store: EngineStore, newKey: Uint8Array): Promise<void> {
  const { sealer } = store;
  const oldGeneration = sealer.generation;
  const oldKey = sealer.key(oldGeneration);
  if (oldKey === undefined) throw new InternalError(ErrorCode.Internal, "current storage key missing");
  if (equalBytes(oldKey, newKey)) throw new UsageError(ErrorCode.InvalidArgument, "the new storage key is the current one");
  const generation = oldGeneration + 1;
  sealer.addKey(generation, newKey);
  const record = new Writer(160)
    .u8(STORAGE_VERSION)
    .u32(generation)
    .opaque(sealer.seal(Sublevel.Meta, "rotation/new", newKey, undefined, oldGeneration))
    .opaque(sealer.seal(Sublevel.Meta, "rotation/old", oldKey, undefined, generation))
    .finish();
  await store.rawBatch([{ sub: Sublevel.Meta, key: MetaKey.Rotation, raw: record }], true);
  sealer.generation = generation;
}

/**
 * Re-seals the database under `newKey` (crash-safe, see the module comment). Batches of other
 * groups wait until it is done; reads go on.
 *
 * @example
 * ```ts
 * await rotateStorage(store, newKey)
 * ```
 */
export async function rotateStorage(store: EngineStore, newKey: Uint8Array): Promise<void> {
  await store.exclusively(async () => {
    await beginRotation(store, newKey);
    await finishRotation(store);
  });
}
