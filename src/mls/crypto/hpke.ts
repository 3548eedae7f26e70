/**
 * HPKE base mode (RFC 9180) with DHKEM(X25519, HKDF-SHA256) on `node:crypto`, for ts-mls.
 *
 * Why: the default provider (`@hpke/core`) does X25519 through WebCrypto with several
 * key imports and exports per operation, and its HKDF through WebCrypto HMAC. A commit
 * derives a key pair per path node and encrypts a path secret per copath resolution
 * node, so this runs tens to hundreds of times per commit. Here a DH is one
 * `diffieHellman` on cached `KeyObject`s and the key schedule is plain HMAC.
 *
 * Only single-shot base mode is implemented (seal/open at sequence number 0, plus the
 * exporter), which is all ts-mls uses. Other KEMs are delegated (see provider.ts).
 * Keys cross the ts-mls boundary only as raw bytes (import/export), so keys made by
 * this module never reach another provider.
 *
 * @module
 */
import { diffieHellman, generateKeyPair, randomFillSync, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import type { AeadAlgorithm } from "ts-mls/crypto/aead.js";
import type { Hpke, HpkeAlgorithm, PrivateKey, PublicKey } from "ts-mls/crypto/hpke.js";
import type { HashAlgorithm } from "ts-mls/crypto/hash.js";
import { CryptoError } from "ts-mls/mlsError.js";
import { makeNodeAead, type NodeAead } from "./aead.js";
import { hkdfExpand, hmac, kdfHash } from "./hash.js";
import { LruCache, bytesKey, fresh, owned } from "./lru.js";
import { publicOf, rawKey } from "./rawKey.js";
import { concatBytes } from "../../bytes.js";
import { HPKE_INFO_LENGTH_LIMIT, HPKE_INPUT_LENGTH_LIMIT } from "../../constants.js";

const KEM_ID_X25519 = 0x0020;
const KDF_IDS = { "HKDF-SHA256": 1, "HKDF-SHA384": 2, "HKDF-SHA512": 3 } as const;
const AEAD_IDS = { AES128GCM: 1, AES256GCM: 2, CHACHA20POLY1305: 3 } as const satisfies Record<AeadAlgorithm, number>;
const HASH_SIZE = { "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 } as const;

const te = new TextEncoder();
const HPKE_V1 = te.encode("HPKE-v1");
const L = {
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
const EMPTY = new Uint8Array(0);

/** An X25519 key as this module hands it to ts-mls (opaque to ts-mls, which only passes it back). */
class X25519Key {
  constructor(
    readonly type: "public" | "private",
    readonly raw: Uint8Array,
    readonly key: KeyObject,
    /** For private keys: the public key bytes (needed by Decap for the KEM context). */
    readonly publicRaw: Uint8Array,
  ) {}
}

const keyCache = new LruCache<string, X25519Key>(1024);

function importPublic(raw: Uint8Array): X25519Key {
  if (raw.byteLength !== 32) throw new CryptoError("X25519 public key must be 32 bytes");
  const id = "pub:" + bytesKey(raw);
  let k = keyCache.get(id);
  if (k === undefined) {
    const copy = fresh(raw);
    k = new X25519Key("public", copy, rawKey("X25519", "public", copy), copy);
    keyCache.set(id, k);
  }
  return k;
}

function parsePrivate(raw: Uint8Array): X25519Key {
  const copy = fresh(raw);
  const key = rawKey("X25519", "private", copy);
  return new X25519Key("private", copy, key, publicOf(key));
}

function importPrivate(raw: Uint8Array): X25519Key {
  if (raw.byteLength !== 32) throw new CryptoError("X25519 private key must be 32 bytes");
  const id = "priv:" + bytesKey(raw);
  let k = keyCache.get(id);
  if (k === undefined) {
    k = parsePrivate(raw);
    keyCache.set(id, k);
  }
  return k;
}

function asKey(k: PublicKey | PrivateKey, type: "public" | "private"): X25519Key {
  if (!(k instanceof X25519Key) || k.type !== type) {
    throw new CryptoError(`expected an X25519 ${type} key from the node provider`);
  }
  return k;
}

function dh(sk: X25519Key, pk: X25519Key): Uint8Array {
  const out = owned(diffieHellman({ privateKey: sk.key, publicKey: pk.key }));
  // RFC 9180 section 7.1.4: an all-zero X25519 output (small-order point) must be rejected.
  let acc = 0;
  for (const b of out) acc |= b;
  if (acc === 0) throw new CryptoError("X25519 produced the all-zero value");
  return out;
}

/** HPKE suite state: ids, hash for the key schedule, AEAD. */
interface Suite {
  readonly kemId: Uint8Array; // "KEM" || I2OSP(kem_id, 2)
  readonly hpkeId: Uint8Array; // "HPKE" || kem || kdf || aead
  readonly hash: HashAlgorithm;
  readonly aead: NodeAead;
  /** Base mode has no PSK: its id hash is a constant of the suite. */
  readonly pskIdHash: Uint8Array;
  /** The last key schedule context and the info it was made for. */
  lastContext?: { readonly info: Uint8Array; readonly context: Uint8Array };
}

function i2osp2(n: number): Uint8Array {
  return Uint8Array.of((n >> 8) & 0xff, n & 0xff);
}

// RFC 9180 LabeledExtract / LabeledExpand. Extract is HMAC with the salt as key (empty
// salt = zero block), without the salt-length check the MLS-facing extract has: RFC 9180
// uses salts of any length (the shared secret, say).
function labeledExtract(hash: HashAlgorithm, suiteId: Uint8Array, salt: Uint8Array, label: Uint8Array, ikm: Uint8Array): Uint8Array {
  const key = salt.byteLength === 0 ? new Uint8Array(HASH_SIZE[hash]) : salt;
  return hmac(hash, key, concatBytes(HPKE_V1, suiteId, label, ikm));
}

function labeledExpand(hash: HashAlgorithm, suiteId: Uint8Array, prk: Uint8Array, label: Uint8Array, info: Uint8Array, len: number): Uint8Array {
  return hkdfExpand(hash, prk, concatBytes(i2osp2(len), HPKE_V1, suiteId, label, info), len);
}

// DHKEM(X25519, HKDF-SHA256): the KEM's own KDF is always SHA-256.
function kemSharedSecret(s: Suite, dhOut: Uint8Array, kemContext: Uint8Array): Uint8Array {
  const prk = labeledExtract("SHA-256", s.kemId, EMPTY, L.eaePrk, dhOut);
  return labeledExpand("SHA-256", s.kemId, prk, L.sharedSecret, kemContext, 32);
}

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * A one-time key pair, made on libuv's thread pool: ts-mls seals to every copath resolution
 * node at once (Promise.all), so a commit's ephemeral keys are made on every core while this
 * thread does the Diffie-Hellmans and key schedules. Never cached (one-time keys must not
 * evict the long-lived ones); its raw private half is never needed.
 */
async function ephemeral(): Promise<X25519Key> {
  const { privateKey, publicKey } = await generateKeyPairAsync("x25519", undefined);
  const x = publicKey.export({ format: "jwk" }).x;
  if (x === undefined) throw new CryptoError("X25519 key generation gave no public key");
  return new X25519Key("private", EMPTY, privateKey, fresh(Buffer.from(x, "base64url")));
}

async function encap(s: Suite, pkR: X25519Key): Promise<{ enc: Uint8Array; shared: Uint8Array }> {
  const skE = await ephemeral();
  const enc = skE.publicRaw;
  const shared = kemSharedSecret(s, dh(skE, pkR), concatBytes(enc, pkR.raw));
  return { enc: fresh(enc), shared };
}

function decap(s: Suite, enc: Uint8Array, skR: X25519Key): Uint8Array {
  const pkE = importPublic(enc);
  return kemSharedSecret(s, dh(skR, pkE), concatBytes(enc, skR.publicRaw));
}

/**
 * The key schedule context of base mode for `info`. It depends on `info` alone, and a commit
 * seals every path secret with the same info (label and group context): kept for the last info.
 */
function scheduleContext(s: Suite, info: Uint8Array): Uint8Array {
  const memo = s.lastContext;
  if (memo !== undefined && memo.info.length === info.length && Buffer.from(memo.info.buffer, memo.info.byteOffset, memo.info.length).equals(info)) return memo.context;
  const infoHash = labeledExtract(s.hash, s.hpkeId, EMPTY, L.infoHash, info);
  const context = concatBytes(Uint8Array.of(0), s.pskIdHash, infoHash); // mode_base = 0
  s.lastContext = { info: fresh(info), context };
  return context;
}

function checkedContext(s: Suite, info: Uint8Array): Uint8Array {
  if (info.byteLength > HPKE_INFO_LENGTH_LIMIT) throw new CryptoError("Too long info");
  return scheduleContext(s, info);
}

function keySchedule(s: Suite, shared: Uint8Array, info: Uint8Array) {
  return keyScheduleOf(s, shared, checkedContext(s, info));
}

function keyScheduleOf(s: Suite, shared: Uint8Array, context: Uint8Array) {
  const secret = labeledExtract(s.hash, s.hpkeId, shared, L.secret, EMPTY);
  return {
    key: () => labeledExpand(s.hash, s.hpkeId, secret, L.key, context, s.aead.keyLength),
    nonce: () => labeledExpand(s.hash, s.hpkeId, secret, L.baseNonce, context, s.aead.nonceLength),
    exporter: () => labeledExpand(s.hash, s.hpkeId, secret, L.exp, context, HASH_SIZE[s.hash]),
  };
}

function exportFrom(s: Suite, exporterSecret: Uint8Array, exporterContext: Uint8Array, length: number): Uint8Array {
  if (exporterContext.byteLength > HPKE_INPUT_LENGTH_LIMIT) throw new CryptoError("Too long exporter context");
  return labeledExpand(s.hash, s.hpkeId, exporterSecret, L.sec, exporterContext, length);
}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    // The default provider reports every failure to open as ts-mls's CryptoError.
    throw e instanceof CryptoError ? e : new CryptoError(`${e}`);
  }
}

/**
 * True when `makeNodeHpke` implements this HPKE configuration natively.
 *
 * @example
 * ```ts
 * nodeHpkeSupports({ kem: "DHKEM-X25519-HKDF-SHA256", kdf: "HKDF-SHA256", aead: "AES128GCM" }); // true
 * ```
 */
export function nodeHpkeSupports(alg: HpkeAlgorithm): boolean {
  return alg.kem === "DHKEM-X25519-HKDF-SHA256";
}

/**
 * ts-mls `Hpke` for DHKEM(X25519, HKDF-SHA256) on `node:crypto` (base mode).
 *
 * @example
 * ```ts
 * const hpke = makeNodeHpke({ kem: "DHKEM-X25519-HKDF-SHA256", kdf: "HKDF-SHA256", aead: "AES128GCM" });
 * const { publicKey, privateKey } = await hpke.generateKeyPair();
 * const { ct, enc } = await hpke.seal(publicKey, msg, info);
 * await hpke.open(privateKey, enc, ct, info); // msg
 * ```
 */
export function makeNodeHpke(alg: HpkeAlgorithm): Hpke {
  if (!nodeHpkeSupports(alg)) throw new CryptoError(`node HPKE does not implement ${alg.kem}`);
  const kem = i2osp2(KEM_ID_X25519);
  const hpkeId = concatBytes(te.encode("HPKE"), kem, i2osp2(KDF_IDS[alg.kdf]), i2osp2(AEAD_IDS[alg.aead]));
  const hash = kdfHash(alg.kdf);
  const s: Suite = {
    kemId: concatBytes(te.encode("KEM"), kem),
    hpkeId,
    hash,
    aead: makeNodeAead(alg.aead),
    pskIdHash: labeledExtract(hash, hpkeId, EMPTY, L.pskIdHash, EMPTY),
  };
  const pub = (k: X25519Key) => k as unknown as PublicKey;
  const priv = (k: X25519Key) => k as unknown as PrivateKey;
  const pair = (sk: X25519Key) => ({ privateKey: priv(sk), publicKey: pub(importPublic(sk.publicRaw)) });
  // not async itself: the context is taken from `info` before the ephemeral key is awaited, so
  // no suspended seal holds its info (a Welcome's is the whole encrypted GroupInfo, sealed to
  // every new member at once: N suspended copies would be O(N^2) bytes)
  const encapFor = (publicKey: PublicKey, info: Uint8Array) => {
    let context: Uint8Array;
    let pk: X25519Key;
    try {
      pk = asKey(publicKey, "public");
      context = checkedContext(s, info);
    } catch (e) {
      return Promise.reject(e);
    }
    return encap(s, pk).then(({ enc, shared }) => ({ enc, shared, context }));
  };
  return {
    seal(publicKey, plaintext, info, aad) {
      return encapFor(publicKey, info).then(({ enc, shared, context }) => {
        const ks = keyScheduleOf(s, shared, context);
        return { ct: s.aead.seal(ks.key(), ks.nonce(), aad, plaintext), enc };
      });
    },
    async open(privateKey, kemOutput, ciphertext, info, aad) {
      return wrap(() => {
        const ks = keySchedule(s, decap(s, kemOutput, asKey(privateKey, "private")), info);
        return s.aead.open(ks.key(), ks.nonce(), aad, ciphertext);
      });
    },
    exportSecret(publicKey, exporterContext, length, info) {
      return encapFor(publicKey, info).then(({ enc, shared, context }) => ({ enc, secret: exportFrom(s, keyScheduleOf(s, shared, context).exporter(), exporterContext, length) }));
    },
    async importSecret(privateKey, exporterContext, kemOutput, length, info) {
      return wrap(() => {
        const shared = decap(s, kemOutput, asKey(privateKey, "private"));
        return exportFrom(s, keySchedule(s, shared, info).exporter(), exporterContext, length);
      });
    },
    async importPrivateKey(k) {
      return priv(wrap(() => importPrivate(k)));
    },
    async importPublicKey(k) {
      return pub(wrap(() => importPublic(k)));
    },
    async exportPublicKey(k) {
      return fresh(asKey(k, "public").raw);
    },
    async exportPrivateKey(k) {
      return fresh(asKey(k, "private").raw);
    },
    async encryptAead(key, nonce, aad, plaintext) {
      return s.aead.seal(key, nonce, aad, plaintext);
    },
    async decryptAead(key, nonce, aad, ciphertext) {
      return wrap(() => s.aead.open(key, nonce, aad, ciphertext));
    },
    async deriveKeyPair(ikm) {
      if (ikm.byteLength > HPKE_INPUT_LENGTH_LIMIT) throw new CryptoError("Too long ikm");
      // RFC 9180 section 7.1.3, X25519: sk = LabeledExpand(LabeledExtract("", "dkp_prk", ikm), "sk", "", 32).
      const prk = labeledExtract("SHA-256", s.kemId, EMPTY, L.dkpPrk, ikm);
      return pair(importPrivate(labeledExpand("SHA-256", s.kemId, prk, L.sk, EMPTY, 32)));
    },
    async generateKeyPair() {
      return pair(parsePrivate(randomFillSync(new Uint8Array(32))));
    },
    keyLength: s.aead.keyLength,
    nonceLength: s.aead.nonceLength,
  };
}

/**
 * Wraps an AEAD so it can stand in for a delegated HPKE's `encryptAead`/`decryptAead`
 * (the hot path of MLS private messages), reporting failures as ts-mls's CryptoError.
 *
 * @example
 * ```ts
 * const hpke = { ...delegated, ...nodeAeadMethods("AES128GCM") };
 * ```
 */
export function nodeAeadMethods(alg: AeadAlgorithm): Pick<Hpke, "encryptAead" | "decryptAead"> {
  const aead = makeNodeAead(alg);
  return {
    async encryptAead(key, nonce, aad, plaintext) {
      return aead.seal(key, nonce, aad, plaintext);
    },
    async decryptAead(key, nonce, aad, ciphertext) {
      return wrap(() => aead.open(key, nonce, aad, ciphertext));
    },
  };
}
