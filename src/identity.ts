/**
 * p2panda identities: Ed25519 key pairs. The 32-byte public key is the MLS credential
 * identity and the MLS signature key; the 32-byte secret key is the Ed25519 seed.
 *
 * @module
 */
import { randomFillSync } from "node:crypto";
import { ErrorCode, UsageError } from "./errors.js";
import { equalBytes } from "./bytes.js";
import { PUBLIC_KEY_SIZE } from "./constants.js";
import { publicKeyOfSeed } from "./documents/ed25519.js";

/**
 * An Ed25519 key pair.
 *
 * @example
 * ```ts
 * const identity: Identity = generateIdentity()
 * ```
 */
export interface Identity {
  /** 32-byte Ed25519 public key: the p2panda public key. */
  readonly publicKey: Uint8Array;
  /** 32-byte Ed25519 seed. Never leaves the process except to the store. */
  readonly secretKey: Uint8Array;
}

/**
 * Generates a fresh Ed25519 identity.
 *
 * @example
 * ```ts
 * const { publicKey, secretKey } = generateIdentity()
 * ```
 */
export function generateIdentity(): Identity {
  const secretKey = randomFillSync(new Uint8Array(PUBLIC_KEY_SIZE)); // filled in place: no second copy of the seed
  // derived (and the signer kept, for this secret key array) by src/ed25519Sign.ts: ~20 us with libsodium
  return { publicKey: publicKeyOfSeed(secretKey), secretKey };
}

/**
 * Rebuilds an identity from its 32-byte secret key.
 *
 * @example
 * ```ts
 * const same = identityFromSecretKey(identity.secretKey)
 * ```
 */
export function identityFromSecretKey(secretKey: Uint8Array): Identity {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== PUBLIC_KEY_SIZE) {
    throw new UsageError(ErrorCode.InvalidArgument, "secret key must be 32 bytes");
  }
  const copy = Uint8Array.from(secretKey);
  return { publicKey: publicKeyOfSeed(copy), secretKey: copy };
}

/**
 * Checks that `identity` is a well-formed key pair whose public key matches its secret key;
 * usage error otherwise.
 *
 * @example
 * ```ts
 * assertIdentity(identity)
 * ```
 */
export function assertIdentity(identity: unknown): asserts identity is Identity {
  const id = identity as Partial<Identity> | null;
  if (
    typeof id !== "object" ||
    id === null ||
    !(id.publicKey instanceof Uint8Array) ||
    !(id.secretKey instanceof Uint8Array) ||
    id.publicKey.length !== PUBLIC_KEY_SIZE ||
    id.secretKey.length !== PUBLIC_KEY_SIZE
  ) {
    throw new UsageError(ErrorCode.InvalidArgument, "identity must be { publicKey, secretKey } of 32 bytes each");
  }
  // derived once per secret key array (src/documents/ed25519.ts caches its signer): this runs on every worker join
  if (!equalBytes(publicKeyOfSeed(id.secretKey), id.publicKey)) {
    throw new UsageError(ErrorCode.InvalidArgument, "identity public key does not match its secret key");
  }
}
