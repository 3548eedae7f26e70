/**
 * Ed25519 verification (RFC 8032 5.1.7) for document and MLS signatures, with one acceptance
 * rule whichever code runs it.
 *
 * Why libsodium: one verification costs ~45 us on this project's 2-core machines against ~80 us
 * for node:crypto's (a key import and OpenSSL's check), and a joiner at 1000 members checks 1000
 * leaves, an owner adding 999 checks 1998 signatures, a node materialising many groups three
 * documents a group (bench/results/NOTES.md, session 24). It comes prebuilt with sodium-native;
 * where that does not load (a platform without a prebuild, a bundle without the addon),
 * node:crypto verifies instead, and libuv's pool (node:crypto's callback form) takes long runs.
 *
 * The rule is libsodium's `crypto_sign_verify_detached`: S < L, R and A not of small order, A a
 * canonical encoding (y < p), then the cofactorless equation. OpenSSL checks S < L but accepts
 * small-order R and A, so the node:crypto paths check the rest first: every path answers the
 * same for every input (test/ed25519-verify.test.ts). A small-order key lets anyone forge its
 * signatures, so no document author or MLS leaf may use one.
 *
 * @module
 */
import { createPublicKey, verify as nodeVerify, type KeyObject } from "node:crypto";
import { ED25519_SODIUM_MAX_BYTES } from "./constants.js";
import { LruCache } from "./mls/crypto/lru.js";
import { sodium } from "./sodium.js";
import { stage, unstage } from "./staging.js";

/**
 * Which code checks Ed25519 signatures on this thread (and, from the same load of sodium-native,
 * makes them, src/ed25519Sign.ts, and computes HPKE's X25519, src/mls/crypto/x25519.ts).
 *
 * @example
 * ```ts
 * ed25519Backend() === Ed25519Backend.Libsodium; // true where sodium-native's prebuild loads
 * ```
 */
export const Ed25519Backend = { Libsodium: "libsodium", Node: "node:crypto" } as const;
/** One of {@link Ed25519Backend}'s values. @example `const b: Ed25519Backend = ed25519Backend()` */
export type Ed25519Backend = (typeof Ed25519Backend)[keyof typeof Ed25519Backend];

/**
 * The backend {@link verifyEd25519Sync} uses here; signing and HPKE's X25519 use the same one.
 *
 * @example
 * ```ts
 * console.log(ed25519Backend()); // "libsodium"
 * ```
 */
export function ed25519Backend(): Ed25519Backend {
  return sodium === undefined ? Ed25519Backend.Node : Ed25519Backend.Libsodium;
}

// Encodings of the eight small-order points, sign bit of x masked off (libsodium's list):
// y = 0 (order 4), y = 1 (order 1), y = p - 1 (order 2), and the two y of the order-8 points.
// The non-canonical aliases (y = p, p + 1) are refused by the y < p check or the encoding compare.
const SMALL_ORDER_Y: readonly Uint8Array[] = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
].map((h) => Uint8Array.from(Buffer.from(h, "hex")));

// compared byte by byte: a joiner asks this twice for each of its N leaves (key and R)
function hasSmallOrder(point: Uint8Array): boolean {
  return SMALL_ORDER_Y.some((y) => {
    for (let i = 0; i < 31; i++) if (point[i] !== y[i]) return false;
    return (point[31]! & 0x7f) === y[31];
  });
}

function isCanonicalY(point: Uint8Array): boolean {
  // y >= p = 2^255 - 19: top byte 0x7f (sign masked), bytes 30..1 all 0xff, low byte >= 0xed
  if ((point[31]! & 0x7f) !== 0x7f || point[0]! < 0xed) return true;
  for (let i = 1; i < 31; i++) if (point[i] !== 0xff) return true;
  return false;
}

// L = 2^252 + 27742317777372353535851937790883648493, little-endian
const L = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

function isCanonicalS(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) if (s[i] !== L[i]) return s[i]! < L[i]!;
  return false; // S = L
}

/**
 * True when `publicKey` is 32 bytes, a canonical encoding (y < p) and not of small order.
 * (Whether it is on the curve at all is left to verification, which fails for such keys.)
 *
 * @example
 * ```ts
 * isAcceptablePublicKey(new Uint8Array(32)) // false: y = 0 is a point of order 4
 * ```
 */
export function isAcceptablePublicKey(publicKey: Uint8Array): boolean {
  return publicKey.length === 32 && isCanonicalY(publicKey) && !hasSmallOrder(publicKey);
}

/**
 * The checks of libsodium's rule that OpenSSL leaves out (sizes, an acceptable key, R not of small
 * order; S < L, which OpenSSL checks as well): every path that verifies on OpenSSL (node:crypto
 * here, the addon's shared runs, src/mls/crypto/verifyRun.ts) asks this first.
 *
 * @example
 * ```ts
 * passesEd25519Rule(new Uint8Array(32), signature); // false: the key has small order
 * ```
 */
export function passesEd25519Rule(publicKey: Uint8Array, signature: Uint8Array): boolean {
  return signature.length === 64 && isAcceptablePublicKey(publicKey) && !hasSmallOrder(signature) && isCanonicalS(signature.subarray(32));
}

// Parsed node:crypto keys by their bytes: importing one costs as much as a check.
const publicCache = new LruCache<string, KeyObject>(4096);

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString("base64url");
  // JWK import measured twice as fast as SPKI DER import on Node 20.
  return publicCache.getOrAdd(x, () => createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" }));
}

/**
 * {@link verifyEd25519Sync} on node:crypto, on this thread, whatever the backend (the fallback,
 * and the reference the agreement test holds libsodium to).
 *
 * @example
 * ```ts
 * verifyEd25519Node(publicKey, message, signature); // true or false, never throws
 * ```
 */
export function verifyEd25519Node(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!passesEd25519Rule(publicKey, signature)) return false;
  try {
    return nodeVerify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false; // not a point on the curve
  }
}

/**
 * Verifies an Ed25519 signature on this thread under the module's rule; false for any bad input
 * (wrong sizes, unacceptable key or R, S >= L, wrong signature), never throws. Messages over
 * `ED25519_SODIUM_MAX_BYTES` go to node:crypto, whose SHA-512 is faster.
 *
 * @example
 * ```ts
 * verifyEd25519Sync(publicKey, message, signature); // true
 * ```
 */
export function verifyEd25519Sync(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (sodium === undefined || message.length > ED25519_SODIUM_MAX_BYTES) return verifyEd25519Node(publicKey, message, signature);
  if (publicKey.length !== 32 || signature.length !== 64) return false; // libsodium throws on other sizes
  // small arguments staged off V8's heap (src/staging.ts)
  try {
    return sodium.crypto_sign_verify_detached(stage(signature), stage(message), stage(publicKey));
  } finally {
    unstage();
  }
}

/**
 * {@link verifyEd25519Sync}'s answer from libuv's thread pool (node:crypto's callback form), for
 * a large message or a long run of checks that another core can take; never rejects.
 *
 * @example
 * ```ts
 * await verifyEd25519OnPool(publicKey, message, signature); // true
 * ```
 */
export function verifyEd25519OnPool(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (!passesEd25519Rule(publicKey, signature)) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      nodeVerify(null, message, publicKeyObject(publicKey), signature, (error, ok) => resolve(error === null && ok));
    } catch {
      resolve(false);
    }
  });
}
