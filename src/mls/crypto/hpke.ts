/**
 * HPKE base mode (RFC 9180) with DHKEM(X25519, HKDF-SHA256) on `node:crypto`, for ts-mls.
 *
 * Why: the default provider (`@hpke/core`) does X25519 through WebCrypto with several
 * key imports and exports per operation, and its HKDF through WebCrypto HMAC. A commit
 * derives a key pair per path node and encrypts a path secret per copath resolution
 * node, so this runs tens to hundreds of times per commit. Here a DH is one
 * `diffieHellman` on cached `KeyObject`s and the key schedule is plain HMAC. The seals
 * of one commit are sealed as a batch, a large one split with a helper thread
 * (hpkeSealer.ts) so both cores work; a Welcome's encapsulations can be made ahead there
 * (hpkePrepared.ts); the HPKE itself lives in hpkeCore.ts.
 *
 * Only single-shot base mode is implemented (seal/open at sequence number 0, plus the
 * exporter), which is all ts-mls uses. Other KEMs are delegated (see provider.ts).
 * Keys cross the ts-mls boundary only as raw bytes (import/export), so keys made by
 * this module never reach another provider.
 *
 * @module
 */
import { randomFillSync, type KeyObject } from "node:crypto";
import type { AeadAlgorithm } from "ts-mls/crypto/aead.js";
import type { Hpke, HpkeAlgorithm, PrivateKey, PublicKey } from "ts-mls/crypto/hpke.js";
import { CryptoError } from "ts-mls/mlsError.js";
import { makeNodeAead } from "./aead.js";
import { EMPTY, LABELS, baseContext, encap, kemSharedSecret, keyScheduleOf, labeledExpand, labeledExtract, makeHpkeSuite, type HpkeSuite, type Sealed } from "./hpkeCore.js";
import { sealEach, type RemoteSealJob, type SealOutcome } from "./hpkeSealer.js";
import { SealHelper } from "./sealHelper.js";
import { prepareSeals, preparing, sealPrepared, type PreparesSeals } from "./hpkePrepared.js";
import { LruCache, bytesKey, fresh } from "./lru.js";
import { rawKey } from "./rawKey.js";
import { x25519PublicOf, x25519Raw } from "./x25519.js";
import { HPKE_INFO_LENGTH_LIMIT, HPKE_INPUT_LENGTH_LIMIT, HPKE_KEY_CACHE_ENTRIES, HPKE_SEAL_HELPER_SHARE, HPKE_SEAL_OFFLOAD_MIN } from "../../constants.js";

/**
 * An X25519 key as this module hands it to ts-mls (opaque to ts-mls, which only passes it
 * back). The KeyObject is parsed on first use: a commit's recipients whose seals run on the
 * helper thread never need one here.
 */
class X25519Key {
  #key: KeyObject | undefined;
  constructor(
    readonly type: "public" | "private",
    readonly raw: Uint8Array,
    key: KeyObject | undefined,
    /** For private keys: the public key bytes (needed by Decap for the KEM context). */
    readonly publicRaw: Uint8Array,
  ) {
    this.#key = key;
  }

