/**
 * libsodium through `sodium-native`, where its prebuild loads: Ed25519 checks
 * (src/ed25519Verify.ts) and signatures (src/ed25519Sign.ts), and HPKE's X25519
 * (src/mls/crypto/x25519.ts).
 * Where it does not load (a platform without a prebuild, a bundle without the addon) this is
 * undefined and node:crypto does the same work under the same rules; each user keeps that path
 * and a test that holds the two to the same answers.
 *
 * @module
 */
import { createRequire } from "node:module";

/**
 * The libsodium functions this project calls (sodium-native's signatures: outputs first).
 *
 * @example
 * ```ts
 * const binding: Sodium | undefined = sodium;
 * ```
 */
export interface Sodium {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  /** pk and sk (seed || pk, 64 bytes) of a 32-byte seed. */
  crypto_sign_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void;
  crypto_sign_detached(signature: Uint8Array, message: Uint8Array, sk: Uint8Array): void;
  /** q = X25519(n, 9); throws when q is all zero. */
  crypto_scalarmult_base(q: Uint8Array, n: Uint8Array): void;
  /** q = X25519(n, p); throws when p has small order (q would be all zero). */
  crypto_scalarmult(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
}

const NEEDED = ["crypto_sign_verify_detached", "crypto_sign_seed_keypair", "crypto_sign_detached", "crypto_scalarmult_base", "crypto_scalarmult"] as const;

function load(): Sodium | undefined {
  try {
    const binding = createRequire(import.meta.url)("sodium-native") as Record<string, unknown>;
    return NEEDED.every((name) => typeof binding[name] === "function") ? (binding as unknown as Sodium) : undefined;
  } catch {
    return undefined; // no prebuild for this platform: node:crypto does the work
  }
}

/**
 * The loaded libsodium binding, or undefined (node:crypto then).
 *
 * @example
 * ```ts
 * if (sodium !== undefined) sodium.crypto_scalarmult(shared, secret, publicKey);
 * ```
 */
export const sodium: Sodium | undefined = load();
