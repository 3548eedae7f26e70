/**
 * The read side of the engine's store (src/engine/store/store.ts extends it): single values,
 * prefix scans and pages, raw rows for keys.ts and migrate.ts, and the opened view the
 * materialisation index reads through. Values are opened if their sublevel is sealed
 * (`SUBLEVEL_PROTECTION`, sublevels.ts) and their version byte checked.
 *
 * @module
 */
import type { Level } from "level";
import { SEALED_STORAGE_VERSION, STORE_SCAN_BYTES, STORE_SCAN_PAGE } from "../../constants.js";
import { ErrorCode, StorageError } from "../../errors.js";
import type { Keyring } from "./keyring.js";
import type { Sealer } from "./seal.js";
import { isSealed, ownKeyId, Sublevel } from "./sublevels.js";
import type { SublevelName } from "./sublevels.js";
import { unversioned } from "./version.js";

type Sub = ReturnType<Level<string, Uint8Array>["sublevel"]>;

/** A failed read of `what` as a StorageError (one already a StorageError, a sealed value that does not open, passes as it is). */
function readFault(what: string, e: unknown): StorageError {
  return e instanceof StorageError ? e : new StorageError(ErrorCode.Storage, `reading ${what}: ${(e as Error).message}`, { cause: e });
}

/**
 * The entries of a LevelDB iterator, read `STORE_SCAN_PAGE` at a time. A plain `for await` over a
 * level iterator reads its first entry alone, then pages: two thread-pool round trips for any
 * non-empty scan (each ~50-150 us of main-thread CPU here, more under load), where the prefix
 * scans of an engine step mostly find zero to a few entries: one round trip here. The iterator
 * is closed however the loop ends.
 */
async function* paged<T>(iterator: { nextv(size: number): Promise<T[]>; close(): Promise<void> }): AsyncGenerator<T> {
  try {
    for (;;) {
      const page = await iterator.nextv(STORE_SCAN_PAGE);
      if (page.length === 0) return;
      yield* page;
    }
  } finally {
    await iterator.close();
  }
}

/**
 * Reads of the engine's database (see `EngineStore`, which adds opening and writing).
 *
 * @example
 * ```ts
 * const bytes = await store.get(Sublevel.Docs, id, "document") // a method of this class
 * ```
 */
export abstract class StoreReads {
  private readonly subs: Map<SublevelName, Sub>;
  /** Whether the backend reads synchronously (classic-level does, browser-level does not). */
  private readonly syncGets: boolean;

  protected constructor(
    protected readonly db: Level<string, Uint8Array>,
    /** Folder of the database (and of the keyring file). */
    readonly path: string,
    /** Seals and opens values: the storage key of each live generation. */
    readonly sealer: Sealer,
    /** Per-secret keys of `Protection.OwnKey` values. */
    readonly keyring: Keyring,
  ) {
    this.syncGets = (db.supports as { getSync?: boolean }).getSync === true;
    this.subs = new Map(
      Object.values(Sublevel).map((name) => [name, db.sublevel<string, Uint8Array>(name, { keyEncoding: "utf8", valueEncoding: "view" }) as Sub]),
    );
  }

  protected sub(name: SublevelName): Sub {
    const sub = this.subs.get(name);
    if (sub === undefined) throw new StorageError(ErrorCode.Storage, `unknown sublevel ${name}`);
    return sub;
  }

  /**
   * The unsealed stored form of a raw value (version byte still in front). With `inPlace`, a
   * value in memory of its own is opened over its ciphertext (`Sealer.openInPlace`): only for raw
   * values the caller read and nothing else holds.
   *
   * @example
   * ```ts
   * store.opened("state", key, raw)
   * ```
   */
  opened(sub: SublevelName, key: string, raw: Uint8Array, inPlace = false): Uint8Array {
    if (!isSealed(sub)) return raw;
    if (raw[0] !== SEALED_STORAGE_VERSION) {
      throw new StorageError(ErrorCode.StorageVersion, `${sub} ${key}: unknown storage format version ${raw[0] ?? "(empty)"} (a sealed value was expected)`);
    }
    const ownKey = (): Uint8Array | undefined => this.keyring.get(ownKeyId(sub, key));
    const own = inPlace && raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength;
    return own ? this.sealer.openInPlace(sub, key, raw, ownKey) : this.sealer.open(sub, key, raw, ownKey);
  }

