/**
 * The engine's LevelDB store: one database per engine, one sublevel per kind of record, every
 * stored value prefixed with the format version byte {@link STORAGE_VERSION}, and every change
 * of one group written in one atomic batch (callers collect {@link StoreOp}s and call
 * {@link EngineStore.batch} once).
 *
 * Layout (keys are utf8, ids and public keys lowercase hex, epochs zero-padded decimal):
 * - `meta`      `format` -> engine public key (refuses a database of another identity);
 *               `lastKeyPackage` -> id of the last published key package document
 * - `groups`    `<gid>` -> cold half of the group record (status, owner, chain head, members; written
 *               by commits), `<gid>/hot` -> hot half (state token, epochs, nonce reservation; written
 *               by messages too); see groups.ts. A format-1 `<gid>` holds every field.
 * - `state`     `<gid>/<part>` -> one part of the incremental group state (src/mls/storage.ts):
 *               `h` head, `t/<epoch>` ratchet-tree manifest, `n/<hash>` content-addressed tree node,
 *               `s/<epoch>` secret tree, `o/<epoch>/<index>` changed secret-tree node
 * - `docs`      `<docId>` -> signed document bytes (SecretGroup, commits, key packages, deletions)
 * - `commits`   `<gid>/<commitId>` -> {@link CommitRecord} (previous, epoch, pending / applied / superseded / refused)
 * - `next`      format 1 only (a second commit chain): emptied by migrate.ts when the engine opens, never written
 * - `welcomes`  `<gid>/<commitId>` -> key package ref (hex): pending commits that welcome this engine
 * - `keypkgs`   `<refHex>` -> own key package secret record (deleted when consumed by a join)
 * - `sent`      `<sha256(message)>` -> plaintext of an own sender-ratchet message (MLS cannot decrypt
 *               its own messages; the spec asks clients to keep them)
 * - `outbox`    `<seq>-<docId>` -> every document the engine created, until acknowledged (outbox.ts; in
 *               the synced batch of the state change that created it)
 * - `materialise` the materialisation index (src/materialise/store.ts documents its keys), written
 *               in the same batch as the group change that caused it
 * - `ops`       `<opId>` -> `OperationRecord` (store/operations.ts) of an ingested application document (group,
 *               arrival number, decrypted / pending / failed field names); the document itself is in `docs`
 * - `opvalues`  `<opId>/<field>` -> PLAINTEXT: a decrypted field value (the field plaintext encoding,
 *               src/documents/fields.ts), written in the batch that consumed its key; seal at rest
 * - `oplog`     `<gid>/<seq>` -> operation id: a group's operations in arrival order (seq: 16 digits)
 * - `oppending` `<gid>/<seq>` -> `PendingEntry` (store/operations.ts): operations with fields waiting for a commit or
 *               a Welcome (loaded into memory at open for the pending limits, src/engine/pendingOperations.ts)
 *
 * - `meta`      also `keycheck` (storage key check value), `rotation` (an unfinished storage key
 *               rotation), `sealing` (a database in the clear being sealed): src/engine/store/keys.ts
 *
 * Values of the sublevels {@link SUBLEVEL_PROTECTION} marks are sealed (src/engine/store/seal.ts)
 * around their versioned form; own keys live in the keyring file beside LevelDB's (keyring.ts).
 *
 * @module
 */
import { Level } from "level";
import { SEALED_STORAGE_VERSION, STORAGE_VERSION } from "../../constants.js";
import { ErrorCode, InternalError, StorageError } from "../../errors.js";
import { concatBytes, equalBytes } from "../../bytes.js";
import { Keyring } from "./keyring.js";
import type { Sealer } from "./seal.js";
import { finishRotation, hasKeyCheck, unlock, writeKeyCheck } from "./keys.js";

/**
 * Names of the sublevels. They are part of the on-disk format (the frozen storage fixture
 * holds them): never rename one without a migration.
 *
 * @example `store.get(Sublevel.Groups, gid, "group record")` */
