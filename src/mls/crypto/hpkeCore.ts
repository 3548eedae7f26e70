/**
 * The synchronous core of HPKE base mode (RFC 9180) with DHKEM(X25519, HKDF-SHA256) on
 * `node:crypto` and the addon's HMAC (hash.ts `hmacParts`): the suite constants, labeled KDF,
 * KEM and key schedule, and a whole seal from raw bytes. hpke.ts (the ts-mls `Hpke`) and the seal helper thread (hpkeSealer.ts) both run
 * seals with it, so the two cannot drift apart.
 *
 * X25519 itself is x25519.ts's (libsodium where it loads).
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import type { AeadAlgorithm } from "ts-mls/crypto/aead.js";
import type { HashAlgorithm } from "ts-mls/crypto/hash.js";
import type { KdfAlgorithm } from "ts-mls/crypto/kdf.js";
import { makeNodeAead, type NodeAead } from "./aead.js";
import { hkdfExpand, hmac, hmacParts, kdfHash } from "./hash.js";
import { encapDh } from "./x25519.js";
import { concatBytes } from "../../bytes.js";

const KEM_ID_X25519 = 0x0020;
const KDF_IDS = { "HKDF-SHA256": 1, "HKDF-SHA384": 2, "HKDF-SHA512": 3 } as const satisfies Record<KdfAlgorithm, number>;
const AEAD_IDS = { AES128GCM: 1, AES256GCM: 2, CHACHA20POLY1305: 3 } as const satisfies Record<AeadAlgorithm, number>;
const HASH_SIZE = { "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 } as const;
const ZERO_SALT = new Uint8Array(32); // the KEM's empty salt: a zero block of SHA-256's size
const ONE = Uint8Array.of(1);

const te = new TextEncoder();
const HPKE_V1 = te.encode("HPKE-v1");
/** RFC 9180 labels. @example `labeledExtract(h, id, EMPTY, LABELS.secret, ikm)` */
export const LABELS = {
  dkpPrk: te.encode("dkp_prk"),
  sk: te.encode("sk"),
  eaePrk: te.encode("eae_prk"),
  sharedSecret: te.encode("shared_secret"),
  pskIdHash: te.encode("psk_id_hash"),
  infoHash: te.encode("info_hash"),
  secret: te.encode("secret"),
  key: te.encode("key"),
  baseNonce: te.encode("base_nonce"),
  exp: te.encode("exp"),
  sec: te.encode("sec"),
};
/** The empty byte string. @example `labeledExtract(h, id, EMPTY, label, ikm)` */
export const EMPTY = new Uint8Array(0);

/** The KDF and AEAD of an HPKE suite whose KEM is DHKEM(X25519, HKDF-SHA256). @example `{ kdf: "HKDF-SHA256", aead: "AES128GCM" }` */
export interface X25519HpkeAlgorithm {
  readonly kdf: KdfAlgorithm;
  readonly aead: AeadAlgorithm;
}

/** HPKE suite state: ids, hash for the key schedule, AEAD. @example `const s: HpkeSuite = makeHpkeSuite(alg)` */
export interface HpkeSuite {
  readonly kemId: Uint8Array; // "KEM" || I2OSP(kem_id, 2)
  readonly hpkeId: Uint8Array; // "HPKE" || kem || kdf || aead
  readonly hash: HashAlgorithm;
  readonly aead: NodeAead;
  /** Base mode has no PSK: its id hash is a constant of the suite. */
  readonly pskIdHash: Uint8Array;
  /** The constant front of each labeled HMAC input of the KEM and key schedule (see {@link kemSharedSecret}, {@link keyScheduleOf}). */
  readonly prefixes: SealPrefixes;
}

/**
 * Per suite: the constant front of each labeled input (RFC 9180 4: `HPKE-v1 || suite_id || label`,
 * after `I2OSP(L, 2)` for an expand), so each step is one HMAC fed the front and the variable
 * parts as they are, with no concatenated copy. Every expand here is one HKDF-Expand block (its
 * length is at most the hash's).
 *
 * @example `s.prefixes.eaePrk`
 */
