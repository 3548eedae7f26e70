/**
 * Every protocol label, size and default of secret-group in one place.
 *
 * @module
 */

/** MLS exporter label prefix for long-term AEAD keys: `"long_term_secret" || decimal(epoch)`. */
export const LTS_KEY_LABEL = "long_term_secret";
/** MLS exporter label prefix for long-term nonces: `"long_term_nonce" || hex(author) || decimal(counter)`. */
export const LTS_NONCE_LABEL = "long_term_nonce";
/** AEAD nonce size for every long-term ciphersuite. */
export const LTS_NONCE_SIZE = 12;
/** AEAD tag size for every long-term ciphersuite. */
export const LTS_TAG_SIZE = 16;

/**
 * Long-term secret ciphersuites (spec `LongTermSecretCiphersuite`, u8 on the wire).
 *
 * @example
 * ```ts
 * LongTermCiphersuite.PANDA10_AES256GCM // 0x02
 * ```
 */
export const LongTermCiphersuite = {
  PANDA10_AES128GCM: 0x01,
  PANDA10_AES256GCM: 0x02,
  PANDA10_CHACHA20POLY1305: 0x03,
} as const;

/** Name of a long-term ciphersuite, as the spec spells it. */
export type LongTermCiphersuiteName = keyof typeof LongTermCiphersuite;
/** Wire value of a long-term ciphersuite. */
export type LongTermCiphersuiteId = (typeof LongTermCiphersuite)[LongTermCiphersuiteName];

/** AEAD key size in bytes per long-term ciphersuite. */
export const LTS_KEY_SIZE: Readonly<Record<LongTermCiphersuiteName, number>> = {
  PANDA10_AES128GCM: 16,
  PANDA10_AES256GCM: 32,
  PANDA10_CHACHA20POLY1305: 32,
};

/**
 * Encryption schemes for operation field values.
 *
 * @example
 * ```ts
 * encrypt(state, bytes, { scheme: Scheme.LongTerm })
 * ```
 */
export const Scheme = {
  LongTerm: "long-term",
  SenderRatchet: "sender-ratchet",
} as const;

/** `"long-term"` or `"sender-ratchet"`. */
export type SchemeName = (typeof Scheme)[keyof typeof Scheme];

/** `SecretGroupMessage` type byte (DESIGN.md section 2). */
export const SecretGroupMessageType = {
  MlsCiphertext: 1,
  LongTermSecretCiphertext: 2,
} as const;

/** MLS ciphersuite used for new groups and key packages. */
export const DEFAULT_MLS_CIPHERSUITE = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";

/** Past MLS epochs whose receiver keys are kept (spec: clients keep past states). */
export const RETAIN_EPOCHS = 16;
/** Out-of-order tolerance in generations per sender (spec: "fairly high"). */
export const RETAIN_GENERATIONS = 1000;
/** How far a sender ratchet may be stepped forward for one message. */
export const MAX_FORWARD_RATCHET_STEPS = 10_000;

/** Size of an Ed25519 public key, secret key and p2panda identity. */
export const PUBLIC_KEY_SIZE = 32;
/** Size of a group id and document id (BLAKE3-256). */
export const ID_SIZE = 32;

/** Largest field value accepted for encryption or decryption: 64 MiB. */
export const MAX_PLAINTEXT_SIZE = 64 * 1024 * 1024;
/** Largest number of long-term secrets a commit may carry. */
export const MAX_LONG_TERM_SECRETS = 1_000_000;

/** Format version byte in front of every stored value. */
export const STORAGE_VERSION = 1;

/** Largest group id the long-term codecs accept (ours are 32 bytes; MLS allows more, so leave room). */
export const MAX_GROUP_ID_SIZE = 256;
/** Largest long-term secret value the codec accepts (the value must also equal its suite's key size). */
export const MAX_LONG_TERM_SECRET_SIZE = 64;
