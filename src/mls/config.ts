/**
 * The ts-mls client configuration of secret-group: our key retention, our authentication
 * service. The configuration is not part of ts-mls' encoded state, so every decoded state
 * must get it back through {@link withClientConfig} (otherwise ts-mls silently falls back to
 * its default retention of 4 epochs and 10 generations).
 *
 * @module
 */
import { defaultClientConfig } from "ts-mls/clientConfig.js";
import type { AuthenticationService, ClientConfig, ClientState, Credential, GroupState as MlsGroupState } from "ts-mls";
import { equalBytes } from "../bytes.js";
import { MAX_FORWARD_RATCHET_STEPS, PUBLIC_KEY_SIZE, RETAIN_EPOCHS, RETAIN_GENERATIONS } from "../constants.js";

/**
 * Accepts a leaf only when its basic credential identity is exactly its 32-byte signature
 * public key: a p2panda public key is both, so nobody can claim another member's identity.
 *
 * @example
 * ```ts
 * await identityAuthService.validateCredential({ credentialType: "basic", identity: pk }, pk) // true
 * ```
 */
export const identityAuthService: AuthenticationService = {
  async validateCredential(credential: Credential, signaturePublicKey: Uint8Array): Promise<boolean> {
    return (
      credential.credentialType === "basic" &&
      credential.identity.length === PUBLIC_KEY_SIZE &&
      signaturePublicKey.length === PUBLIC_KEY_SIZE &&
      equalBytes(credential.identity, signaturePublicKey)
    );
  },
};

/**
 * The client configuration every secret-group MLS state carries.
 *
 * @example
 * ```ts
 * clientConfig.keyRetentionConfig.retainKeysForEpochs // 16
 * ```
 */
export const clientConfig: ClientConfig = {
  ...defaultClientConfig,
  keyRetentionConfig: {
    retainKeysForEpochs: RETAIN_EPOCHS,
    retainKeysForGenerations: RETAIN_GENERATIONS,
    maximumForwardRatchetSteps: MAX_FORWARD_RATCHET_STEPS,
  },
  authService: identityAuthService,
};

/**
 * Client configuration that accepts any credential: only for the MLS working group's test
 * vectors, whose credentials are not p2panda identities.
 *
 * @example
 * ```ts
 * joinFromVector(vector, vectorClientConfig)
 * ```
 */
export const vectorClientConfig: ClientConfig = {
  ...clientConfig,
  authService: { validateCredential: async () => true },
};

/**
 * Re-attaches our client configuration to a decoded ts-mls state.
 *
 * @example
 * ```ts
 * const state = withClientConfig(decoded)
 * ```
 */
export function withClientConfig(state: MlsGroupState): ClientState {
  return { ...state, clientConfig };
}