export interface SealPrefixes {
  readonly eaePrk: Uint8Array;
  readonly sharedSecret: Uint8Array;
  readonly secret: Uint8Array;
  readonly key: Uint8Array;
  readonly baseNonce: Uint8Array;
  readonly exp: Uint8Array;
}

function i2osp2(n: number): Uint8Array {
  return Uint8Array.of((n >> 8) & 0xff, n & 0xff);
}

/**
 * RFC 9180 LabeledExtract. Extract is HMAC with the salt as key (empty salt = zero block),
 * without the salt-length check the MLS-facing extract has: RFC 9180 uses salts of any length.
 *
 * @example
 * ```ts
 * labeledExtract("SHA-256", s.kemId, EMPTY, LABELS.eaePrk, dh);
 * ```
 */
export function labeledExtract(hash: HashAlgorithm, suiteId: Uint8Array, salt: Uint8Array, label: Uint8Array, ikm: Uint8Array): Uint8Array {
  const key = salt.byteLength === 0 ? new Uint8Array(HASH_SIZE[hash]) : salt;
  return hmac(hash, key, concatBytes(HPKE_V1, suiteId, label, ikm));
}

/**
 * RFC 9180 LabeledExpand.
 *
 * @example
 * ```ts
 * labeledExpand("SHA-256", s.kemId, prk, LABELS.sharedSecret, kemContext, 32);
 * ```
 */
export function labeledExpand(hash: HashAlgorithm, suiteId: Uint8Array, prk: Uint8Array, label: Uint8Array, info: Uint8Array, len: number): Uint8Array {
  return hkdfExpand(hash, prk, concatBytes(i2osp2(len), HPKE_V1, suiteId, label, info), len);
}

/**
 * The suite state for a KDF and AEAD (the KEM is always DHKEM(X25519, HKDF-SHA256)).
 *
 * @example
 * ```ts
 * const s = makeHpkeSuite({ kdf: "HKDF-SHA256", aead: "AES128GCM" });
 * ```
 */
export function makeHpkeSuite(alg: X25519HpkeAlgorithm): HpkeSuite {
  const kem = i2osp2(KEM_ID_X25519);
  const hpkeId = concatBytes(te.encode("HPKE"), kem, i2osp2(KDF_IDS[alg.kdf]), i2osp2(AEAD_IDS[alg.aead]));
  const hash = kdfHash(alg.kdf);
  const kemId = concatBytes(te.encode("KEM"), kem);
  const aead = makeNodeAead(alg.aead);
  return {
    kemId,
    hpkeId,
    hash,
    aead,
    pskIdHash: labeledExtract(hash, hpkeId, EMPTY, LABELS.pskIdHash, EMPTY),
    prefixes: {
      eaePrk: concatBytes(HPKE_V1, kemId, LABELS.eaePrk),
      sharedSecret: concatBytes(i2osp2(32), HPKE_V1, kemId, LABELS.sharedSecret),
      secret: concatBytes(HPKE_V1, hpkeId, LABELS.secret),
      key: concatBytes(i2osp2(aead.keyLength), HPKE_V1, hpkeId, LABELS.key),
      baseNonce: concatBytes(i2osp2(aead.nonceLength), HPKE_V1, hpkeId, LABELS.baseNonce),
      exp: concatBytes(i2osp2(HASH_SIZE[hash]), HPKE_V1, hpkeId, LABELS.exp),
    },
  };
}

/** An Encap's results: the KEM output (the one-time public key) and the KEM shared secret. @example `const { enc, shared } = encap(s, pkRaw, keyOf)` */
export interface Encapsulation {
  readonly enc: Uint8Array;
  readonly shared: Uint8Array;
}

/**
 * DHKEM(X25519, HKDF-SHA256) Encap (RFC 9180 4.1) to `publicRaw` with a fresh one-time key, or
 * with `ephemeralSecret` (known-answer tests only); X25519 as x25519.ts computes it (the
 * recipient's KeyObject from `publicKey` only on node:crypto's path).
 *
 * @example
 * ```ts
 * const { enc, shared } = encap(s, pkRaw, () => rawKey("X25519", "public", pkRaw));
 * ```
 */