export const Sublevel = {
  Meta: "meta",
  Groups: "groups",
  State: "state",
  Docs: "docs",
  Commits: "commits",
  /** Format 1 only: emptied when the engine opens (src/engine/store/migrate.ts), never written. */
  Next: "next",
  Welcomes: "welcomes",
  KeyPackages: "keypkgs",
  Sent: "sent",
  Outbox: "outbox",
  /** The materialisation index (src/materialise); its values carry their own version byte. */
  Materialise: "materialise",
  /** Records of ingested application documents (operations): src/engine/store/operations.ts. */
  Operations: "ops",
  /** Decrypted field values of operations: plaintext. */
  OperationValues: "opvalues",
  /** A group's operations in arrival order. */
  OperationLog: "oplog",
  /** Operations whose fields wait for a commit or a Welcome. */
  PendingOperations: "oppending",
} as const;
/** One of {@link Sublevel}. @example `const sub: SublevelName = "docs"` */
export type SublevelName = (typeof Sublevel)[keyof typeof Sublevel];

/**
 * How a sublevel's values lie in the files: in the clear, sealed under the storage key, or each
 * sealed under its own key that is destroyed with the value (crypto-shredding; see keyring.ts).
 *
 * @example `Protection.Sealed`
 */
export const Protection = {
  Plain: "plain",
  Sealed: "sealed",
  OwnKey: "own-key",
} as const;
/** One of {@link Protection}. @example `const p: Protection = "sealed"` */
export type Protection = (typeof Protection)[keyof typeof Protection];

/**
 * The one list of what is sealed at rest. Every sublevel must be named (the type says so): a new
 * sublevel of key material or decrypted plaintext is one line here, and get/scan/batch/reader
 * seal and open its values. Plain ones hold only what is public anyway (signed documents the
 * network carries, their ids, chain positions).
 *
 * @example `SUBLEVEL_PROTECTION[Sublevel.State] // "sealed"`
 */
export const SUBLEVEL_PROTECTION: Readonly<Record<SublevelName, Protection>> = {
  /** Engine public key, last key package id, storage key check and rotation records (sealed themselves). */
  meta: Protection.Plain,
  /** Status, owner, members, chain head, state token, epochs and the long-term nonce reservation: sealed for integrity (a nonce reservation changed on disk would hand out used nonces) and membership privacy. */
  groups: Protection.Sealed,
  /** The MLS state: identity signature key, HPKE path keys, key schedule, secret trees, long-term secrets. */
  state: Protection.Sealed,
  /** Signed documents as published. */
  docs: Protection.Plain,
  commits: Protection.Plain,
  next: Protection.Plain,
  /** Key package refs (public). */
  welcomes: Protection.Plain,
  /** Own key packages' private keys (init, encryption, signature): shredded when a join consumes one. */
  keypkgs: Protection.OwnKey,
  /** Plaintexts of own sender-ratchet messages. */
  sent: Protection.Sealed,
  /** Signed documents to publish. */
  outbox: Protection.Plain,
  /** Chain and membership index of public documents. */
  materialise: Protection.Plain,
  /** Operation records: group, arrival number, field names (no values). */
  ops: Protection.Plain,
  /** Decrypted field values of received operations. */
  opvalues: Protection.Sealed,
  /** Arrival order of a group's operations (ids). */
  oplog: Protection.Plain,
  /** Operations waiting for a commit or a Welcome (ids, field names, sizes). */
  oppending: Protection.Plain,
};

/** True when the values of `sub` are sealed (under the storage key or their own). @example `isSealed("state") // true` */
export const isSealed = (sub: SublevelName): boolean => SUBLEVEL_PROTECTION[sub] !== Protection.Plain;
/** Keyring id of the own key of `sub`/`key`. @example `ownKeyId("keypkgs", ref)` */
export const ownKeyId = (sub: string, key: string): string => `${sub}/${key}`;

/** One write of an atomic batch: `value === null` deletes. @example `{ sub: "docs", key: id, value: bytes }` */
export interface StoreOp {
  readonly sub: SublevelName;
  readonly key: string;
  readonly value: Uint8Array | null;
  /** The value already starts with its storage version byte (materialisation index records). */
  readonly versioned?: true;
}

type Sub = ReturnType<Level<string, Uint8Array>["sublevel"]>;

/**
 * Prefixes `bytes` with the storage format version.
 *
 * @example
 * ```ts
 * versioned(new Uint8Array([7])) // [STORAGE_VERSION, 7]
 * ```
 */
