/**
 * The engine's LevelDB store: one database per engine, one sublevel per kind of record
 * (sublevels.ts: the layout), every stored value prefixed with the format version byte
 * {@link STORAGE_VERSION} (version.ts), and every change of one group written in one atomic
 * batch (callers collect {@link StoreOp}s and call {@link EngineStore.batch} once).
 *
 * Values of the sublevels {@link SUBLEVEL_PROTECTION} marks are sealed (src/engine/store/seal.ts)
 * around their versioned form; own keys live in the keyring file beside LevelDB's (keyring.ts).
 * Reading is in reads.ts, which this class extends.
 *
 * @module
 */
import { Level } from "level";
import { PREPARE_MIN_BYTES, STORAGE_VERSION, SYNC_GROUP_MAX_WRITES } from "../../constants.js";
import { ErrorCode, InternalError, StorageError } from "../../errors.js";
import { equalBytes } from "../../bytes.js";
import { Keyring } from "./keyring.js";
import { ShredRounds } from "./shreds.js";
import type { Sealer } from "./seal.js";
import { finishRotation, hasKeyCheck, unlock, writeKeyCheck } from "./keys.js";
import { StoreReads } from "./reads.js";
import { ownKeyId, Protection, Sublevel, SUBLEVEL_PROTECTION } from "./sublevels.js";
import type { SublevelName } from "./sublevels.js";
import { unversioned, versioned } from "./version.js";
import { Prepared, plainRaw, putAll, syncGroupLength } from "./prepared.js";
import type { ChainedBatch, PreparedOps, SyncedWrite } from "./prepared.js";

export type { PreparedOps } from "./prepared.js";

/** One write of an atomic batch: `value === null` deletes. @example `{ sub: "docs", key: id, value: bytes }` */
export interface StoreOp {
  readonly sub: SublevelName;
  readonly key: string;
  readonly value: Uint8Array | null;
  /** The value already starts with its storage version byte (materialisation index records). */
  readonly versioned?: true;
}

/** A raw write (value as it lies in the files) for this module's friends: keys.ts and migrate.ts. */
export interface RawOp {
  readonly sub: SublevelName;
  readonly key: string;
  readonly raw: Uint8Array | null;
}

/**
 * The engine's database. All values go through `versioned`/{@link unversioned} (version.ts), and those of
 * sealed sublevels ({@link SUBLEVEL_PROTECTION}) through the sealer on the way in and out.
 *
 * @example
 * ```ts
 * const store = await EngineStore.open("./data", publicKey, storageKey)
 * await store.batch([{ sub: "docs", key: "ab", value: bytes }])
 * ```
 */
export class EngineStore extends StoreReads {
  /** Own keys destroyed once the batches that deleted their values are durable (shreds.ts). */
  private readonly shreds = new ShredRounds(
    () => this.rawBatch([{ sub: Sublevel.Meta, key: "shred-barrier", raw: null }], true),
    (ids) => this.keyring.destroy(ids),
  );
  /** Batches in flight, and the exclusive holder (rotation) they wait for. */
  private active = 0;
  private idle: (() => void) | undefined;
  private exclusive: Promise<void> | undefined;
  /** Synced batches waiting for the one being written (group commit, {@link syncedBatch}). */
  private readonly syncQueue: SyncedWrite[] = [];
  private syncing = false;
  /** {@link PREPARE_MIN_BYTES}, a field so that a test can prepare small writes. */
  prepareMinBytes: number = PREPARE_MIN_BYTES;

  private constructor(db: Level<string, Uint8Array>, path: string, sealer: Sealer, keyring: Keyring) {
    super(db, path, sealer, keyring);
  }

