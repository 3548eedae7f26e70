/**
 * SHA-2, HMAC and HKDF (RFC 5869) for ts-mls, synchronous: SHA-2 on `node:crypto`, HMAC on
 * the package's addon (src/native.ts) where it loaded, else on `node:crypto`.
 *
 * Why: ts-mls's default provider goes through WebCrypto, which imports a key and hops
 * through a promise per HMAC (about 150 us); a 1000-member commit makes thousands of
 * these calls. `createHmac` does the same in ~3 us, most of it making a context; the addon
 * re-keys one context per thread in ~0.5 us. HKDF is written out with HMAC rather than
 * `hkdfSync` because MLS outputs are one hash block long and the extra key import in
 * `hkdfSync` costs more than the single HMAC.
 *
 * Edge cases mirror the default provider (WebCrypto + `@hpke/core`) so both accept
 * and reject the same inputs: empty HMAC keys throw, HKDF-Extract salt must be empty
 * or one hash long, the HKDF-Expand PRK must be one hash long, and HKDF-Expand refuses
 * more than 255 blocks.
 *
 * @module
 */
import * as nodeCrypto from "node:crypto";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { Hash, HashAlgorithm } from "ts-mls/crypto/hash.js";
import type { Kdf, KdfAlgorithm } from "ts-mls/crypto/kdf.js";
import { nativeAddon } from "../../native.js";
import { owned } from "./lru.js";
import { stage, unstage } from "../../staging.js";

/** node:crypto digest name, the addon's hash number (native/hmac.c) and output size per ts-mls hash algorithm. */
const HASHES = {
  "SHA-256": { node: "sha256", id: 1, size: 32 },
  "SHA-384": { node: "sha384", id: 2, size: 48 },
  "SHA-512": { node: "sha512", id: 3, size: 64 },
} as const satisfies Record<HashAlgorithm, { node: string; id: number; size: number }>;

/** Where the addon writes a MAC (one per thread: this module's instance), copied out and wiped. */
const scratch = new Uint8Array(new ArrayBuffer(64));

/**
 * HMAC(key, a || b || c || d) as a fresh `Uint8Array` of the hash's size: the addon's
 * (src/native.ts: ~0.5 us a call against createHmac's ~3.1, which makes a context per call),
 * else node:crypto's. Both take any key, the empty one too (the provider's callers refuse it).
 *
 * @example
 * ```ts
 * const prk = hmacParts("SHA-256", salt, ikm)
 * ```
 */
export function hmacParts(alg: HashAlgorithm, key: Uint8Array, a: Uint8Array, b?: Uint8Array, c?: Uint8Array, d?: Uint8Array): Uint8Array {
  const { node, id, size } = HASHES[alg];
  if (nativeAddon !== undefined) {
    // small inputs (secrets, labels) staged off V8's heap: no ArrayBuffer made for each (src/staging.ts)
    try {
      nativeAddon.hmac(id, stage(key), scratch, stage(a), b === undefined ? b : stage(b), c === undefined ? c : stage(c), d === undefined ? d : stage(d));
    } finally {
      unstage();
    }
    const mac = scratch.slice(0, size);
    scratch.fill(0, 0, size);
    return mac;
  }
  const h = createHmac(node, key).update(a);
  if (b !== undefined) h.update(b);
  if (c !== undefined) h.update(c);
  if (d !== undefined) h.update(d);
  return owned(h.digest());
}

const ONE = Uint8Array.of(1);

const KDF_HASH = {
  "HKDF-SHA256": "SHA-256",
  "HKDF-SHA384": "SHA-384",
  "HKDF-SHA512": "SHA-512",
} as const satisfies Record<KdfAlgorithm, HashAlgorithm>;

// One-shot `crypto.hash` (Node >= 20.12) is about twice as fast as createHash().update().digest()
// for the small inputs of tree hashing; fall back where it is missing.
const oneShot = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: "buffer") => Buffer }).hash;

/**
 * SHA-2 digest over `node:crypto`, returning a fresh `Uint8Array`.
 *
 * @example
 * ```ts
 * digest("SHA-256", new Uint8Array()).length; // 32
 * ```
 */
function digest(alg: HashAlgorithm, data: Uint8Array): Uint8Array {
  const name = HASHES[alg].node;
  return owned(oneShot !== undefined ? oneShot(name, data, "buffer") : createHash(name).update(data).digest());
}

/**
 * HMAC over `node:crypto`, returning a fresh `Uint8Array`.
 *
 * @example
 * ```ts
 * hmac("SHA-256", key, data).length; // 32
 * ```
 */
export function hmac(alg: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
  // WebCrypto refuses zero-length HMAC keys; refuse them too so both providers agree.
  if (key.byteLength === 0) throw new RangeError("HMAC key must not be empty");
  return hmacParts(alg, key, data);
}