function versioned(bytes: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([STORAGE_VERSION]), bytes);
}

/**
 * Strips and checks the format version byte; an unknown version is `StorageError(STORAGE_VERSION)`.
 *
 * @example
 * ```ts
 * unversioned(versioned(b), "group record") // b
 * ```
 */
export function unversioned(value: Uint8Array, what: string): Uint8Array {
  if (value.length === 0 || value[0] !== STORAGE_VERSION) {
    throw new StorageError(ErrorCode.StorageVersion, `${what}: unknown storage format version ${value[0] ?? "(empty)"}`);
  }
  return value.subarray(1);
}

/** A raw write (value as it lies in the files) for this module's friends: keys.ts and migrate.ts. */
export interface RawOp {
  readonly sub: SublevelName;
  readonly key: string;
  readonly raw: Uint8Array | null;
}

/**
 * The engine's database. All values go through {@link versioned}/{@link unversioned}, and those of
 * sealed sublevels ({@link SUBLEVEL_PROTECTION}) through the sealer on the way in and out.
 *
 * @example
 * ```ts
 * const store = await EngineStore.open("./data", publicKey, storageKey)
 * await store.batch([{ sub: "docs", key: "ab", value: bytes }])
 * ```
 */
export class EngineStore {
  private readonly subs: Map<SublevelName, Sub>;
  /** Own keys whose values were deleted, waiting for a synced write before they are destroyed. */
  private readonly shredQueue = new Set<string>();
  private shredding: Promise<void> = Promise.resolve();
  /** Batches in flight, and the exclusive holder (rotation) they wait for. */
  private active = 0;
  private idle: (() => void) | undefined;
  private exclusive: Promise<void> | undefined;

