/**
 * MLS ciphersuite implementations, cached per ciphersuite and crypto provider.
 *
 * `"default"` is ts-mls' own provider (WebCrypto plus noble); `"node"` is the `node:crypto`
 * provider of `src/mls/crypto/` (added by its owner in the branch below).
 *
 * @module
 */
import { ciphersuites, defaultCryptoProvider, getCiphersuiteFromName } from "ts-mls";
import type { CiphersuiteImpl, CiphersuiteName } from "ts-mls";
import { ErrorCode, UsageError, ValidationError } from "../errors.js";
import { nodeCryptoProvider } from "./crypto/provider.js";

export type { CiphersuiteImpl, CiphersuiteName };

/** Which crypto provider runs MLS. @example `const p: ProviderName = "default"` */
export type ProviderName = "node" | "default";

/** Provider used when the caller names none. @example `getSuite(name, DEFAULT_PROVIDER)` */
export const DEFAULT_PROVIDER: ProviderName = "node";

const cache = new Map<string, Promise<CiphersuiteImpl>>();

/**
 * True when `name` is an MLS ciphersuite name ts-mls knows.
 *
 * @example
 * ```ts
 * isMlsCiphersuiteName("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519") // true
 * ```
 */
export function isMlsCiphersuiteName(name: unknown): name is CiphersuiteName {
  return typeof name === "string" && Object.prototype.hasOwnProperty.call(ciphersuites, name);
}

/**
 * MLS ciphersuite name for a wire id (RFC 9420 section 17.1).
 *
 * @example
 * ```ts
 * mlsCiphersuiteNameFromId(1) // "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"
 * ```
 */
export function mlsCiphersuiteNameFromId(id: number): CiphersuiteName {
  for (const [name, value] of Object.entries(ciphersuites)) {
    if (value === id) return name as CiphersuiteName;
  }
  throw new ValidationError(ErrorCode.UnsupportedCiphersuite, `unknown MLS ciphersuite ${id}`);
}

/**
 * True when the MLS ciphersuite signs with Ed25519, the only signature scheme a p2panda
 * identity can use as its MLS signature key.
 *
 * @example
 * ```ts
 * usesEd25519("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519") // true
 * ```
 */
export function usesEd25519(name: CiphersuiteName): boolean {
  return getCiphersuiteFromName(name).signature === "Ed25519";
}

async function load(name: CiphersuiteName, provider: ProviderName): Promise<CiphersuiteImpl> {
  switch (provider) {
    case "default":
      return defaultCryptoProvider.getCiphersuiteImpl(getCiphersuiteFromName(name));
    case "node":
      // node:crypto provider (src/mls/crypto/): byte-identical to "default", covers every
      // suite (delegating to ts-mls where node cannot, see provider.ts), several times faster.
      return nodeCryptoProvider.getCiphersuiteImpl(getCiphersuiteFromName(name));
    default:
      throw new UsageError(ErrorCode.InvalidArgument, `unknown crypto provider ${String(provider)}`);
  }
}

/**
 * Implementation of an MLS ciphersuite on the given provider, loaded once and cached.
 * Throws `UNSUPPORTED_CIPHERSUITE` when the ciphersuite's optional dependencies are missing.
 *
 * @example
 * ```ts
 * const cs = await getSuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519")
 * ```
 */
export function getSuite(name: CiphersuiteName, provider: ProviderName = DEFAULT_PROVIDER): Promise<CiphersuiteImpl> {
  if (!isMlsCiphersuiteName(name)) {
    return Promise.reject(new ValidationError(ErrorCode.UnsupportedCiphersuite, `unknown MLS ciphersuite ${String(name)}`));
  }
  const key = `${provider}/${name}`;
  let entry = cache.get(key);
  if (entry === undefined) {
    entry = load(name, provider).catch((e: unknown) => {
      cache.delete(key);
      if (e instanceof UsageError) throw e;
      throw new ValidationError(
        ErrorCode.UnsupportedCiphersuite,
        `MLS ciphersuite ${name} is not available: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    });
    cache.set(key, entry);
  }
  return entry;
}
