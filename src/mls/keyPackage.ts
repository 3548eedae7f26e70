/**
 * MLS key packages for p2panda identities: the basic credential identity and the signature
 * key are both the identity's Ed25519 public key.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { defaultCapabilities, generateKeyPackageWithKey, getCiphersuiteFromName } from "ts-mls";
import type { CiphersuiteName, KeyPackage } from "ts-mls";
import { encodeKeyPackage } from "ts-mls/keyPackage.js";
import { ErrorCode, ValidationError } from "../errors.js";
import { equalBytes } from "../bytes.js";
import { isAcceptablePublicKey } from "../ed25519Verify.js";
import { Writer } from "../codec/tls.js";
import { decodeKeyPackageBytes, encodeMlsMessageBytes } from "./codec.js";
import { guard, guardSync } from "./errors.js";
import { getSuite, isMlsCiphersuiteName, usesEd25519 } from "./suite.js";
import type { ProviderName } from "./suite.js";

/** An Ed25519 key pair: `secretKey` is the 32-byte seed. @example `const id: MlsIdentity = generateIdentity()` */
export interface MlsIdentity {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** What {@link generateMlsKeyPackage} returns: the public package and its private keys. @example `const { keyPackage } = await generateMlsKeyPackage(id, suite, "node", defaultLifetime)` */
export interface GeneratedKeyPackage {
  /** MLSMessage-encoded KeyPackage, what gets published. */
  readonly keyPackage: Uint8Array;
  readonly initPrivateKey: Uint8Array;
  readonly hpkePrivateKey: Uint8Array;
}

/**
 * Throws `UNSUPPORTED_CIPHERSUITE` unless the MLS ciphersuite signs with Ed25519.
 *
 * @example
 * ```ts
 * assertIdentityCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519")
 * ```
 */
export function assertIdentityCiphersuite(name: CiphersuiteName): void {
  let ok = false;
  try {
    ok = usesEd25519(name);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new ValidationError(ErrorCode.UnsupportedCiphersuite, `MLS ciphersuite ${String(name)} does not sign with Ed25519`);
  }
}

/**
 * Generates a key package whose credential and signature key are `identity.publicKey`.
 *
 * @example
 * ```ts
 * const kp = await generateMlsKeyPackage(identity, "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", "default", lifetime)
 * ```
 */
export async function generateMlsKeyPackage(
  identity: MlsIdentity,
  ciphersuite: CiphersuiteName,
  provider: ProviderName,
  lifetime: { notBefore: bigint; notAfter: bigint },
): Promise<GeneratedKeyPackage> {
  assertIdentityCiphersuite(ciphersuite);
  const cs = await getSuite(ciphersuite, provider);
  const { publicPackage, privatePackage } = await guard(ErrorCode.Internal, "generating key package", () =>
    generateKeyPackageWithKey(
      { credentialType: "basic", identity: identity.publicKey },
      defaultCapabilities(),
      lifetime,
      [],
      { signKey: identity.secretKey, publicKey: identity.publicKey },
      cs,
    ),
  );
  return {
    keyPackage: encodeMlsMessageBytes({ version: "mls10", wireformat: "mls_key_package", keyPackage: publicPackage }),
    initPrivateKey: privatePackage.initPrivateKey,
    hpkePrivateKey: privatePackage.hpkePrivateKey,
  };
}

const HASH_OF: Record<string, string> = { "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };

/**
 * KeyPackageRef (RFC 9420 section 5.2): `RefHash("MLS 1.0 KeyPackage Reference", KeyPackage)`
 * with the package's ciphersuite hash, computed synchronously.
 *
 * @example
 * ```ts
 * const ref = keyPackageRef(decodeKeyPackageBytes(bytes))
 * ```
 */
export function keyPackageRef(kp: KeyPackage): Uint8Array {
  const hashName = refHashName(kp);
  const encoded = guardSync(ErrorCode.InvalidKeyPackage, "encoding key package", () => encodeKeyPackage(kp));
  const input = new Writer().opaque(new TextEncoder().encode("MLS 1.0 KeyPackage Reference")).opaque(encoded).finish();
  return new Uint8Array(createHash(hashName).update(input).digest());
}

/** The hash of `kp`'s ciphersuite; `UNSUPPORTED_CIPHERSUITE` when it has none we know. */
function refHashName(kp: KeyPackage): string {
  // a decoded key package may name any ciphersuite number (found by fuzzing): refuse it typed
  if (!isMlsCiphersuiteName(kp.cipherSuite)) throw new ValidationError(ErrorCode.UnsupportedCiphersuite, `unknown MLS ciphersuite ${String(kp.cipherSuite)}`);
  const hashName = HASH_OF[getCiphersuiteFromName(kp.cipherSuite).hash];
  if (hashName === undefined) throw new ValidationError(ErrorCode.UnsupportedCiphersuite, `no hash for ${kp.cipherSuite}`);
  return hashName;
}

/**
 * {@link summarizeKeyPackage}'s checks and facts without the ref: the same errors (but for a
 * decoded package that cannot be encoded again, which the ref's hash would refuse), without
 * re-encoding and hashing the package, which costs more than decoding it (an owner's engine
 * checks 999 key package documents before an add that needs no ref).
 *
 * @example
 * ```ts
 * const { publicKey, notAfter } = checkAddableKeyPackage(bytes)
 * ```
 */
export function checkAddableKeyPackage(bytes: Uint8Array): DecodedKeyPackage {
  const decoded = decodeAddableKeyPackage(bytes);
  refHashName(decoded.keyPackage);
  return decoded;
}

/** Public facts about a key package. @example `summarizeKeyPackage(bytes).publicKey` */
export interface KeyPackageSummary {
  /** Credential identity (= signature key = p2panda public key). */
  readonly publicKey: Uint8Array;
  readonly ref: Uint8Array;
  readonly notBefore: bigint;
  readonly notAfter: bigint;
  readonly ciphersuite: CiphersuiteName;
}

/**
 * Decodes an MLSMessage-encoded key package and summarises it. Throws `DECODE_ERROR` on bad
 * bytes and `INVALID_KEY_PACKAGE` when the credential is not the signature key or that key
 * has small order or a non-canonical encoding.
 *
 * @example
 * ```ts
 * const { publicKey, ref } = summarizeKeyPackage(bytes)
 * ```
 */
export function summarizeKeyPackage(bytes: Uint8Array): KeyPackageSummary {
  const decoded = decodeAddableKeyPackage(bytes);
  const { keyPackage, ...facts } = decoded;
  return { ...facts, ref: keyPackageRef(keyPackage) };
}

/** A decoded key package with its public facts (the summary without the ref), for `mlsCommit`. @example `const d: DecodedKeyPackage = decodeAddableKeyPackage(bytes)` */
export interface DecodedKeyPackage extends Omit<KeyPackageSummary, "ref"> {
  readonly keyPackage: KeyPackage;
}

/**
 * Decodes an MLSMessage-encoded key package once for an add: the same checks as
 * {@link summarizeKeyPackage}, without the ref (an add does not need it), keeping the decoded
 * package so the commit does not decode it again. `DECODE_ERROR`, `INVALID_KEY_PACKAGE`.
 *
 * @example
 * ```ts
 * const { publicKey, keyPackage } = decodeAddableKeyPackage(bytes)
 * ```
 */
export function decodeAddableKeyPackage(bytes: Uint8Array): DecodedKeyPackage {
  const kp = decodeKeyPackageBytes(bytes);
  const cred = kp.leafNode.credential;
  if (cred.credentialType !== "basic" || !equalBytes(cred.identity, kp.leafNode.signaturePublicKey) || cred.identity.length !== 32) {
    throw new ValidationError(ErrorCode.InvalidKeyPackage, "key package credential is not its Ed25519 signature key");
  }
  // a small-order key's signatures anyone can forge (OpenSSL accepts them; ed25519Verify.ts does not)
  if (!isAcceptablePublicKey(cred.identity)) {
    throw new ValidationError(ErrorCode.InvalidKeyPackage, "key package signature key has small order or is not canonical");
  }
  const lifetime = kp.leafNode.leafNodeSource === "key_package" ? kp.leafNode.lifetime : { notBefore: 0n, notAfter: 0n };
  return {
    keyPackage: kp,
    publicKey: cred.identity,
    notBefore: lifetime.notBefore,
    notAfter: lifetime.notAfter,
    ciphersuite: kp.cipherSuite,
  };
}
