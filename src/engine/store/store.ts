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
 * - `outbox`    `<seq>` -> documents the engine created on its own (key package deletions after a join)
 * - `materialise` the materialisation index (src/materialise/store.ts documents its keys), written
 *               in the same batch as the group change that caused it
 * - `ops`       `<opId>` -> `OperationRecord` (store/operations.ts) of an ingested application document (group,
 *               arrival number, decrypted / pending / failed field names); the document itself is in `docs`
 * - `opvalues`  `<opId>/<field>` -> PLAINTEXT: a decrypted field value (the field plaintext encoding,
 *               src/documents/fields.ts), written in the batch that consumed its key; seal at rest
 * - `oplog`     `<gid>/<seq>` -> operation id: a group's operations in arrival order (seq: 16 digits)
 * - `oppending` `<gid>/<seq>` -> `PendingEntry` (store/operations.ts): operations with fields waiting for a commit or
 *               a Welcome (loaded into memory at open for the pending limits, src/engine/pending.ts)
 *
 * Sublevels holding plaintext or key material (to be sealed at rest): `state`, `keypkgs`, `sent`,
 * `opvalues`.
 *
 * @module
 */
import { Level } from "level";
import { STORAGE_VERSION } from "../../constants.js";
import { ErrorCode, StorageError } from "../../errors.js";
import { concatBytes, equalBytes } from "../../bytes.js";

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
function unversioned(value: Uint8Array, what: string): Uint8Array {
  if (value.length === 0 || value[0] !== STORAGE_VERSION) {
    throw new StorageError(ErrorCode.StorageVersion, `${what}: unknown storage format version ${value[0] ?? "(empty)"}`);
  }
  return value.subarray(1);
}

/**
 * The engine's database. All values go through {@link versioned}/{@link unversioned}.
 *
 * @example
 * ```ts
 * const store = await EngineStore.open("./data", publicKey)
 * await store.batch([{ sub: "docs", key: "ab", value: bytes }])
 * ```
 */
export class EngineStore {
  private readonly subs: Map<SublevelName, Sub>;

  private constructor(private readonly db: Level<string, Uint8Array>) {
    this.subs = new Map(
      Object.values(Sublevel).map((name) => [name, db.sublevel<string, Uint8Array>(name, { keyEncoding: "utf8", valueEncoding: "view" }) as Sub]),
    );
  }

  /**
   * Opens (or creates) the database at `path` for the engine whose public key is `self`.
   *
   * @example
   * ```ts
   * const store = await EngineStore.open(dir, identity.publicKey)
   * ```
   */
  static async open(path: string, self: Uint8Array): Promise<EngineStore> {
    const db = new Level<string, Uint8Array>(path, { keyEncoding: "utf8", valueEncoding: "view" });
    try {
      await db.open();
    } catch (e) {
      throw new StorageError(ErrorCode.Storage, `cannot open database at ${path}: ${(e as Error).message}`, { cause: e });
    }
    const store = new EngineStore(db);
    try {
      const format = await store.get(Sublevel.Meta, "format", "database format");
      if (format === undefined) {
        await store.batch([{ sub: Sublevel.Meta, key: "format", value: self }]);
      } else if (!equalBytes(format, self)) {
        throw new StorageError(ErrorCode.Storage, "this database belongs to another identity");
      }
    } catch (e) {
      await db.close();
      throw e;
    }
    return store;
  }

  private sub(name: SublevelName): Sub {
    const sub = this.subs.get(name);
    if (sub === undefined) throw new StorageError(ErrorCode.Storage, `unknown sublevel ${name}`);
    return sub;
  }

  /** Reads one value (version byte checked and stripped). @example `await store.get("docs", id, "document")` */
  async get(sub: SublevelName, key: string, what: string): Promise<Uint8Array | undefined> {
    let value: Uint8Array | undefined;
    try {
      value = (await this.sub(sub).get(key)) as Uint8Array | undefined;
    } catch (e) {
      throw new StorageError(ErrorCode.Storage, `reading ${what}: ${(e as Error).message}`, { cause: e });
    }
    return value === undefined ? undefined : unversioned(value, what);
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
   * Every `[key, value]` whose key starts with `prefix`, in key order (version checked).
   *
   * @example
   * ```ts
   * for (const [key, value] of await store.scan("state", gid + "/", "group state")) {}
   * ```
   */
  async scan(sub: SublevelName, prefix: string, what: string, limit = -1): Promise<Array<[string, Uint8Array]>> {
    const out: Array<[string, Uint8Array]> = [];
    try {
      for await (const [key, value] of this.sub(sub).iterator({ gte: prefix, lt: prefix + "\uffff", limit })) {
        out.push([key as string, unversioned(value as Uint8Array, what)]);
      }
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw new StorageError(ErrorCode.Storage, `reading ${what}: ${(e as Error).message}`, { cause: e });
    }
    return out;
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
        out.push([key as string, unversioned(value as Uint8Array, what)]);
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
   * Writes all `ops` in one atomic LevelDB batch, each value prefixed with the version byte.
   * `sync` waits until LevelDB has fsync'ed the batch: for writes that must survive a crash of
   * the machine before their result is used (nonce reservations, consumed ratchet keys).
   *
   * @example
   * ```ts
   * await store.batch([{ sub: "groups", key: gid, value: record }, { sub: "welcomes", key: k, value: null }])
   * ```
   */
  async batch(ops: readonly StoreOp[], options: { readonly sync?: boolean } = {}): Promise<void> {
    if (ops.length === 0) return;
    const prefix = new Uint8Array([STORAGE_VERSION]);
    const batch = ops.map((op) =>
      op.value === null
        ? { type: "del" as const, sublevel: this.sub(op.sub), key: op.key }
        : { type: "put" as const, sublevel: this.sub(op.sub), key: op.key, value: op.versioned === true ? op.value : concatBytes(prefix, op.value) },
    );
    try {
      await this.db.batch(batch, { sync: options.sync === true });
    } catch (e) {
      throw new StorageError(ErrorCode.Storage, `writing batch: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * The raw read side of a sublevel, for modules that check versions themselves (the
   * materialisation index reads through it).
   *
   * @example
   * ```ts
   * await history(store.reader(Sublevel.Materialise), groupId)
   * ```
   */
  reader(sub: SublevelName): { get(key: string): Promise<unknown>; iterator(options: { gte: string; lt: string }): AsyncIterable<readonly [unknown, unknown]> } {
    return this.sub(sub) as unknown as ReturnType<EngineStore["reader"]>;
  }

  /** Writes one raw value without the version prefix: only for tests that corrupt a store. @example `await store.putRaw("groups", gid, bad)` */
  async putRaw(sub: SublevelName, key: string, value: Uint8Array): Promise<void> {
    await this.sub(sub).put(key, value);
  }

  /** Closes the database. @example `await store.close()` */
  async close(): Promise<void> {
    await this.db.close();
  }
}
