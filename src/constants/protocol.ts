/**
 * The protocol's own constants: MLS exporter labels and sizes of long-term encryption, the wire
 * values of ciphersuites, schemes and message types, MLS retention, key package lifetimes and
 * identifier sizes (what two implementations must agree on). Imported through src/constants.ts,
 * the one place every constant is reached from.
 *
 * @module
 */

/** MLS exporter label prefix for long-term AEAD keys: `"long_term_secret" || decimal(epoch)`. @example `` mlsExport(state, provider, `${LTS_KEY_LABEL}${epoch}`, 32) `` */
export const LTS_KEY_LABEL = "long_term_secret";
/** MLS exporter label prefix for long-term nonces: `"long_term_nonce" || hex(author) || decimal(counter)`. @example `` `${LTS_NONCE_LABEL}${toHex(author)}${counter}` `` */
export const LTS_NONCE_LABEL = "long_term_nonce";
/** AEAD nonce size for every long-term ciphersuite. @example `nonce.length === LTS_NONCE_SIZE // 12` */
export const LTS_NONCE_SIZE = 12;
/** AEAD tag size for every long-term ciphersuite. @example `ciphertext.length === plaintext.length + LTS_TAG_SIZE` */
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

/** Name of a long-term ciphersuite, as the spec spells it. @example `const suite: LongTermCiphersuiteName = "PANDA10_AES256GCM"` */
export type LongTermCiphersuiteName = keyof typeof LongTermCiphersuite;
/** Wire value of a long-term ciphersuite. @example `const id: LongTermCiphersuiteId = LongTermCiphersuite.PANDA10_AES256GCM // 0x02` */
export type LongTermCiphersuiteId = (typeof LongTermCiphersuite)[LongTermCiphersuiteName];

/** AEAD key size in bytes per long-term ciphersuite. @example `LTS_KEY_SIZE.PANDA10_AES128GCM // 16` */
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

/** `"long-term"` or `"sender-ratchet"`. @example `const scheme: SchemeName = "sender-ratchet"` */
export type SchemeName = (typeof Scheme)[keyof typeof Scheme];

/** `SecretGroupMessage` type byte (DESIGN.md section 2). @example `bytes[0] === SecretGroupMessageType.LongTermSecretCiphertext` */
export const SecretGroupMessageType = {
  MlsCiphertext: 1,
  LongTermSecretCiphertext: 2,
} as const;

/** MLS ciphersuite used for new groups and key packages. @example `DEFAULT_MLS_CIPHERSUITE // "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"` */
export const DEFAULT_MLS_CIPHERSUITE = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";

/** Past MLS epochs whose receiver keys are kept (spec: clients keep past states). @example `RETAIN_EPOCHS // 16` */
export const RETAIN_EPOCHS = 16;
/** Out-of-order tolerance in generations per sender (spec: "fairly high"). @example `RETAIN_GENERATIONS // 1000` */
export const RETAIN_GENERATIONS = 1000;
/** How far a sender ratchet may be stepped forward for one message. @example `MAX_FORWARD_RATCHET_STEPS // 10000` */
export const MAX_FORWARD_RATCHET_STEPS = 10_000;

/**
 * The one clock allowance of key package lifetimes: a new key package's `notBefore` is set this
 * far before its creation, so a node whose clock runs up to an hour behind the publisher's
 * already accepts it (OpenMLS's `DEFAULT_KEY_PACKAGE_LIFETIME_MARGIN_SECONDS`). The check
 * itself ({@link https://www.rfc-editor.org/rfc/rfc9420#section-7.3 | RFC 9420 section 7.3},
 * src/lifetime.ts) adds none: ts-mls refuses a package outside its lifetime when it commits.
 *
 * @example `notBefore = now - KEY_PACKAGE_CLOCK_SKEW_SECONDS`
 */
export const KEY_PACKAGE_CLOCK_SKEW_SECONDS = 3600;
/**
 * Longest `notAfter - notBefore` a key package may span: OpenMLS refuses longer ones
 * (`MAX_LEAF_NODE_LIFETIME_RANGE_SECONDS`: 3 x 28 days plus its 1 hour margin = 7,261,200 s).
 *
 * @example `notAfter - notBefore <= MAX_KEY_PACKAGE_LIFETIME_RANGE_SECONDS`
 */
export const MAX_KEY_PACKAGE_LIFETIME_RANGE_SECONDS = 7_261_200;
/** Default key package lifetime from its creation: 84 days, so that with the skew it spans exactly the longest range OpenMLS accepts. @example `notAfter = now + DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS` */
export const DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS = MAX_KEY_PACKAGE_LIFETIME_RANGE_SECONDS - KEY_PACKAGE_CLOCK_SKEW_SECONDS;

/** Size of an Ed25519 public key, secret key and p2panda identity. */
export const PUBLIC_KEY_SIZE = 32;
/** Size of a group id and document id (BLAKE3-256). */
export const ID_SIZE = 32;

/** RFC 9420 `ProtocolVersion mls10`, the only version an MLSMessage may carry. @example `MLS_PROTOCOL_VERSION // 1` */
export const MLS_PROTOCOL_VERSION = 1;
/**
 * RFC 9420 `WireFormat` values of the MLSMessages this package reads without keys: a commit is a
 * PublicMessage, a sender-ratchet message a PrivateMessage.
 *
 * @example `MlsWireFormat.PrivateMessage // 2`
 */
export const MlsWireFormat = {
  PublicMessage: 1,
  PrivateMessage: 2,
} as const;
/** One of {@link MlsWireFormat}. @example `const f: MlsWireFormat = MlsWireFormat.PublicMessage` */
export type MlsWireFormat = (typeof MlsWireFormat)[keyof typeof MlsWireFormat];
