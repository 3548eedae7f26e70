/**
 * X25519 (RFC 7748) for DHKEM(X25519, HKDF-SHA256): libsodium's on raw bytes where sodium-native
 * loads (src/sodium.ts), else node:crypto's on KeyObjects.
 *
 * Why libsodium: an Encap (a one-time key, its public key, the DH) costs ~56-65 us there against
 * ~74-115 us on node:crypto, which imports the one-time key and, unless cached, the recipient's
 * (bench/results/NOTES.md, session 25); an owner's commit at 1000 members makes 999 Encaps, an
 * add of 999 members 1998. Both refuse exactly the small-order public keys (RFC 9180 7.1.4):
 * libsodium before the multiplication, node:crypto by the all-zero output
 * (test/provider-x25519.test.ts holds the two to the same answers).
 *
 * @module
 */
import { diffieHellman, randomBytes, type KeyObject } from "node:crypto";
import { CryptoError } from "ts-mls/mlsError.js";
import { sodium } from "../../sodium.js";
import { stage, stageOutput, takeOutput, unstage } from "../../staging.js";
import { owned } from "./lru.js";
import { importedPublicOf, rawKey } from "./rawKey.js";

const KEY_SIZE = 32; // Nsk and Npk of DHKEM(X25519, HKDF-SHA256), RFC 9180 7.1
const ALL_ZERO = "X25519 produced the all-zero value";

/**
 * Which code computes X25519 on this thread: "libsodium" where sodium-native loads, else
 * "node:crypto".
 *
 * @example
 * ```ts
 * x25519Backend(); // "libsodium"
 * ```
 */
export function x25519Backend(): "libsodium" | "node:crypto" {
  return sodium === undefined ? "node:crypto" : "libsodium";
}

/**
 * X25519 on node:crypto KeyObjects, rejecting the all-zero output (RFC 9180 section 7.1.4: a
 * small-order point) with a CryptoError, as libsodium's path does.
 *
 * @example
 * ```ts
 * const z = x25519(skE, pkR);
 * ```
 */
export function x25519(privateKey: KeyObject, publicKey: KeyObject): Uint8Array {
  let out: Uint8Array;
  try {
    out = owned(diffieHellman({ privateKey, publicKey }));
  } catch (e) {
    // OpenSSL 3 refuses the all-zero output itself (ERR_OSSL_FAILED_DURING_DERIVATION)
    throw new CryptoError(`${ALL_ZERO} (${(e as Error).message})`);
  }
  let acc = 0;
  for (const b of out) acc |= b;
  if (acc === 0) throw new CryptoError(ALL_ZERO);
  return out;
}

/**
 * X25519(secret, publicRaw) from raw keys, refusing a small-order public key: libsodium's where
 * it loads, else {@link x25519} on the KeyObjects `secretKey` and `publicKey` give (parsed only
 * then, so callers may keep them cached).
 *
 * @example
 * ```ts
 * const dh = x25519Raw(skRaw, pkRaw, () => rawKey("X25519", "private", skRaw), () => rawKey("X25519", "public", pkRaw));
 * ```
 */
export function x25519Raw(secret: Uint8Array, publicRaw: Uint8Array, secretKey: () => KeyObject, publicKey: () => KeyObject): Uint8Array {
  if (secret.byteLength !== KEY_SIZE) throw new CryptoError("X25519 private key must be 32 bytes");
  if (publicRaw.byteLength !== KEY_SIZE) throw new CryptoError("X25519 public key must be 32 bytes");
  if (sodium === undefined) return x25519(secretKey(), publicKey());
  // arguments and output staged off V8's heap (src/staging.ts)
  try {
    const out = stageOutput(KEY_SIZE);
    sodium.crypto_scalarmult(out, stage(secret), stage(publicRaw));
    return takeOutput(out);
  } catch {
    throw new CryptoError(ALL_ZERO); // libsodium refuses a small-order point, whose output would be zero
  } finally {
    unstage();
  }
}

/**
 * The public key of a raw X25519 private key, X25519(secret, 9): libsodium's where it loads, else
 * read back from the KeyObject `secretKey` gives (OpenSSL computed it at the import).
 *
 * @example
 * ```ts
 * const publicRaw = x25519PublicOf(secret, () => rawKey("X25519", "private", secret));
 * ```
 */
export function x25519PublicOf(secret: Uint8Array, secretKey: () => KeyObject): Uint8Array {
  if (secret.byteLength !== KEY_SIZE) throw new CryptoError("X25519 private key must be 32 bytes");
  if (sodium === undefined) return importedPublicOf(secretKey());
  try {
    const out = stageOutput(KEY_SIZE);
    sodium.crypto_scalarmult_base(out, stage(secret));
    return takeOutput(out);
  } finally {
    unstage();
  }
}

/** A one-time X25519 key pair: the private KeyObject and the raw public key (the KEM output). @example `const e: Ephemeral = ephemeralKeyPair()` */
export interface Ephemeral {
  readonly privateKey: KeyObject;
  readonly publicRaw: Uint8Array;
}

/**
 * A fresh one-time X25519 key pair on node:crypto (its path of {@link encapDh}).
 *
 * @example
 * ```ts
 * const { privateKey, publicRaw } = ephemeralKeyPair();
 * ```
 */
export function ephemeralKeyPair(): Ephemeral {
  // 32 random bytes imported (RFC 9180 7.1.3: any 32 bytes are an X25519 private key), whose public
  // key OpenSSL computes as it imports: one scalar multiplication where generateKeyPairSync and
  // then X25519(sk, 9) took two (63-73 against 31-34 us a pair, session 23; one pair a seal, 999 a
  // seal of an owner's update path at 1000 members)
  const secret = randomBytes(KEY_SIZE);
  const pair = importedEphemeral(secret);
  secret.fill(0); // the KeyObject holds it now; one copy fewer on the heap
  return pair;
}

function importedEphemeral(secret: Uint8Array): Ephemeral {
  const privateKey = rawKey("X25519", "private", secret);
  return { privateKey, publicRaw: importedPublicOf(privateKey) };
}

const noKeyObject = (): never => {
  throw new CryptoError("X25519: no KeyObject on the libsodium path");
};

/**
 * The DH half of an Encap (RFC 9180 4.1) to `publicRaw`: a fresh one-time key pair, or
 * `ephemeralSecret`'s (known-answer tests only: RFC 9180 requires a fresh key per Encap); its
 * public key (the KEM output `enc`) and X25519(skE, pkR). node:crypto's path parses the
 * recipient's KeyObject from `publicKey`, only then.
 *
 * @example
 * ```ts
 * const { enc, dh } = encapDh(pkRaw, () => rawKey("X25519", "public", pkRaw));
 * ```
 */
export function encapDh(publicRaw: Uint8Array, publicKey: () => KeyObject, ephemeralSecret?: Uint8Array): { readonly enc: Uint8Array; readonly dh: Uint8Array } {
  if (sodium === undefined) {
    const e = ephemeralSecret === undefined ? ephemeralKeyPair() : importedEphemeral(ephemeralSecret);
    return { enc: e.publicRaw, dh: x25519(e.privateKey, publicKey()) };
  }
  const secret = ephemeralSecret ?? randomBytes(KEY_SIZE);
  try {
    return { enc: x25519PublicOf(secret, noKeyObject), dh: x25519Raw(secret, publicRaw, noKeyObject, noKeyObject) };
  } finally {
    if (ephemeralSecret === undefined) secret.fill(0);
  }
}
