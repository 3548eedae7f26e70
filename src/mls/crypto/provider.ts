/**
 * `nodeCryptoProvider`: a ts-mls `CryptoProvider` on synchronous `node:crypto`.
 *
 * Why: with ts-mls 1.6.4's default provider a receiver spends about 1 s on a commit in
 * a 1000-member group, nearly all of it in WebCrypto HMAC/HKDF calls that each import a
 * key and hop through a promise. This provider does the same computations with
 * `node:crypto` and gives byte-identical results (test/provider-*.test.ts proves it on
 * random inputs), so members using it and members using the default interoperate.
 *
 * What is native and what is delegated to ts-mls's `defaultCryptoProvider`:
 * - hash, HMAC, HKDF, AEAD, rng: native for every suite.
 * - signatures: native for Ed25519, Ed448, P-256, P-384, P-521; ML-DSA-87 is delegated
 *   (node 20 has no ML-DSA).
 * - HPKE: native for DHKEM(X25519, HKDF-SHA256) (suites 1 and 3); other KEMs (P-256,
 *   P-384, P-521, X448, ML-KEM, X-Wing) are delegated, except their `encryptAead` and
 *   `decryptAead`, which MLS private messages use and which stay native.
 *
 * @module
 */
import type { Ciphersuite, CiphersuiteImpl, CiphersuiteName } from "ts-mls/crypto/ciphersuite.js";
import type { CryptoProvider } from "ts-mls/crypto/provider.js";
import type { Rng } from "ts-mls/crypto/rng.js";
import { defaultCryptoProvider } from "ts-mls/crypto/implementation/default/provider.js";
import { randomFillSync } from "node:crypto";
import { makeNodeHash, makeNodeKdf } from "./hash.js";
import { makeNodeHpke, nodeAeadMethods, nodeHpkeSupports } from "./hpke.js";
import { makeNodeSignature } from "./signature.js";

/**
 * Random bytes from `node:crypto` (no 64 KiB cap, unlike `getRandomValues`).
 *
 * @example
 * ```ts
 * nodeRng.randomBytes(32).length; // 32
 * ```
 */
export const nodeRng: Rng = {
  randomBytes(n) {
    return randomFillSync(new Uint8Array(n));
  },
};

/**
 * Which parts of a suite run on `node:crypto` ("node") and which on ts-mls's default provider.
 *
 * @example
 * ```ts
 * const c: ProviderCoverage = nodeProviderCoverage(getCiphersuiteFromName("MLS_128_DHKEMP256_AES128GCM_SHA256_P256"));
 * c.hpke; // "default"
 * ```
 */
export interface ProviderCoverage {
  readonly hash: "node";
  readonly kdf: "node";
  readonly aead: "node";
  readonly signature: "node" | "default";
  readonly hpke: "node" | "default";
}

/**
 * Reports, per part, whether `nodeCryptoProvider` runs a suite natively or delegates.
 *
 * @example
 * ```ts
 * nodeProviderCoverage(getCiphersuiteFromName("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"));
 * // { hash: "node", kdf: "node", aead: "node", signature: "node", hpke: "node" }
 * ```
 */
export function nodeProviderCoverage(cs: Ciphersuite): ProviderCoverage {
  return {
    hash: "node",
    kdf: "node",
    aead: "node",
    signature: makeNodeSignature(cs.signature) === undefined ? "default" : "node",
    hpke: nodeHpkeSupports(cs.hpke) ? "node" : "default",
  };
}

async function build(cs: Ciphersuite): Promise<CiphersuiteImpl> {
  const signature = makeNodeSignature(cs.signature);
  const native = signature !== undefined && nodeHpkeSupports(cs.hpke);
  // Only load the default implementation when something is delegated.
  const fallback = native ? undefined : await defaultCryptoProvider.getCiphersuiteImpl(cs);
  return {
    hash: makeNodeHash(cs.hash),
    kdf: makeNodeKdf(cs.hpke.kdf),
    signature: signature ?? fallback!.signature,
    hpke: nodeHpkeSupports(cs.hpke)
      ? makeNodeHpke(cs.hpke)
      : { ...fallback!.hpke, ...nodeAeadMethods(cs.hpke.aead) },
    rng: nodeRng,
    name: cs.name,
  };
}

const impls = new Map<CiphersuiteName, Promise<CiphersuiteImpl>>();

/**
 * ts-mls `CryptoProvider` on `node:crypto`; pass it wherever ts-mls takes a provider.
 * Implementations are stateless apart from bounded key caches, so one per suite is
 * built and shared.
 *
 * @example
 * ```ts
 * import { getCiphersuiteFromName, getCiphersuiteImpl } from "ts-mls";
 * const impl = await getCiphersuiteImpl(
 *   getCiphersuiteFromName("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"), nodeCryptoProvider);
 * ```
 */
export const nodeCryptoProvider: CryptoProvider = {
  getCiphersuiteImpl(cs) {
    let impl = impls.get(cs.name);
    if (impl === undefined) {
      impl = build(cs);
      // A failed build (missing optional dependency) is not cached, so it can be retried.
      impl.catch(() => impls.delete(cs.name));
      impls.set(cs.name, impl);
    }
    return impl;
  },
};