  /**
   * Opens (or creates) the database at `path` for the engine whose public key is `self`, with
   * its storage key. A key that does not open it is StorageError(STORAGE_KEY), and nothing is
   * written. An interrupted key rotation is finished here (src/engine/store/keys.ts).
   *
   * @example
   * ```ts
   * const store = await EngineStore.open(dir, identity.publicKey, deriveStorageKey(identity.secretKey))
   * ```
   */
  static async open(path: string, self: Uint8Array, storageKey: Uint8Array): Promise<EngineStore> {
    const db = new Level<string, Uint8Array>(path, { keyEncoding: "utf8", valueEncoding: "view" });
    try {
      await db.open();
    } catch (e) {
      throw new StorageError(ErrorCode.Storage, `cannot open database at ${path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      const meta = db.sublevel<string, Uint8Array>(Sublevel.Meta, { keyEncoding: "utf8", valueEncoding: "view" });
      const format = (await meta.get("format")) as Uint8Array | undefined;
      if (format !== undefined && !equalBytes(unversioned(format, "database format"), self)) {
        throw new StorageError(ErrorCode.Storage, "this database belongs to another identity");
      }
      const sealer = await unlock((key) => meta.get(key) as Promise<Uint8Array | undefined>, storageKey);
      const store = new EngineStore(db, path, sealer, await Keyring.load(path, sealer));
      if (format === undefined) {
        await store.batch([{ sub: Sublevel.Meta, key: "format", value: self }]);
        await writeKeyCheck(store, false);
      } else if (!(await hasKeyCheck(store))) {
        // written by a release without sealing: migrate.ts seals it
        await writeKeyCheck(store, true);
      }
      await finishRotation(store);
      return store;
    } catch (e) {
      await db.close();
      throw e;
    }
  }

  /** The raw value to store for `value` (already versioned; an own key must exist). @example `store.sealed("state", key, value)` */
  sealed(sub: SublevelName, key: string, value: Uint8Array): Uint8Array {
    return this.stored(sub, key, value, true);
  }

  /**
   * The raw value to store for `value`: the version byte then `value` (`value` alone when
   * `hasVersion`: it holds its own), sealed if its sublevel is, the byte sealed with it.
   */
  private stored(sub: SublevelName, key: string, value: Uint8Array, hasVersion: boolean): Uint8Array {
    const prefix = hasVersion ? undefined : STORAGE_VERSION;
    switch (SUBLEVEL_PROTECTION[sub]) {
      case Protection.Plain:
        return prefix === undefined ? value : versioned(value);
      case Protection.Sealed:
        return this.sealer.seal(sub, key, value, undefined, undefined, prefix);
      case Protection.OwnKey: {
        const own = this.keyring.get(ownKeyId(sub, key));
        if (own === undefined) throw new InternalError(ErrorCode.Internal, `${sub} ${key}: no own key made before sealing`);
        return this.sealer.seal(sub, key, value, own, undefined, prefix);
      }
    }
  }

  /**
   * Writes all `ops` in one atomic LevelDB batch, each value prefixed with the version byte and
   * sealed if its sublevel is. `sync` waits until LevelDB has fsync'ed the batch: for writes that
   * must survive a crash of the machine before their result is used (nonce reservations,
   * consumed ratchet keys). Own keys: made durable before the batch that seals under them,
   * destroyed once the batch that deletes their values is durable (shortly after, in the
   * background, and before {@link close} returns).
   *
   * @example
   * ```ts
   * await store.batch([{ sub: "groups", key: gid, value: record }, { sub: "welcomes", key: k, value: null }])
   * ```
   */
  async batch(ops: readonly StoreOp[], options: { readonly sync?: boolean; readonly prepared?: PreparedOps } = {}): Promise<void> {
    const prepared = options.prepared instanceof Prepared && options.prepared.ops.every((op, i) => ops[i] === op) ? options.prepared : undefined;
    if (prepared === undefined || ops.length === 0) options.prepared?.discard();
    if (ops.length === 0) return;
    while (this.exclusive !== undefined) await this.exclusive;
    this.active++;
    try {
      const own = ops.filter((op) => SUBLEVEL_PROTECTION[op.sub] === Protection.OwnKey);
      await this.keyring.create(own.filter((op) => op.value !== null).map((op) => ownKeyId(op.sub, op.key)));
      const shredded = own.filter((op) => op.value === null).map((op) => ownKeyId(op.sub, op.key));
      const raw = (prepared === undefined ? ops : ops.slice(prepared.ops.length)).map((op) => ({
        sub: op.sub,
        key: op.key,
        raw: op.value === null ? null : this.stored(op.sub, op.key, op.value, op.versioned === true),
      }));
      await (options.sync === true ? this.syncedBatch(raw, prepared?.batch) : this.rawBatch(raw, false, prepared?.batch));
      if (shredded.length > 0) this.shreds.add(shredded, options.sync !== true);
    } finally {
      prepared?.discard(); // a no-op once written; frees it when sealing or the keyring failed first
      if (--this.active === 0) this.idle?.();
    }
  }

  /**
   * Puts `ops`, the first writes of a coming {@link batch}, into a LevelDB batch now (see
   * {@link PreparedOps}). Only values stored as they are (sublevels that are not sealed, whose
   * stored form no key rotation changes) and of at least {@link prepareMinBytes} in all (a
   * prepared batch is synced apart from the others, {@link syncedBatch}); undefined for any
   * other, or when the put fails (the batch then writes everything itself).
   *
   * @example
   * ```ts
   * const prepared = store.prepare([docOp]); await store.batch([docOp, ...stateOps], { prepared })
   * ```
   */
  prepare(ops: readonly StoreOp[]): PreparedOps | undefined {
    if (ops.some((op) => SUBLEVEL_PROTECTION[op.sub] !== Protection.Plain)) return undefined;
    if (ops.reduce((bytes, op) => bytes + (op.value?.length ?? 0), 0) < this.prepareMinBytes) return undefined;
    let batch: ChainedBatch | undefined;
    try {
      batch = this.db.batch();
      putAll(batch, ops.map(plainRaw), (name) => this.sub(name).prefix);
      return new Prepared(ops, batch);
    } catch {
      void batch?.close().catch(() => undefined);
      return undefined;
    }
  }

  /**
   * Group commit of synced batches: a synced batch asked for while another is being fsync'ed
   * waits, and all that waited go together in the next synced LevelDB batch, so N groups' joins
   * cost one fsync instead of N. Each caller's ops stay whole inside one LevelDB batch (atomic as
   * a whole, so still atomic per group), and each caller resolves only after the batch holding
   * its ops is synced. A write with a prepared batch (a join's commit document and index
   * records) starts a group: the others' ops are added to its LevelDB batch. The first write
   * after a quiet spell starts at the end of the turn, not at once: the joins a worker answers
   * together ask for their writes one after another in the same turn, and all go in one batch.
   */
  private syncedBatch(raw: readonly RawOp[], prepared?: ChainedBatch): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.syncQueue.push({ raw, ...(prepared === undefined ? {} : { prepared }), resolve, reject });
      if (!this.syncing) {
        this.syncing = true;
        setImmediate(() => void this.flushSynced());
      }
    });
  }

  private async flushSynced(): Promise<void> {
    try {
      while (this.syncQueue.length > 0) {
        const group = this.syncQueue.splice(0, syncGroupLength(this.syncQueue, SYNC_GROUP_MAX_WRITES));
        try {
          await this.rawBatch(group.flatMap((w) => w.raw), true, group[0]?.prepared);
          for (const w of group) w.resolve();
        } catch (e) {
          for (const w of group) w.reject(e);
        }
      }
    } finally {
      this.syncing = false;
    }
  }

  /**
   * Writes raw values (as they are to lie in the files) in one atomic batch.
   *
   * @example
   * ```ts
   * await store.rawBatch([{ sub: "meta", key: "keycheck", raw: sealed }], true)
   * ```
   */
  async rawBatch(ops: readonly RawOp[], sync: boolean, prepared?: ChainedBatch): Promise<void> {
    if (ops.length === 0 && prepared === undefined) return;
    // a chained batch (one LevelDB WriteBatch, as atomic as the array form): abstract-level's
    // array form copies every op with the options and hands classic-level objects it reads
    // field by field, ~20 us an op (a join at 1000 members writes ~3,000)
    let batch: ChainedBatch | undefined = prepared;
    try {
      batch ??= this.db.batch();
      putAll(batch, ops, (name) => this.sub(name).prefix);
      await batch.write({ sync });
    } catch (e) {
      await batch?.close().catch(() => undefined); // frees a batch write() did not reach (closing twice is a no-op)
      throw new StorageError(ErrorCode.Storage, `writing batch: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Runs `task` with no {@link batch} in flight and none starting until it ends (key rotation).
   *
   * @example
   * ```ts
   * await store.exclusively(() => resealAll(store))
   * ```
   */
  async exclusively<T>(task: () => Promise<T>): Promise<T> {
    while (this.exclusive !== undefined) await this.exclusive;
    let release = (): void => {};
    this.exclusive = new Promise<void>((r) => (release = r));
    try {
      while (this.active > 0) await new Promise<void>((r) => (this.idle = r));
      return await task();
    } finally {
      this.exclusive = undefined;
      this.idle = undefined;
      release();
    }
  }

  /**
   * Compacts every table, so values overwritten or deleted leave LevelDB's files (best effort:
   * freed blocks stay on the device). Run after sealing a database that held values in the clear.
   *
   * @example
   * ```ts
   * await store.compact()
   * ```
   */
  async compact(): Promise<void> {
    // classic-level (Node) compacts a range; the browser backend has no files to leave
    await (this.db as unknown as { compactRange(start: string, end: string): Promise<void> }).compactRange("\u0000", "\uffff");
  }

  /** Writes one raw value without the version prefix or seal: only for tests that corrupt a store. @example `await store.putRaw("groups", gid, bad)` */
  async putRaw(sub: SublevelName, key: string, value: Uint8Array): Promise<void> {
    await this.sub(sub).put(key, value);
  }

  /** Closes the database (after destroying the own keys still due). @example `await store.close()` */
  async close(): Promise<void> {
    await this.shreds.close();
    await this.db.close();
  }
}
