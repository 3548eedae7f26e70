/**
 * Sealing of stored values at rest (their form: src/engine/store/sealedValue.ts), under the
 * storage key or under the value's own key (src/engine/store/keyring.ts).
 *
 * Nonces: each open store is a session with a random 16-byte salt; values are sealed under the
 * session subkey `HKDF-SHA256(key, salt, STORAGE_SESSION_LABEL)` with a 96-bit counter as nonce,
 * so a (subkey, nonce) pair repeats only if two sessions draw the same 128-bit salt; there is
 * no 2^32 bound on values sealed under one storage key, as random nonces would have.
 *
 * AES-256-GCM runs on the package's addon where it is built (src/nativeAead.ts), else on
 * node:crypto: the same bytes.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { SEALED_SALT as SALT, SEALED_TAG as TAG, STORAGE_KEY_LABEL, STORAGE_KEY_SIZE, STORAGE_SESSION_LABEL } from "../../constants.js";
import { utf8 } from "../../bytes.js";
import { ErrorCode, StorageError, UsageError } from "../../errors.js";
import { nativeAead, suiteId } from "../../nativeAead.js";
import { hkdf } from "../../mls/crypto/hash.js";
import { stage, stageOutput, takeOutput, unstage } from "../../staging.js";
import { SealKind, associatedData, parseSealed, sealedHeaderLength, writeSealedHeader } from "./sealedValue.js";

/** The addon's number of AES-256-GCM (the sealed store's AEAD; src/nativeAead.ts). */
const AES_256_GCM = suiteId("PANDA10_AES256GCM");
/** Most session subkeys of the storage key kept derived (one per session that wrote a live value). */
const SUBKEY_CACHE = 4096;

/** The HKDF infos of the storage key and of a session subkey (the labels' UTF-8 bytes, as hkdfSync read them). */
const KEY_INFO = utf8(STORAGE_KEY_LABEL);
const SESSION_INFO = utf8(STORAGE_SESSION_LABEL);

/**
 * The storage key derived from an identity's Ed25519 secret key (when the caller gives none):
 * `HKDF-SHA256(ikm = secretKey, salt = "", info = STORAGE_KEY_LABEL)`, 32 bytes.
 *
 * @example
 * ```ts
 * const storageKey = deriveStorageKey(identity.secretKey)
 * ```
 */
export function deriveStorageKey(secretKey: Uint8Array): Uint8Array {
  return hkdf("SHA-256", secretKey, new Uint8Array(0), KEY_INFO, STORAGE_KEY_SIZE);
}

/**
 * Checks a caller's storage key: 32 bytes.
 *
 * @example
 * ```ts
 * storageKeyArg(options.storageKey)
 * ```
 */
export function storageKeyArg(key: unknown): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== STORAGE_KEY_SIZE) throw new UsageError(ErrorCode.InvalidArgument, `storageKey must be ${STORAGE_KEY_SIZE} bytes`);
  return Uint8Array.from(key);
}

/**
 * Seals and opens stored values for one open store (one session: one salt, one nonce counter).
 * Holds the storage key of each live generation (two during a rotation).
 *
 * @example
 * ```ts
 * const sealer = new Sealer(new Map([[0, storageKey]]), 0)
 * const sealed = sealer.seal("state", "gid/h", bytes)
 * sealer.open("state", "gid/h", sealed) // bytes
 * ```
 */
export class Sealer {
  private readonly salt = randomBytes(SALT);
  private counter = 0n;
  private readonly subkeys = new Map<string, Buffer>();
  /** The last storage key generation sealed under and its session subkey (cleared with the cache). */
  private current: { readonly generation: number; readonly subkey: Buffer } | undefined;

  constructor(
    private readonly keys: Map<number, Uint8Array>,
    /** Generation new values are sealed under. */
    public generation: number,
  ) {}

  /** Adds a storage key generation (rotation). @example `sealer.addKey(1, newKey)` */
  addKey(generation: number, key: Uint8Array): void {
    this.keys.set(generation, Uint8Array.from(key));
    // a retried rotation may bring another key for the same generation: the subkeys derived
    // from the first one would seal values under a key never persisted
    const prefix = `${generation}:`;
    for (const cacheKey of [...this.subkeys.keys()]) if (cacheKey.startsWith(prefix)) this.subkeys.delete(cacheKey);
    this.current = undefined;
  }