  /**
   * One raw value. Synchronous where the backend can (classic-level's `getSync`): a point read
   * of a small record is ~1-2 us on the main thread against ~10-60 us of CPU (more under load)
   * for the thread-pool round trip of an async `get`, and an engine step makes several. Both
   * read the database as of the call (the async get takes its snapshot when called), so the
   * results are the same.
   */
  private rawGet(sub: SublevelName, key: string): Uint8Array | undefined | Promise<Uint8Array | undefined> {
    const level = this.sub(sub);
    return (this.syncGets ? level.getSync(key) : level.get(key)) as Uint8Array | undefined | Promise<Uint8Array | undefined>;
  }

  /** Reads one value (opened, version byte checked and stripped). @example `await store.get("docs", id, "document")` */
  async get(sub: SublevelName, key: string, what: string): Promise<Uint8Array | undefined> {
    let value: Uint8Array | undefined;
    try {
      value = await this.rawGet(sub, key);
    } catch (e) {
      throw readFault(what, e);
    }
    return value === undefined ? undefined : unversioned(this.opened(sub, key, value), what);
  }

  /** True when `key` exists. @example `await store.has("docs", id)` */
  async has(sub: SublevelName, key: string): Promise<boolean> {
    try {
      return (await this.rawGet(sub, key)) !== undefined;
    } catch (e) {
      throw readFault(sub, e);
    }
  }

  /**
   * Every `[key, value]` whose key starts with `prefix`, in key order (opened, version checked);
   * `inPlace`: each value opened over its own read bytes (see {@link opened}).
   *
   * @example
   * ```ts
   * for (const [key, value] of await store.scan("state", gid + "/", "group state")) {}
   * ```
   */
  async scan(sub: SublevelName, prefix: string, what: string, limit = -1, options: { readonly inPlace?: boolean } = {}): Promise<Array<[string, Uint8Array]>> {
    return (await this.rawScan(sub, prefix, limit)).map(([key, value]) => [key, unversioned(this.opened(sub, key, value, options.inPlace), what)]);
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
    // highWaterMarkBytes is classic-level's (sublevels pass it on), not in abstract-level's option type
    const range = { gte: prefix, lt: prefix + "\uffff", limit, highWaterMarkBytes: STORE_SCAN_BYTES };
    try {
      for await (const [key, value] of paged(this.sub(sub).iterator(range))) out.push([key as string, value as Uint8Array]);
    } catch (e) {
      throw readFault(sub, e);
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
      throw readFault(sub, e);
    }
  }

  /** The last key that starts with `prefix` (undefined when none). @example `await store.lastKey("oplog", gid + "/")` */
  async lastKey(sub: SublevelName, prefix: string): Promise<string | undefined> {
    try {
      for await (const key of this.sub(sub).keys({ gte: prefix, lt: prefix + "\uffff", reverse: true, limit: 1 })) return key as string;
    } catch (e) {
      throw readFault(sub, e);
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
      for await (const [key, value] of paged(this.sub(sub).iterator({ ...range, lt: prefix + "\uffff", limit }))) {
        out.push([key as string, unversioned(this.opened(sub, key as string, value as Uint8Array), what)]);
      }
    } catch (e) {
      throw readFault(what, e);
    }
    return out;
  }

  /** Keys that start with `prefix`, in order. @example `await store.keys("next", gid + "/" + head + "/")` */
  async keys(sub: SublevelName, prefix: string, limit = -1): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const key of paged(this.sub(sub).keys({ gte: prefix, lt: prefix + "\uffff", limit }))) out.push(key as string);
    } catch (e) {
      throw readFault(sub, e);
    }
    return out;
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
    const opened = (key: string, value: Uint8Array | undefined): Uint8Array | undefined => (value === undefined ? undefined : this.opened(sub, key, value));
    if (!isSealed(sub)) return { get: async (key: string) => this.rawGet(sub, key), iterator: (options: { gte: string; lt: string }) => paged(raw.iterator(options)) };
    return {
      get: async (key: string) => opened(key, await this.rawGet(sub, key)),
      iterator: (options: { gte: string; lt: string }) => ({
        async *[Symbol.asyncIterator]() {
          for await (const [key, value] of paged(raw.iterator(options))) yield [key, opened(key as string, value as Uint8Array)] as const;
        },
      }),
    };
  }
}
