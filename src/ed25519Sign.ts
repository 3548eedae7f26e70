/**
 * Ed25519 signing (RFC 8032 5.1.6) for documents and MLS: libsodium's where sodium-native loads
 * (src/sodium.ts), else node:crypto's. Ed25519 signatures are deterministic, so both give the
 * same bytes for the same seed and message (test/ed25519-sign.test.ts, with noble as the oracle).
 *
 * Why libsodium: a signature costs ~16 us there against ~28 us on node:crypto, and making a
 * signer from a seed ~20 us against ~400-500 us for node:crypto's PKCS#8 import (noble's public
 * key derivation, which identities used, ~150 us) (bench/results/NOTES.md, session 25). A node
 * signs every document it writes; a new identity is made for every key pair a caller generates.
 *
 * @module
 */
import { sign as nodeSign, type KeyObject } from "node:crypto";
import { publicOf, rawKey } from "./mls/crypto/rawKey.js";
import { sodium } from "./sodium.js";
import { stage, stageOutput, takeOutput, unstage } from "./staging.js";

/** A seed's signing key, made once: its public key and a sign function. @example `const s: Ed25519Signer = ed25519SignerOf(seed)` */
export interface Ed25519Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/**
 * The signer of a 32-byte Ed25519 seed (the caller checks the size). It holds the expanded
 * secret key (libsodium) or a parsed KeyObject (node:crypto), made here once; keep it as long as
 * the seed is used.
 *
 * @example
 * ```ts
 * const signer = ed25519SignerOf(seed); signer.sign(message) // 64 bytes
 * ```
 */
export function ed25519SignerOf(seed: Uint8Array): Ed25519Signer {
  if (sodium === undefined) {
    return ed25519SignerOfKey(rawKey("Ed25519", "private", seed));
  }
  const binding = sodium;
  const publicKey = new Uint8Array(32);
  const secretKey = new Uint8Array(64); // seed || public key, libsodium's form
  binding.crypto_sign_seed_keypair(publicKey, secretKey, seed);
  return {
    publicKey,
    sign(message) {
      // the signature and a small message through the staging area (src/staging.ts)
      try {
        const signature = stageOutput(64);
        binding.crypto_sign_detached(signature, stage(message), secretKey);
        return takeOutput(signature);
      } finally {
        unstage();
      }
    },
  };
}

/**
 * The signer of an Ed25519 private KeyObject, on node:crypto (a PKCS#8 key given as DER, and the
 * path where sodium-native does not load).
 *
 * @example
 * ```ts
 * const signer = ed25519SignerOfKey(createPrivateKey({ key: der, format: "der", type: "pkcs8" }))
 * ```
 */
export function ed25519SignerOfKey(key: KeyObject): Ed25519Signer {
  let publicKey: Uint8Array | undefined; // exported on first use: the MLS provider never asks
  return {
    get publicKey() {
      return (publicKey ??= publicOf(key));
    },
    sign: (message) => new Uint8Array(nodeSign(null, message, key)),
  };
}