  /** Forgets a generation's key (rotation done) and zeroes it. @example `sealer.forget(0)` */
  forget(generation: number): void {
    this.keys.get(generation)?.fill(0);
    this.keys.delete(generation);
    this.subkeys.clear();
    this.current = undefined;
  }

  /** The key of a generation (undefined when not held). @example `sealer.key(0)` */
  key(generation: number): Uint8Array | undefined {
    return this.keys.get(generation);
  }

  private subkey(key: Uint8Array, salt: Uint8Array, cacheAs?: string): Buffer {
    const cached = cacheAs === undefined ? undefined : this.subkeys.get(cacheAs);
    if (cached !== undefined) return cached;
    const derived = hkdf("SHA-256", key, salt, SESSION_INFO, STORAGE_KEY_SIZE);
    const sub = Buffer.from(derived.buffer, derived.byteOffset, derived.byteLength);
    if (cacheAs !== undefined) {
      if (this.subkeys.size >= SUBKEY_CACHE) this.subkeys.delete(this.subkeys.keys().next().value as string);
      this.subkeys.set(cacheAs, sub);
    }
    return sub;
  }

  /**
   * Seals `plain` (a value's unsealed stored form) for `sub`/`key`: under `ownKey` when given,
   * else under the storage key of `generation` (default: the current one). With `prefix`, the
   * sealed plaintext is that byte then `plain` (a record's version byte, without a copy first).
   *
   * @example
   * ```ts
   * const sealed = sealer.seal("keypkgs", ref, record, ownKey)
   * ```
   */
  seal(sub: string, key: string, plain: Uint8Array, ownKey?: Uint8Array, generation = this.generation, prefix?: number): Uint8Array {
    const kind = ownKey === undefined ? SealKind.StorageKey : SealKind.OwnKey;
    const headerLength = sealedHeaderLength(kind);
    const plainLength = (prefix === undefined ? 0 : 1) + plain.length;
    // the key first: nothing stages between the staging below and its native call (src/staging.ts)
    const subkey = ownKey === undefined ? this.sessionSubkey(generation) : this.subkey(ownKey, this.salt);
    // one allocation: header, ciphertext and tag written in place
    const out = new Uint8Array(headerLength + plainLength + TAG);
    const { header, nonce } = writeSealedHeader(out, kind, generation, this.salt, this.counter++);
    if (nativeAead !== undefined) {
      try {
        if (prefix === undefined) nativeAead.seal(AES_256_GCM, subkey, nonce, stage(plain), associatedData(sub, key, header), out, headerLength);
        else {
          // prefix and value laid out where their ciphertext goes, sealed in place
          out[headerLength] = prefix;
          out.set(plain, headerLength + 1);
          nativeAead.seal(AES_256_GCM, subkey, nonce, out.subarray(headerLength, headerLength + plainLength), associatedData(sub, key, header), out, headerLength);
        }
      } finally {
        unstage();
      }
      return out;
    }
    const cipher = createCipheriv("aes-256-gcm", subkey, nonce, { authTagLength: TAG });
    cipher.setAAD(associatedData(sub, key, header));
    const body = cipher.update(prefix === undefined ? plain : Buffer.concat([Uint8Array.of(prefix), plain]));
    out.set(body, headerLength);
    const rest = cipher.final();
    if (body.length + rest.length !== plainLength) throw new StorageError(ErrorCode.Storage, "AES-GCM: unexpected ciphertext length");
    out.set(rest, headerLength + body.length);
    out.set(cipher.getAuthTag(), headerLength + plainLength);
    return out;
  }

  /** This session's subkey of a storage key generation, held beside the cache (no cache key string per value sealed). */
  private sessionSubkey(generation: number): Buffer {
    if (this.current?.generation === generation) return this.current.subkey;
    const storageKey = this.keys.get(generation);
    if (storageKey === undefined) throw new StorageError(ErrorCode.StorageKey, `no storage key of generation ${generation}`);
    const subkey = this.subkey(storageKey, this.salt, `${generation}:${toKey(this.salt)}`);
    this.current = { generation, subkey };
    return subkey;
  }

