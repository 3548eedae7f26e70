/**
 * Ed25519 for document signatures: signing on `node:crypto` (measured about 15 times faster than
 * @noble/curves here; noble stays the test oracle), a private key object cached per identity's
 * secret key (WeakMap). Verification is src/ed25519Verify.ts's, re-exported: public keys are
 * refused when their encoding is not canonical (y >= p) or the point has small order, since
 * anyone can forge signatures for a small-order key, so no document may claim one as author.
 *
 * @module
 */
import { createPrivateKey, createPublicKey, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { ErrorCode, UsageError } from "../errors.js";

// Verification lives with the MLS signatures' (one acceptance rule, libsodium where it loads).
export { isAcceptablePublicKey, verifyEd25519Sync as verifyEd25519, verifyEd25519OnPool as verifyEd25519Async } from "../ed25519Verify.js";

/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/**
 * The key pair the documents layer signs with: a 32-byte Ed25519 seed and its public key
 * (the shape `generateIdentity()` returns).
 *
 * @example
 * ```ts
 * const identity: DocumentIdentity = { publicKey: publicKeyOfSeed(seed), secretKey: seed }
 * ```
 */
export interface DocumentIdentity {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

interface CachedPrivate {
  readonly key: KeyObject;
  readonly publicKey: Uint8Array;
}

const privateCache = new WeakMap<Uint8Array, CachedPrivate>();

function privateKeyOf(identity: DocumentIdentity): CachedPrivate {
  const cached = privateCache.get(identity.secretKey);
  if (cached !== undefined) return cached;
  if (!(identity.secretKey instanceof Uint8Array) || identity.secretKey.length !== 32) {
    throw new UsageError(ErrorCode.InvalidArgument, "identity.secretKey must be a 32-byte Ed25519 seed");
  }
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, identity.secretKey]), format: "der", type: "pkcs8" });
  const spki = createPublicKey(key).export({ format: "der", type: "spki" });
  const entry = { key, publicKey: new Uint8Array(spki.subarray(spki.length - 32)) };
  privateCache.set(identity.secretKey, entry);
  return entry;
}

/**
 * Public key of a 32-byte Ed25519 seed.
 *
 * @example
 * ```ts
 * publicKeyOfSeed(new Uint8Array(32).fill(7)).length // 32
 * ```
 */
export function publicKeyOfSeed(secretKey: Uint8Array): Uint8Array {
  return privateKeyOf({ publicKey: new Uint8Array(0), secretKey }).publicKey;
}

/**
 * Signs `message` with the identity; throws a usage error when its public key does not belong
 * to its secret key (a document signed that way could never verify).
 *
 * @example
 * ```ts
 * const signature = signEd25519(identity, bytes) // 64 bytes
 * ```
 */
export function signEd25519(identity: DocumentIdentity, message: Uint8Array): Uint8Array {
  const { key, publicKey } = privateKeyOf(identity);
  if (!(identity.publicKey instanceof Uint8Array) || !Buffer.from(publicKey).equals(identity.publicKey)) {
    throw new UsageError(ErrorCode.InvalidArgument, "identity.publicKey does not match identity.secretKey");
  }
  return new Uint8Array(sign(null, message, key));
}
