/**
 * Key packages: what a p2panda node publishes so an owner can add it to a group, and the
 * private keys it keeps until it joins (then deletes them).
 *
 * @module
 */
import { DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS, DEFAULT_MLS_CIPHERSUITE } from "./constants.js";
import { Writer, decodeAll } from "./codec/tls.js";
import { DecodeError, ErrorCode, UsageError } from "./errors.js";
import { assertIdentity } from "./identity.js";
import { newKeyPackageLifetime } from "./lifetime.js";
import type { Identity } from "./identity.js";
import { generateMlsKeyPackage, summarizeKeyPackage } from "./mls/keyPackage.js";
import type { MlsKeyPackageSecret } from "./mls/group.js";
import { DEFAULT_PROVIDER, isMlsCiphersuiteName } from "./mls/suite.js";
import type { CiphersuiteName, ProviderName } from "./mls/suite.js";

/** Format version of the key package secret encoding. */
const KEY_PACKAGE_SECRET_VERSION = 1;
export { DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS };

/** Options of {@link createKeyPackage}. @example `createKeyPackage(identity, { lifetimeSeconds: 7 * 24 * 3600 })` */
export interface CreateKeyPackageOptions {
  /** MLS ciphersuite; must sign with Ed25519. Default {@link DEFAULT_MLS_CIPHERSUITE}. */
  readonly ciphersuite?: string;
  /** Seconds from now until the package expires: default and maximum {@link DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS} (84 days). */
  readonly lifetimeSeconds?: number;
  /** Crypto provider. */
  readonly provider?: ProviderName;
}

/** A key package to publish and the secret to keep (and delete after joining). @example `const { keyPackage, secret }: CreatedKeyPackage = await createKeyPackage(identity)` */
export interface CreatedKeyPackage {
  /** MLSMessage-encoded KeyPackage. */
  readonly keyPackage: Uint8Array;
  /** Versioned encoding of the key package and its private init and HPKE keys. */
  readonly secret: Uint8Array;
}

/**
 * Creates a key package for `identity` (credential and signature key = its public key).
 *
 * @example
 * ```ts
 * const { keyPackage, secret } = await createKeyPackage(identity)
 * ```
 */
export async function createKeyPackage(identity: Identity, options: CreateKeyPackageOptions = {}): Promise<CreatedKeyPackage> {
  assertIdentity(identity);
  const ciphersuite = options.ciphersuite ?? DEFAULT_MLS_CIPHERSUITE;
  if (!isMlsCiphersuiteName(ciphersuite)) throw new UsageError(ErrorCode.InvalidArgument, `unknown MLS ciphersuite ${ciphersuite}`);
  const lifetime = newKeyPackageLifetime(Date.now(), options.lifetimeSeconds ?? DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS);
  const generated = await generateMlsKeyPackage(identity, ciphersuite as CiphersuiteName, options.provider ?? DEFAULT_PROVIDER, lifetime);
  const secret = encodeKeyPackageSecret(generated);
  return { keyPackage: generated.keyPackage, secret };
}

/**
 * Encodes a key package secret: u8 version, opaque key_package<V>, opaque init_priv<V>,
 * opaque hpke_priv<V>. (The signature key is the identity's and is not stored here.)
 *
 * @example
 * ```ts
 * const bytes = encodeKeyPackageSecret({ keyPackage, initPrivateKey, hpkePrivateKey })
 * ```
 */
function encodeKeyPackageSecret(secret: MlsKeyPackageSecret): Uint8Array {
  return new Writer(256 + secret.keyPackage.length)
    .u8(KEY_PACKAGE_SECRET_VERSION)
    .opaque(secret.keyPackage)
    .opaque(secret.initPrivateKey)
    .opaque(secret.hpkePrivateKey)
    .finish();
}

/**
 * Decodes a key package secret; throws only `DECODE_ERROR`.
 *
 * @example
 * ```ts
 * const { keyPackage } = decodeKeyPackageSecret(secret)
 * ```
 */
export function decodeKeyPackageSecret(bytes: Uint8Array): MlsKeyPackageSecret {
  return decodeAll(bytes, "key package secret", (r) => {
    const version = r.u8();
    if (version !== KEY_PACKAGE_SECRET_VERSION) throw new DecodeError(`key package secret: unknown version ${version}`);
    const keyPackage = r.opaque();
    const initPrivateKey = r.opaque(1024);
    const hpkePrivateKey = r.opaque(1024);
    if (keyPackage.length === 0 || initPrivateKey.length === 0 || hpkePrivateKey.length === 0) {
      throw new DecodeError("key package secret: empty field");
    }
    return { keyPackage, initPrivateKey, hpkePrivateKey };
  });
}

/** Public facts about a key package (see {@link keyPackageInfo}). @example `keyPackageInfo(bytes).notAfter` */
export interface KeyPackageInfo {
  /** The credential identity: the p2panda public key of the package's author. */
  readonly publicKey: Uint8Array;
  /** KeyPackageRef (RFC 9420 section 5.2), what a Welcome names its new members by. */
  readonly ref: Uint8Array;
  /** Lifetime, seconds since the Unix epoch. */
  readonly notBefore: bigint;
  readonly notAfter: bigint;
}

/**
 * Reads a key package without any keys. `DECODE_ERROR` on bad bytes, `INVALID_KEY_PACKAGE`
 * when its credential is not its signature key, or that key has small order or a non-canonical
 * encoding (anyone could sign for it).
 *
 * @example
 * ```ts
 * const { publicKey, ref, notAfter } = keyPackageInfo(keyPackageBytes)
 * ```
 */
export function keyPackageInfo(keyPackage: Uint8Array): KeyPackageInfo {
  const s = summarizeKeyPackage(keyPackage);
  return { publicKey: s.publicKey, ref: s.ref, notBefore: s.notBefore, notAfter: s.notAfter };
}
