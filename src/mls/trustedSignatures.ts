/**
 * The one way a join answers a signature check without Ed25519: a provider whose verification
 * returns true where the caller already knows the answer (the joiner's own leaf,
 * src/mls/ownLeaf.ts; the verified document's signer, src/mls/documentSigner.ts) and runs the
 * ciphersuite's for everything else.
 *
 * @module
 */
import type { CiphersuiteImpl } from "ts-mls";

/**
 * `cs` with `trusts(publicKey, message, signature)` answered true without the ciphersuite's
 * verification; every other verification is the ciphersuite's.
 *
 * @example
 * ```ts
 * const cs2 = withTrustedSignatures(cs, (publicKey) => equalBytes(publicKey, knownKey))
 * ```
 */
export function withTrustedSignatures(cs: CiphersuiteImpl, trusts: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean): CiphersuiteImpl {
  const base = cs.signature;
  return {
    ...cs,
    signature: {
      sign: (signKey, message) => base.sign(signKey, message),
      keygen: () => base.keygen(),
      verify: (publicKey, message, signature) => (trusts(publicKey, message, signature) ? Promise.resolve(true) : base.verify(publicKey, message, signature)),
    },
  };
}