/**
 * ts-mls `Hash` (digest, mac, verifyMac) on `node:crypto`.
 *
 * @example
 * ```ts
 * const h = makeNodeHash("SHA-256");
 * await h.digest(new Uint8Array([1, 2, 3]));
 * ```
 */
export function makeNodeHash(alg: HashAlgorithm): Hash {
  return {
    async digest(data) {
      return digest(alg, data);
    },
    async mac(key, data) {
      return hmac(alg, key, data);
    },
    async verifyMac(key, mac, data) {
      const expected = hmac(alg, key, data);
      // Constant-time compare; a tag of the wrong length is simply invalid, as in WebCrypto.
      return mac.byteLength === expected.byteLength && timingSafeEqual(mac, expected);
    },
  };
}

/**
 * HKDF-Extract (RFC 5869 section 2.2): HMAC(salt, ikm), empty salt = zero block.
 *
 * @example
 * ```ts
 * hkdfExtract("SHA-256", new Uint8Array(), ikm).length; // 32
 * ```
 */
function hkdfExtract(alg: HashAlgorithm, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  const size = HASHES[alg].size;
  // @hpke/core rejects salts of any other length; match it so both providers fail alike.
  if (salt.byteLength !== 0 && salt.byteLength !== size) {
    throw new RangeError("The salt length must be the same as the hashSize");
  }
  return extract(alg, salt, ikm);
}

/** HKDF-Extract with any salt: HMAC(salt, ikm), the empty salt read as a zero block. */
function extract(alg: HashAlgorithm, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return hmacParts(alg, salt.byteLength === 0 ? new Uint8Array(HASHES[alg].size) : salt, ikm);
}

/**
 * HKDF (RFC 5869) with any salt (the empty one read as a zero block), for the sealed store's
 * keys (src/engine/store/seal.ts): `hkdfSync`'s bytes in two or three HMACs (~1-2 us with the
 * addon) instead of its key import (~10-40 us).
 *
 * @example
 * ```ts
 * const subkey = hkdf("SHA-256", storageKey, salt, utf8(STORAGE_SESSION_LABEL), 32)
 * ```
 */
export function hkdf(alg: HashAlgorithm, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, len: number): Uint8Array {
  const prk = extract(alg, salt, ikm);
  try {
    return hkdfExpand(alg, prk, info, len);
  } finally {
    prk.fill(0);
  }
}

/**
 * HKDF-Expand (RFC 5869 section 2.3) written out with HMAC.
 *
 * @example
 * ```ts
 * hkdfExpand("SHA-256", prk, info, 16).length; // 16
 * ```
 */
export function hkdfExpand(alg: HashAlgorithm, prk: Uint8Array, info: Uint8Array, len: number): Uint8Array {
  const { size } = HASHES[alg];
  if (len > 255 * size) throw new RangeError("Entropy limit reached");
  // @hpke/core imports the PRK as a WebCrypto HMAC key with `length` = hash size, which
  // refuses any other PRK length; refuse it too so both providers accept the same inputs.
  if (prk.byteLength !== size) throw new RangeError("Invalid key length");
  // One block (every MLS and HPKE use but the longest exports): T(1) = HMAC(PRK, info || 0x01).
  if (len === size) return hmacParts(alg, prk, info, ONE);
  const out = new Uint8Array(len);
  const counter = new Uint8Array(1);
  let prev: Uint8Array = new Uint8Array(0);
  for (let i = 1, at = 0; at < len; i++) {
    counter[0] = i;
    const block = hmacParts(alg, prk, prev, info, counter);
    const take = Math.min(block.byteLength, len - at);
    out.set(take === block.byteLength ? block : block.subarray(0, take), at);
    at += take;
    prev.fill(0);
    prev = block;
  }
  prev.fill(0);
  return out;
}

/**
 * ts-mls `Kdf` (HKDF extract and expand) on `node:crypto`.
 *
 * @example
 * ```ts
 * const kdf = makeNodeKdf("HKDF-SHA256");
 * const prk = await kdf.extract(new Uint8Array(), ikm);
 * await kdf.expand(prk, info, kdf.size);
 * ```
 */
export function makeNodeKdf(alg: KdfAlgorithm): Kdf {
  const hash = KDF_HASH[alg];
  return {
    async extract(salt, ikm) {
      return hkdfExtract(hash, salt, ikm);
    },
    async expand(prk, info, len) {
      return hkdfExpand(hash, prk, info, len);
    },
    size: HASHES[hash].size,
  };
}

/**
 * Hash algorithm behind a ts-mls KDF name.
 *
 * @example
 * ```ts
 * kdfHash("HKDF-SHA384"); // "SHA-384"
 * ```
 */
export function kdfHash(alg: KdfAlgorithm): HashAlgorithm {
  return KDF_HASH[alg];
}