  get key(): KeyObject {
    return (this.#key ??= rawKey("X25519", this.type, this.raw));
  }
}

const keyCache = new LruCache<string, X25519Key>(HPKE_KEY_CACHE_ENTRIES);

function importPublic(raw: Uint8Array): X25519Key {
  if (raw.byteLength !== 32) throw new CryptoError("X25519 public key must be 32 bytes");
  return keyCache.getOrAdd("pub:" + bytesKey(raw), () => {
    const copy = fresh(raw);
    return new X25519Key("public", copy, undefined, copy);
  });
}

function parsePrivate(raw: Uint8Array): X25519Key {
  const copy = fresh(raw);
  // libsodium: its public key, and the KeyObject only if node:crypto ever needs it (never, while
  // libsodium computes every X25519); node:crypto: the public key OpenSSL computed at the import,
  // read back (no second scalar multiplication; safe for a key just imported: rawKey.ts importedPublicOf)
  let key: KeyObject | undefined;
  const publicRaw = x25519PublicOf(copy, () => (key = rawKey("X25519", "private", copy)));
  return new X25519Key("private", copy, key, publicRaw);
}

function importPrivate(raw: Uint8Array): X25519Key {
  if (raw.byteLength !== 32) throw new CryptoError("X25519 private key must be 32 bytes");
  return keyCache.getOrAdd("priv:" + bytesKey(raw), () => parsePrivate(raw));
}

function asKey(k: PublicKey | PrivateKey, type: "public" | "private"): X25519Key {
  if (!(k instanceof X25519Key) || k.type !== type) {
    throw new CryptoError(`expected an X25519 ${type} key from the node provider`);
  }
  return k;
}

function decap(s: HpkeSuite, enc: Uint8Array, skR: X25519Key): Uint8Array {
  // x25519Raw refuses an enc of another size (a CryptoError) before any key is parsed
  const dh = x25519Raw(skR.raw, enc, () => skR.key, () => importPublic(enc).key);
  const shared = kemSharedSecret(s, dh, enc, skR.publicRaw);
  dh.fill(0);
  return shared;
}

function exportFrom(s: HpkeSuite, exporterSecret: Uint8Array, exporterContext: Uint8Array, length: number): Uint8Array {
  if (exporterContext.byteLength > HPKE_INPUT_LENGTH_LIMIT) throw new CryptoError("Too long exporter context");
  return labeledExpand(s.hash, s.hpkeId, exporterSecret, LABELS.sec, exporterContext, length);
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
 * This thread's seal helper, shared by every suite (started on the first large batch).
 * Exported for tests, which check that large batches really take the helper path.
 *
 * @example
 * ```ts
 * nodeHpkeSealHelper.answered; // batches the helper thread has sealed
 * ```
 */
export const nodeHpkeSealHelper = new SealHelper();
const helper = nodeHpkeSealHelper;

interface QueuedSeal extends RemoteSealJob {
  readonly pk: X25519Key;
  readonly resolve: (sealed: Sealed) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Seals as batches: every seal asked for before the event loop turns (ts-mls starts a commit's
 * seals all at once) is sealed together, a large batch split between this thread and the
 * helper thread (hpkeSealer.ts).
 */
function sealQueue(s: HpkeSuite, alg: HpkeAlgorithm): (q: QueuedSeal) => void {
  let queue: QueuedSeal[] = [];
  const sealHere = (batch: readonly QueuedSeal[]) => settle(batch, sealEach(s, batch, (q) => q.pk.key));
  const settle = (batch: readonly QueuedSeal[], outcomes: readonly SealOutcome[]): void => {
    if (outcomes.length !== batch.length) return sealHere(batch);
    batch.forEach((q, i) => {
      const o = outcomes[i] as SealOutcome;
      if ("error" in o) q.reject(new CryptoError(o.error));
      else q.resolve({ enc: o.enc, ct: o.ct });
    });
  };
  const flush = async () => {
    const all = queue;
    queue = [];
    // only a batch to the keys being prepared waits (not another group's commit in this thread)
    const waitFor = preparing(all.map((q) => q.pk.raw));
    if (waitFor !== undefined) await waitFor;
    // seals with an encapsulation made ahead need only their key schedule and AEAD: here
    const batch: QueuedSeal[] = [];
    for (const q of all) {
      try {
        const sealed = sealPrepared(s, q.pk.raw, q.context, q.aad, q.plaintext);
        if (sealed === undefined) batch.push(q);
        else q.resolve(sealed);
      } catch (error) {
        q.reject(error instanceof CryptoError ? error : new CryptoError(`${error}`));
      }
    }
    let here = batch;
    if (batch.length >= HPKE_SEAL_OFFLOAD_MIN) {
      if (helper.ready) {
        const cut = Math.floor(batch.length * HPKE_SEAL_HELPER_SHARE);
        const away = batch.slice(0, cut);
        here = batch.slice(cut);
        const jobs = away.map((q) => ({ publicRaw: q.pk.raw, plaintext: q.plaintext, context: q.context, aad: q.aad }));
        // a helper that fails leaves its part to this thread: the seals never depend on it
        helper.seal(alg, jobs).then(
          (outcomes) => settle(away, outcomes),
          () => sealHere(away),
        );
      } else helper.start();
    }
    sealHere(here);
  };
  return (q) => {
    queue.push(q);
    if (queue.length === 1) setImmediate(() => void flush());
  };
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
export function makeNodeHpke(alg: HpkeAlgorithm): Hpke & PreparesSeals {
  if (!nodeHpkeSupports(alg)) throw new CryptoError(`node HPKE does not implement ${alg.kem}`);
  const s = makeHpkeSuite(alg);
  const pub = (k: X25519Key) => k as unknown as PublicKey;
  const priv = (k: X25519Key) => k as unknown as PrivateKey;
  const pair = (sk: X25519Key) => ({ privateKey: priv(sk), publicKey: pub(importPublic(sk.publicRaw)) });
  const contextFor = (info: Uint8Array): Uint8Array => {
    if (info.byteLength > HPKE_INFO_LENGTH_LIMIT) throw new CryptoError("Too long info");
    return baseContext(s, info);
  };
  // A commit seals every path secret with the same info (label and group context), and a Welcome
  // every new member's secrets: the schedule context, which depends on info alone, is kept for
  // the last info sealed to.
  let last: { readonly info: Uint8Array; readonly context: Uint8Array } | undefined;
  const contextOf = (info: Uint8Array): Uint8Array => {
    // an info over the limit never equals the last (which passed it): contextFor refuses it
    if (last !== undefined && last.info.length === info.length && Buffer.from(last.info.buffer, last.info.byteOffset, last.info.length).equals(info)) return last.context;
    last = { info: fresh(info), context: contextFor(info) };
    return last.context;
  };
  // An open (or an export) uses its info once, not through that cache: a joiner's is the
  // Welcome's whole encrypted GroupInfo (720 KB at 1000 members), which the cache would copy and keep.
  const keySchedule = (shared: Uint8Array, info: Uint8Array) => keyScheduleOf(s, shared, contextFor(info));
  const enqueue = sealQueue(s, alg);
  return {
    // The context is taken from `info` at once, so no queued seal holds its info (a Welcome's
    // is the whole encrypted GroupInfo, sealed to every new member at once: N queued copies
    // would be O(N^2) bytes).
    seal(publicKey, plaintext, info, aad) {
      return new Promise<Sealed>((resolve, reject) => {
        const pk = asKey(publicKey, "public");
        enqueue({ pk, publicRaw: pk.raw, plaintext, context: contextOf(info), aad, resolve, reject });
      });
    },
    async open(privateKey, kemOutput, ciphertext, info, aad) {
      return wrap(() => {
        const ks = keySchedule(decap(s, kemOutput, asKey(privateKey, "private")), info);
        return s.aead.open(ks.key(), ks.nonce(), aad, ciphertext);
      });
    },
    async exportSecret(publicKey, exporterContext, length, info) {
      return wrap(() => {
        const pk = asKey(publicKey, "public");
        const { enc, shared } = encap(s, pk.raw, () => pk.key);
        return { enc, secret: exportFrom(s, keySchedule(shared, info).exporter(), exporterContext, length) };
      });
    },
    async importSecret(privateKey, exporterContext, kemOutput, length, info) {
      return wrap(() => {
        const shared = decap(s, kemOutput, asKey(privateKey, "private"));
        return exportFrom(s, keySchedule(shared, info).exporter(), exporterContext, length);
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
      const prk = labeledExtract("SHA-256", s.kemId, EMPTY, LABELS.dkpPrk, ikm);
      return pair(importPrivate(labeledExpand("SHA-256", s.kemId, prk, LABELS.sk, EMPTY, 32)));
    },
    async generateKeyPair() {
      return pair(parsePrivate(randomFillSync(new Uint8Array(32))));
    },
    keyLength: s.aead.keyLength,
    nonceLength: s.aead.nonceLength,
    prepareSeals: (recipients) => prepareSeals(helper, recipients),
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
