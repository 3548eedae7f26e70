/**
 * Ed25519 for document signatures: signing by src/ed25519Sign.ts (libsodium, or node:crypto;
 * @noble/curves stays the test oracle), a signer cached per identity's secret key (WeakMap).
 * Verification is src/ed25519Verify.ts's, re-exported: public keys are refused when their
 * encoding is not canonical (y >= p) or the point has small order, since anyone can forge
 * signatures for a small-order key, so no document may claim one as author.
 *
 * @module
 */
import { ErrorCode, UsageError } from "../errors.js";
import { equalBytes } from "../bytes.js";
import { ed25519SignerOf, type Ed25519Signer } from "../ed25519Sign.js";

// Verification lives with the MLS signatures' (one acceptance rule, libsodium where it loads).
export { isAcceptablePublicKey, verifyEd25519Sync as verifyEd25519, verifyEd25519OnPool as verifyEd25519Async } from "../ed25519Verify.js";

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

const signers = new WeakMap<Uint8Array, Ed25519Signer>();

function signerOf(identity: DocumentIdentity): Ed25519Signer {
  const cached = signers.get(identity.secretKey);
  if (cached !== undefined) return cached;
  if (!(identity.secretKey instanceof Uint8Array) || identity.secretKey.length !== 32) {
    throw new UsageError(ErrorCode.InvalidArgument, "identity.secretKey must be a 32-byte Ed25519 seed");
  }
  const signer = ed25519SignerOf(identity.secretKey);
  signers.set(identity.secretKey, signer);
  return signer;
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
  return signerOf({ publicKey: new Uint8Array(0), secretKey }).publicKey;
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
  const signer = signerOf(identity);
  if (!(identity.publicKey instanceof Uint8Array) || !equalBytes(signer.publicKey, identity.publicKey)) {
    throw new UsageError(ErrorCode.InvalidArgument, "identity.publicKey does not match identity.secretKey");
  }
  return signer.sign(message);
}