  private constructor(
    private readonly db: Level<string, Uint8Array>,
    /** Folder of the database (and of the keyring file). */
    readonly path: string,
    /** Seals and opens values: the storage key of each live generation. */
    readonly sealer: Sealer,
    /** Per-secret keys of {@link Protection.OwnKey} values. */
    readonly keyring: Keyring,
  ) {
    this.subs = new Map(
      Object.values(Sublevel).map((name) => [name, db.sublevel<string, Uint8Array>(name, { keyEncoding: "utf8", valueEncoding: "view" }) as Sub]),
    );
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

  private sub(name: SublevelName): Sub {
    const sub = this.subs.get(name);
    if (sub === undefined) throw new StorageError(ErrorCode.Storage, `unknown sublevel ${name}`);
    return sub;
  }

  /** The unsealed stored form of a raw value (version byte still in front). @example `store.opened("state", key, raw)` */
  opened(sub: SublevelName, key: string, raw: Uint8Array): Uint8Array {
    if (!isSealed(sub)) return raw;
    if (raw[0] !== SEALED_STORAGE_VERSION) {
      throw new StorageError(ErrorCode.StorageVersion, `${sub} ${key}: unknown storage format version ${raw[0] ?? "(empty)"} (a sealed value was expected)`);
    }
    return this.sealer.open(sub, key, raw, () => this.keyring.get(ownKeyId(sub, key)));
  }

  /** The raw value to store for `value` (already versioned; an own key must exist). @example `store.sealed("state", key, value)` */
  sealed(sub: SublevelName, key: string, value: Uint8Array): Uint8Array {
    switch (SUBLEVEL_PROTECTION[sub]) {
      case Protection.Plain:
        return value;
      case Protection.Sealed:
        return this.sealer.seal(sub, key, value);
      case Protection.OwnKey: {
        const own = this.keyring.get(ownKeyId(sub, key));
        if (own === undefined) throw new InternalError(ErrorCode.Internal, `${sub} ${key}: no own key made before sealing`);
        return this.sealer.seal(sub, key, value, own);
      }
    }
  }

  /** Reads one value (opened, version byte checked and stripped). @example `await store.get("docs", id, "document")` */
  async get(sub: SublevelName, key: string, what: string): Promise<Uint8Array | undefined> {
    let value: Uint8Array | undefined;
    try {
      value = (await this.sub(sub).get(key)) as Uint8Array | undefined;
    } catch (e) {
      throw new StorageError(ErrorCode.Storage, `reading ${what}: ${(e as Error).message}`, { cause: e });
    }
    return value === undefined ? undefined : unversioned(this.opened(sub, key, value), what);
  }

  /** True when `key` exists. @example `await store.has("docs", id)` */
  async has(sub: SublevelName, key: string): Promise<boolean> {
    try {
      return (await this.sub(sub).get(key)) !== undefined;
    } catch (e) {
      throw new StorageError(ErrorCode.Storage, `reading ${sub}: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Every `[key, value]` whose key starts with `prefix`, in key order (opened, version checked).
   *
   * @example
   * ```ts
   * for (const [key, value] of await store.scan("state", gid + "/", "group state")) {}
   * ```
   */
  async scan(sub: SublevelName, prefix: string, what: string, limit = -1): Promise<Array<[string, Uint8Array]>> {
    return (await this.rawScan(sub, prefix, limit)).map(([key, value]) => [key, unversioned(this.opened(sub, key, value), what)]);
  }

  /**
   * Raw `[key, value]` pairs as they lie in the files (sealed values stay sealed), for keys.ts
   * and migrate.ts.
   *
   * @example
   * ```ts
   * const rows = await store.rawScan("state", "")
   * ```
   */
  async rawScan(sub: SublevelName, prefix: string, limit = -1): Promise<Array<[string, Uint8Array]>> {
    const out: Array<[string, Uint8Array]> = [];
    try {
      for await (const [key, value] of this.sub(sub).iterator({ gte: prefix, lt: prefix + "\uffff", limit })) out.push([key as string, value as Uint8Array]);
    } catch (e) {
      throw new StorageError(ErrorCode.Storage, `reading ${sub}: ${(e as Error).message}`, { cause: e });
    }
    return out;
  }

  /**
   * Every raw `[key, value]` of a sublevel, streamed (writes meanwhile are not seen).
   *
   * @example
   * ```ts
   * for await (const [key, raw] of store.rawEntries("state")) {}
   * ```
   */
  async *rawEntries(sub: SublevelName): AsyncIterable<[string, Uint8Array]> {
    try {
      for await (const [key, value] of this.sub(sub).iterator()) yield [key as string, value as Uint8Array];
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw new StorageError(ErrorCode.Storage, `reading ${sub}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** The last key that starts with `prefix` (undefined when none). @example `await store.lastKey("oplog", gid + "/")` */
  async lastKey(sub: SublevelName, prefix: string): Promise<string | undefined> {
    try {
      for await (const key of this.sub(sub).keys({ gte: prefix, lt: prefix + "\uffff", reverse: true, limit: 1 })) return key as string;
    } catch (e) {
      throw new StorageError(ErrorCode.Storage, `reading ${sub}: ${(e as Error).message}`, { cause: e });
    }
    return undefined;
  }

  /**
   * Every `[key, value]` whose key starts with `prefix` and sorts after `after`, in key order,
   * at most `limit` (version checked).
   *
   * @example
   * ```ts
   * const page = await store.scanAfter("oplog", gid + "/", gid + "/0000000000000041", "operation log", 100)
   * ```
   */
  async scanAfter(sub: SublevelName, prefix: string, after: string | undefined, what: string, limit: number): Promise<Array<[string, Uint8Array]>> {
    const out: Array<[string, Uint8Array]> = [];
    const range = after === undefined ? { gte: prefix } : { gt: after };
    try {
      for await (const [key, value] of this.sub(sub).iterator({ ...range, lt: prefix + "\uffff", limit })) {
        out.push([key as string, unversioned(this.opened(sub, key as string, value as Uint8Array), what)]);
      }
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw new StorageError(ErrorCode.Storage, `reading ${what}: ${(e as Error).message}`, { cause: e });
    }
    return out;
  }

  /** Keys that start with `prefix`, in order. @example `await store.keys("next", gid + "/" + head + "/")` */
  async keys(sub: SublevelName, prefix: string, limit = -1): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const key of this.sub(sub).keys({ gte: prefix, lt: prefix + "\uffff", limit })) out.push(key as string);
    } catch (e) {
      throw new StorageError(ErrorCode.Storage, `reading ${sub}: ${(e as Error).message}`, { cause: e });
    }
    return out;
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
  async batch(ops: readonly StoreOp[], options: { readonly sync?: boolean } = {}): Promise<void> {
    if (ops.length === 0) return;
    while (this.exclusive !== undefined) await this.exclusive;
    this.active++;
    try {
      const own = ops.filter((op) => SUBLEVEL_PROTECTION[op.sub] === Protection.OwnKey);
      await this.keyring.create(own.filter((op) => op.value !== null).map((op) => ownKeyId(op.sub, op.key)));
      const shredded = own.filter((op) => op.value === null).map((op) => ownKeyId(op.sub, op.key));
      const prefix = new Uint8Array([STORAGE_VERSION]);
      await this.rawBatch(
        ops.map((op) => ({
          sub: op.sub,
          key: op.key,
          raw: op.value === null ? null : this.sealed(op.sub, op.key, op.versioned === true ? op.value : concatBytes(prefix, op.value)),
        })),
        options.sync === true,
      );
      if (shredded.length > 0) this.shredAfterSync(shredded);
    } finally {
      if (--this.active === 0) this.idle?.();
    }
  }

  /**
   * Destroys own keys once the batches that deleted their values are durable: a synced write
   * (which syncs LevelDB's log, earlier batches included), then the keyring. In the background,
   * one round at a time, so a join does not wait for two fsyncs; {@link close} waits for it, and
   * a key a crash leaves behind is an orphan the next open destroys (migrate.ts).
   */
  private shredAfterSync(ids: readonly string[]): void {
    for (const id of ids) this.shredQueue.add(id);
    this.shredding = this.shredding.then(async () => {
      const due = [...this.shredQueue];
      this.shredQueue.clear();
      if (due.length === 0) return;
      try {
        // a synced delete of a key that does not exist: a tombstone in the log, fsync'ed with all before it
        await this.rawBatch([{ sub: Sublevel.Meta, key: "shred-barrier", raw: null }], true);
        await this.keyring.destroy(due);
      } catch {
        // the keys stay: orphans, destroyed on the next open
      }
    });
  }

  /**
   * Writes raw values (as they are to lie in the files) in one atomic batch.
   *
   * @example
   * ```ts
   * await store.rawBatch([{ sub: "meta", key: "keycheck", raw: sealed }], true)
   * ```
   */
  async rawBatch(ops: readonly RawOp[], sync: boolean): Promise<void> {
    if (ops.length === 0) return;
    const batch = ops.map((op) =>
      op.raw === null ? { type: "del" as const, sublevel: this.sub(op.sub), key: op.key } : { type: "put" as const, sublevel: this.sub(op.sub), key: op.key, value: op.raw },
    );
    try {
      await this.db.batch(batch, { sync });
    } catch (e) {
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

  /**
   * The read side of a sublevel as its unsealed stored form would lie in the files (version byte
   * in front), for modules that check versions themselves (the materialisation index reads
   * through it). Sealed sublevels are opened transparently.
   *
   * @example
   * ```ts
   * await history(store.reader(Sublevel.Materialise), groupId)
   * ```
   */
  reader(sub: SublevelName): { get(key: string): Promise<unknown>; iterator(options: { gte: string; lt: string }): AsyncIterable<readonly [unknown, unknown]> } {
    const raw = this.sub(sub);
    if (!isSealed(sub)) return raw as unknown as ReturnType<EngineStore["reader"]>;
    const opened = (key: string, value: Uint8Array | undefined): Uint8Array | undefined => (value === undefined ? undefined : this.opened(sub, key, value));
    return {
      get: async (key: string) => opened(key, (await raw.get(key)) as Uint8Array | undefined),
      iterator: (options: { gte: string; lt: string }) => ({
        async *[Symbol.asyncIterator]() {
          for await (const [key, value] of raw.iterator(options)) yield [key, opened(key as string, value as Uint8Array)] as const;
        },
      }),
    };
  }

  /** Writes one raw value without the version prefix or seal: only for tests that corrupt a store. @example `await store.putRaw("groups", gid, bad)` */
  async putRaw(sub: SublevelName, key: string, value: Uint8Array): Promise<void> {
    await this.sub(sub).put(key, value);
  }

  /** Closes the database (after destroying the own keys still due). @example `await store.close()` */
  async close(): Promise<void> {
    await this.shredding;
    await this.db.close();
  }
}