export function encap(s: HpkeSuite, publicRaw: Uint8Array, publicKey: () => KeyObject, ephemeralSecret?: Uint8Array): Encapsulation {
  const { enc, dh } = encapDh(publicRaw, publicKey, ephemeralSecret);
  const shared = kemSharedSecret(s, dh, enc, publicRaw);
  dh.fill(0);
  return { enc, shared };
}

/**
 * DHKEM(X25519, HKDF-SHA256) ExtractAndExpand with kem_context = enc || pkRm: the KEM's own KDF
 * is always SHA-256 (its empty salt a zero block of that size).
 *
 * @example
 * ```ts
 * kemSharedSecret(s, x25519Raw(skE, pkR, skEKey, pkRKey), enc, pkRRaw);
 * ```
 */
export function kemSharedSecret(s: HpkeSuite, dhOut: Uint8Array, enc: Uint8Array, pkRRaw: Uint8Array): Uint8Array {
  const prk = hmacParts("SHA-256", ZERO_SALT, s.prefixes.eaePrk, dhOut);
  const shared = hmacParts("SHA-256", prk, s.prefixes.sharedSecret, enc, pkRRaw, ONE);
  prk.fill(0);
  return shared;
}

/**
 * The key schedule context of base mode for `info`: mode || psk_id_hash || info_hash.
 *
 * @example
 * ```ts
 * const context = baseContext(s, info);
 * ```
 */
export function baseContext(s: HpkeSuite, info: Uint8Array): Uint8Array {
  const infoHash = labeledExtract(s.hash, s.hpkeId, EMPTY, LABELS.infoHash, info);
  return concatBytes(Uint8Array.of(0), s.pskIdHash, infoHash); // mode_base = 0
}

/**
 * The base-mode key schedule from a shared secret and a context (lazy per output).
 *
 * @example
 * ```ts
 * const ks = keyScheduleOf(s, shared, context); ks.key(); ks.nonce();
 * ```
 */
export function keyScheduleOf(s: HpkeSuite, shared: Uint8Array, context: Uint8Array) {
  const secret = hmacParts(s.hash, shared, s.prefixes.secret); // LabeledExtract(shared, "secret", psk = "")
  const expand = (prefix: Uint8Array, len: number): Uint8Array => {
    const block = hmacParts(s.hash, secret, prefix, context, ONE);
    if (len === block.length) return block;
    const out = block.slice(0, len);
    block.fill(0);
    return out;
  };
  return {
    key: () => expand(s.prefixes.key, s.aead.keyLength),
    nonce: () => expand(s.prefixes.baseNonce, s.aead.nonceLength),
    exporter: () => expand(s.prefixes.exp, HASH_SIZE[s.hash]),
  };
}

/** One seal: the recipient's raw public key and its KeyObject (parsed only for node:crypto's X25519), the plaintext, the schedule context, the AAD. @example `sealWith(s, job)` */
export interface SealJob {
  readonly publicRaw: Uint8Array;
  readonly publicKey: () => KeyObject;
  readonly plaintext: Uint8Array;
  readonly context: Uint8Array;
  readonly aad?: Uint8Array | undefined;
}

/** A sealed message: KEM output and ciphertext. @example `const { enc, ct }: Sealed = sealWith(s, job, e)` */
export interface Sealed {
  readonly enc: Uint8Array;
  readonly ct: Uint8Array;
}

/**
 * A single-shot base-mode seal (sequence number 0) with a fresh one-time key ({@link encap};
 * `ephemeralSecret` for known-answer tests only): Encap, key schedule, AEAD. Synchronous, on the
 * calling thread.
 *
 * @example
 * ```ts
 * const { enc, ct } = sealWith(s, { publicRaw, publicKey: () => key, plaintext, context });
 * ```
 */
export function sealWith(s: HpkeSuite, job: SealJob, ephemeralSecret?: Uint8Array): Sealed {
  const { enc, shared } = encap(s, job.publicRaw, job.publicKey, ephemeralSecret);
  const ks = keyScheduleOf(s, shared, job.context);
  return { enc, ct: s.aead.seal(ks.key(), ks.nonce(), job.aad, job.plaintext) };
}
