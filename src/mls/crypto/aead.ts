/**
 * AES-GCM and ChaCha20-Poly1305 for ts-mls on `node:crypto`.
 *
 * Why: every MLS private message and every HPKE ciphertext goes through here; the
 * default provider imports a WebCrypto key per call (AES-GCM) or runs pure JS
 * (`@noble/ciphers`, ChaCha20-Poly1305). Where the package's AEAD addon is built
 * (src/nativeAead.ts), AES-128/256-GCM and ChaCha20-Poly1305 with 12-byte nonces go through it:
 * the same OpenSSL without a cipher object per call (~0.5 against ~4.5 us a small message).
 *
 * Output layout is ciphertext || 16-byte tag, as RFC 5116 and both default backends use.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from "node:crypto";
import type { AeadAlgorithm } from "ts-mls/crypto/aead.js";
import { nativeAead, suiteId } from "../../nativeAead.js";
import { stage, stageOutput, takeOutput, unstage } from "../../staging.js";

const TAG = 16;
const NONCE = 12;
const EMPTY = new Uint8Array(0);

// the addon's numbers of the same AEADs (the long-term suites' wire values)
const AES_128_GCM = suiteId("PANDA10_AES128GCM");
const AES_256_GCM = suiteId("PANDA10_AES256GCM");
const CHACHA20_POLY1305 = suiteId("PANDA10_CHACHA20POLY1305");

/** The addon's suite for an AES-GCM key length (AES-192 has none: node:crypto then). */
function gcmSuite(key: Uint8Array): number | undefined {
  return key.byteLength === 16 ? AES_128_GCM : key.byteLength === 32 ? AES_256_GCM : undefined;
}

/** Seals with the addon, or undefined where it does not serve these sizes. */
function nativeSeal(suite: number | undefined, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array | undefined, plaintext: Uint8Array): Uint8Array | undefined {
  if (nativeAead === undefined || suite === undefined || nonce.byteLength !== NONCE) return undefined;
  // small arguments and outputs staged off V8's heap (src/staging.ts)
  try {
    const out = stageOutput(plaintext.byteLength + TAG);
    nativeAead.seal(suite, stage(key), stage(nonce), stage(plaintext), stage(aad ?? EMPTY), out, 0);
    return takeOutput(out);
  } finally {
    unstage();
  }
}

/** Opens with the addon (throwing as node:crypto's final() does on a bad tag), or undefined where it does not serve these sizes. */
function nativeOpen(suite: number | undefined, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array | undefined, ciphertext: Uint8Array): Uint8Array | undefined {
  if (nativeAead === undefined || suite === undefined || nonce.byteLength !== NONCE) return undefined;
  try {
    const out = stageOutput(ciphertext.byteLength - TAG);
    // the addon checks the tag before it returns and wipes what it wrote when it fails
    if (!nativeAead.open(suite, stage(key), stage(nonce), stage(ciphertext), 0, ciphertext.byteLength, stage(aad ?? EMPTY), out, 0)) throw new Error("Unsupported state or unable to authenticate data");
    return takeOutput(out);
  } finally {
    unstage();
  }
}

/**
 * Synchronous AEAD with ts-mls's argument order (key, nonce, aad, data).
 *
 * @example
 * ```ts
 * const aead: NodeAead = makeNodeAead("CHACHA20POLY1305");
 * aead.open(key, nonce, aad, aead.seal(key, nonce, aad, pt)); // pt
 * ```
 */
export interface NodeAead {
  readonly keyLength: number;
  readonly nonceLength: number;
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array | undefined, plaintext: Uint8Array): Uint8Array;
  /** Throws on a bad tag or a ciphertext shorter than the tag. */
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array | undefined, ciphertext: Uint8Array): Uint8Array;
}

// WebCrypto's "AES-GCM" picks AES-128/192/256 from the key length, whatever the suite
// says; do the same so the two providers accept exactly the same keys.
function gcmName(key: Uint8Array): CipherGCMTypes {
  switch (key.byteLength) {
    case 16:
      return "aes-128-gcm";
    case 24:
      return "aes-192-gcm";
    case 32:
      return "aes-256-gcm";
    default:
      throw new RangeError(`invalid AES-GCM key length ${key.byteLength}`);
  }
}

function join(body: Uint8Array, tail: Uint8Array, tag: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + tail.byteLength + tag.byteLength);
  out.set(body, 0);
  out.set(tail, body.byteLength);
  out.set(tag, body.byteLength + tail.byteLength);
  return out;
}