  /**
   * Opens a sealed value of `sub`/`key`; `ownKey` finds the value's own key. A value that does
   * not authenticate, or whose key is gone, is StorageError(STORAGE_INTEGRITY); a malformed
   * header DecodeError.
   *
   * @example
   * ```ts
   * const plain = sealer.open("state", "gid/h", sealed)
   * ```
   */
  open(sub: string, key: string, sealed: Uint8Array, ownKey?: () => Uint8Array | undefined): Uint8Array {
    return this.openInto(sub, key, sealed, false, ownKey);
  }

  /**
   * {@link open}, the plaintext written over the ciphertext in `sealed` (the addon opens in place)
   * and returned as a view into it: for values read into memory of their own that nothing else
   * holds (a state load's parts, 300-600 KB at 1000 members, which would otherwise be allocated
   * and written twice). A value that does not authenticate leaves its ciphertext wiped. Without
   * the addon, as {@link open}.
   *
   * @example
   * ```ts
   * const plain = sealer.openInPlace("state", "gid/h", sealed)
   * ```
   */
  openInPlace(sub: string, key: string, sealed: Uint8Array, ownKey?: () => Uint8Array | undefined): Uint8Array {
    return this.openInto(sub, key, sealed, true, ownKey);
  }

  private openInto(sub: string, key: string, sealed: Uint8Array, inPlace: boolean, ownKey?: () => Uint8Array | undefined): Uint8Array {
    const e = parseSealed(sealed, `${sub} ${key}`);
    let subkey: Buffer;
    if (e.kind === SealKind.OwnKey) {
      const own = ownKey?.();
      if (own === undefined) throw new StorageError(ErrorCode.StorageIntegrity, `${sub} ${key}: its own key is not in the keyring (destroyed)`);
      subkey = this.subkey(own, e.salt);
    } else {
      const storageKey = this.keys.get(e.generation);
      if (storageKey === undefined) throw new StorageError(ErrorCode.StorageIntegrity, `${sub} ${key}: sealed under unknown storage key generation ${e.generation}`);
      subkey = this.subkey(storageKey, e.salt, `${e.generation}:${toKey(e.salt)}`);
    }
    if (nativeAead !== undefined) {
      // in place, or memory of its own (a state's parts move to a worker whole); the addon checks the tag before it returns
      // (a small plaintext through the staging area: src/staging.ts)
      try {
        const plain = inPlace ? e.body : stageOutput(e.body.length - TAG);
        if (!nativeAead.open(AES_256_GCM, subkey, e.nonce, e.body, 0, e.body.length, associatedData(sub, key, e.header), plain, 0)) {
          throw new StorageError(ErrorCode.StorageIntegrity, `${sub} ${key}: sealed value does not authenticate`);
        }
        return inPlace ? plain.subarray(0, plain.length - TAG) : takeOutput(plain);
      } finally {
        unstage();
      }
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", subkey, e.nonce, { authTagLength: TAG });
      decipher.setAAD(associatedData(sub, key, e.header));
      decipher.setAuthTag(e.body.subarray(e.body.length - TAG));
      return ownBytes(decipher.update(e.body.subarray(0, e.body.length - TAG)), decipher.final());
    } catch (cause) {
      throw new StorageError(ErrorCode.StorageIntegrity, `${sub} ${key}: sealed value does not authenticate`, { cause });
    }
  }
}

/**
 * An opened value as a plain Uint8Array over memory of its own. GCM's `final()` adds nothing and
 * node gives `update()` an ArrayBuffer of exactly its output, which is then taken as it is: the
 * copy was ~0.6 ms of a 1000-member state's 35 parts (session 23). Otherwise, a copy (a pooled
 * Buffer shares its ArrayBuffer with other values, so a worker it moved to would take theirs).
 */
function ownBytes(body: Buffer, rest: Buffer): Uint8Array {
  if (rest.length === 0 && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength) return new Uint8Array(body.buffer);
  return new Uint8Array(Buffer.concat([body, rest]));
}

const toKey = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
