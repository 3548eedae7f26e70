/**
 * The keyring: per-secret keys for crypto-shredding, in one small file beside LevelDB's
 * ({@link KEYRING_FILE} in the database folder), sealed as a whole under the storage key.
 *
 * Why a file of its own: a LevelDB delete only writes a tombstone, and the deleted value stays
 * in the log and table files until a compaction happens to rewrite them. A value sealed under
 * its own key becomes unreadable when that key leaves this file, whatever LevelDB still holds.
 *
 * The file is replaced, never edited: write `<file>.tmp`, fsync it, rename it over the file,
 * fsync the folder. Ordering with LevelDB (src/engine/store/store.ts `batch`): a new key is
 * durable here before the batch that seals a value under it; a key is destroyed only after
 * the batch that deletes its value is durable. A crash in between leaves an orphan key (its
 * value never written, or already deleted), which {@link Keyring.destroy} removes on the next
 * open; never a value without its key.
 *
 * Limits: the replaced file's old blocks are freed, not erased; a filesystem with snapshots,
 * copy-on-write or journalled data, or an SSD's flash translation layer may keep them readable
 * to someone with raw access to the device.
 *
 * ```
 * file: SealedValue (src/engine/store/seal.ts) of sublevel "keyring", key KEYRING_FILE, over
 * struct { uint8 version = 1; struct { opaque id<V>; opaque key<V>; } keys<V>; } Keyring;
 * ```
 *
 * @module
 */
import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { KEYRING_FILE, STORAGE_KEY_SIZE, STORAGE_VERSION } from "../../constants.js";
import { Reader, Writer, decodeAll } from "../../codec/tls.js";
import { ErrorCode, StorageError } from "../../errors.js";
import type { Sealer } from "./seal.js";

const SEAL_SUB = "keyring";

/**
 * Per-secret keys by id (`<sublevel>/<key>` of the value each seals).
 *
 * @example
 * ```ts
 * const keyring = await Keyring.load(path, sealer)
 * await keyring.create(["keypkgs/ab12"])
 * ```
 */
export class Keyring {
  private writing: Promise<void> = Promise.resolve();
  private waiting: { durable: boolean; done: Promise<void> } | undefined;

  private constructor(
    private readonly folder: string,
    private readonly sealer: Sealer,
    private readonly keys: Map<string, Uint8Array>,
  ) {}

  /**
   * Reads the keyring of the database folder `folder` (empty when there is no file yet).
   *
   * @example
   * ```ts
   * const keyring = await Keyring.load(path, sealer)
   * ```
   */
  static async load(folder: string, sealer: Sealer): Promise<Keyring> {
    const file = join(folder, KEYRING_FILE);
    await rm(`${file}.tmp`, { force: true }); // a write a crash interrupted: the rename never happened
    let sealed: Uint8Array;
    try {
      const fh = await open(file, "r");
      try {
        sealed = new Uint8Array(await fh.readFile());
      } finally {
        await fh.close();
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return new Keyring(folder, sealer, new Map());
      throw new StorageError(ErrorCode.Storage, `reading the keyring: ${(e as Error).message}`, { cause: e });
    }
    const plain = sealer.open(SEAL_SUB, KEYRING_FILE, sealed);
    const keys = decodeAll(plain, "keyring", (r: Reader) => {
      if (r.u8() !== STORAGE_VERSION) throw new StorageError(ErrorCode.StorageVersion, "keyring: unknown version");
      const map = new Map<string, Uint8Array>();
      for (let n = r.u32(); n > 0; n--) map.set(new TextDecoder().decode(r.opaque()), r.opaque());
      return map;
    });
    return new Keyring(folder, sealer, keys);
  }

  /** The key of `id` (undefined when destroyed or never made). @example `keyring.get("keypkgs/ab12")` */
  get(id: string): Uint8Array | undefined {
    return this.keys.get(id);
  }

  /** Ids of every key held. @example `keyring.ids()` */
  ids(): string[] {
    return [...this.keys.keys()];
  }

  /**
   * Makes a fresh random key for each id that has none; resolves once the file holding them is
   * durable (so a batch sealing values under them may be written).
   *
   * @example
   * ```ts
   * await keyring.create(["keypkgs/ab12"])
   * ```
   */
  async create(ids: readonly string[]): Promise<void> {
    let added = false;
    for (const id of ids) {
      if (this.keys.has(id)) continue;
      this.keys.set(id, new Uint8Array(randomBytes(STORAGE_KEY_SIZE)));
      added = true;
    }
    if (added) await this.persist(true);
  }

  /**
   * Destroys the keys of `ids` (zeroed in memory, gone from the file once this resolves).
   *
   * @example
   * ```ts
   * await keyring.destroy(["keypkgs/ab12"])
   * ```
   */
  async destroy(ids: readonly string[]): Promise<void> {
    let removed = false;
    for (const id of ids) {
      const key = this.keys.get(id);
      if (key === undefined) continue;
      key.fill(0);
      this.keys.delete(id);
      removed = true;
    }
    // the folder is not synced: if the rename is lost in a power cut, the old file still holds
    // the key, and the next open destroys it again (an orphan: its value is gone)
    if (removed) await this.persist(false);
  }

  /**
   * Writes the file again (under the sealer's current storage key generation: rotation), one
   * write at a time, calls made during a write sharing the next one; resolves when this call's
   * content is in the file (and, with `durable`, when the rename is synced to the folder too).
   *
   * @example
   * ```ts
   * await keyring.persist(true)
   * ```
   */
  persist(durable: boolean): Promise<void> {
    // group commit: a call made while a write waits for the one in flight joins the waiting write,
    // which reads the keys only when it starts, so it holds every change made before the call
    // (a busy ingest destroys one key per join: one whole-file write each made it O(groups^2))
    const waiting = this.waiting;
    if (waiting !== undefined) {
      waiting.durable ||= durable;
      return waiting.done;
    }
    const next: { durable: boolean; done: Promise<void> } = { durable, done: Promise.resolve() };
    next.done = this.writing.then(() => {
      this.waiting = undefined;
      return this.write(next.durable);
    });
    this.waiting = next;
    this.writing = next.done.catch(() => undefined);
    return next.done;
  }

  private async write(durable: boolean): Promise<void> {
    const w = new Writer(64 + this.keys.size * 80).u8(STORAGE_VERSION).u32(this.keys.size);
    for (const [id, key] of this.keys) w.opaqueUtf8(id).opaque(key);
    const plain = w.finish();
    const sealed = this.sealer.seal(SEAL_SUB, KEYRING_FILE, plain);
    plain.fill(0);
    const file = join(this.folder, KEYRING_FILE);
    try {
      const fh = await open(`${file}.tmp`, "w", 0o600);
      try {
        await fh.writeFile(sealed);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(`${file}.tmp`, file);
      if (!durable) return;
      const dir = await open(this.folder, "r");
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (e) {
      throw new StorageError(ErrorCode.Storage, `writing the keyring: ${(e as Error).message}`, { cause: e });
    }
  }
}