function joinPlain(body: Uint8Array, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + tail.byteLength);
  out.set(body, 0);
  out.set(tail, body.byteLength);
  return out;
}

/**
 * AES-GCM (key length picks 128/192/256), 16-byte tag appended.
 *
 * @example
 * ```ts
 * const ct = aesGcm.seal(key16, nonce12, aad, plaintext);
 * aesGcm.open(key16, nonce12, aad, ct); // plaintext
 * ```
 */
const aesGcm: Omit<NodeAead, "keyLength" | "nonceLength"> = {
  seal(key, nonce, aad, plaintext) {
    const sealed = nativeSeal(gcmSuite(key), key, nonce, aad, plaintext);
    if (sealed !== undefined) return sealed;
    const c = createCipheriv(gcmName(key), key, nonce, { authTagLength: TAG });
    if (aad !== undefined && aad.byteLength > 0) c.setAAD(aad);
    const body = c.update(plaintext);
    return join(body, c.final(), c.getAuthTag());
  },
  open(key, nonce, aad, ciphertext) {
    if (ciphertext.byteLength < TAG) throw new RangeError("ciphertext shorter than the tag");
    const opened = nativeOpen(gcmSuite(key), key, nonce, aad, ciphertext);
    if (opened !== undefined) return opened;
    const d = createDecipheriv(gcmName(key), key, nonce, { authTagLength: TAG });
    d.setAuthTag(ciphertext.subarray(ciphertext.byteLength - TAG));
    if (aad !== undefined && aad.byteLength > 0) d.setAAD(aad);
    const body = d.update(ciphertext.subarray(0, ciphertext.byteLength - TAG));
    return joinPlain(body, d.final());
  },
};

/**
 * ChaCha20-Poly1305 (RFC 8439): 32-byte key, 12-byte nonce, 16-byte tag appended.
 *
 * @example
 * ```ts
 * const ct = chacha20Poly1305.seal(key32, nonce12, aad, plaintext);
 * chacha20Poly1305.open(key32, nonce12, aad, ct); // plaintext
 * ```
 */
const chacha20Poly1305: Omit<NodeAead, "keyLength" | "nonceLength"> = {
  seal(key, nonce, aad, plaintext) {
    // @noble/ciphers (the default backend) insists on these sizes; OpenSSL would accept shorter nonces.
    checkChacha(key, nonce);
    const sealed = nativeSeal(CHACHA20_POLY1305, key, nonce, aad, plaintext);
    if (sealed !== undefined) return sealed;
    const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG });
    if (aad !== undefined && aad.byteLength > 0) c.setAAD(aad, { plaintextLength: plaintext.byteLength });
    const body = c.update(plaintext);
    return join(body, c.final(), c.getAuthTag());
  },
  open(key, nonce, aad, ciphertext) {
    checkChacha(key, nonce);
    if (ciphertext.byteLength < TAG) throw new RangeError("ciphertext shorter than the tag");
    const opened = nativeOpen(CHACHA20_POLY1305, key, nonce, aad, ciphertext);
    if (opened !== undefined) return opened;
    const bodyLength = ciphertext.byteLength - TAG;
    const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG });
    d.setAuthTag(ciphertext.subarray(bodyLength));
    if (aad !== undefined && aad.byteLength > 0) d.setAAD(aad, { plaintextLength: bodyLength });
    const body = d.update(ciphertext.subarray(0, bodyLength));
    return joinPlain(body, d.final());
  },
};

function checkChacha(key: Uint8Array, nonce: Uint8Array): void {
  if (key.byteLength !== 32) throw new RangeError(`invalid ChaCha20-Poly1305 key length ${key.byteLength}`);
  if (nonce.byteLength !== 12) throw new RangeError(`invalid ChaCha20-Poly1305 nonce length ${nonce.byteLength}`);
}

/**
 * The `node:crypto` AEAD for a ts-mls AEAD name, with its key and nonce sizes.
 *
 * @example
 * ```ts
 * const aead = makeNodeAead("AES128GCM"); // keyLength 16, nonceLength 12
 * ```
 */
export function makeNodeAead(alg: AeadAlgorithm): NodeAead {
  switch (alg) {
    case "AES128GCM":
      return { ...aesGcm, keyLength: 16, nonceLength: 12 };
    case "AES256GCM":
      return { ...aesGcm, keyLength: 32, nonceLength: 12 };
    case "CHACHA20POLY1305":
      return { ...chacha20Poly1305, keyLength: 32, nonceLength: 12 };
  }
}
