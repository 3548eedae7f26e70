/**
 * Shared test helpers for the long-term-secret and codec tests: a synthetic MLS PrivateMessage
 * builder, a deterministic HKDF exporter, hex helpers and fast-check arbitraries.
 *
 * @module
 */
import { hkdfSync } from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import type { LongTermCiphersuiteName } from "../../src/constants.js";
import { Writer } from "../../src/codec/tls.js";
import type { Exporter } from "../../src/lts/derive.js";
import type { LongTermSecret } from "../../src/lts/secret.js";
import { asLongTermEpoch } from "../../src/lts/secret.js";
import type { LongTermSecretCiphertext } from "../../src/lts/ciphertext.js";

/** All long-term ciphersuite names. @example `for (const s of SUITES) {}` */
export const SUITES: readonly LongTermCiphersuiteName[] = ["PANDA10_AES128GCM", "PANDA10_AES256GCM", "PANDA10_CHACHA20POLY1305"];
/** Key sizes, written out independently of src/constants.ts. @example `KEY_SIZE.PANDA10_AES128GCM // 16` */
export const KEY_SIZE: Readonly<Record<LongTermCiphersuiteName, number>> = {
  PANDA10_AES128GCM: 16,
  PANDA10_AES256GCM: 32,
  PANDA10_CHACHA20POLY1305: 32,
};

/** Lowercase hex. @example `hex(bytes)` */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
/** Bytes of hex, as a plain Uint8Array. @example `unhex("00ff")` */
export function unhex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "hex"));
}
/** `n` bytes counting up from `start`. @example `pattern(32, 0xa0)` */
export function pattern(n: number, start = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
}

/** Fields of a synthetic MLS PrivateMessage. */
export interface PrivateMessageParts {
  groupId: Uint8Array;
  epoch: bigint;
  contentType: number;
  authenticatedData: Uint8Array;
  encryptedSenderData: Uint8Array;
  ciphertext: Uint8Array;
}

/**
 * An MLSMessage (mls10, mls_private_message) with the given PrivateMessage fields (RFC 9420
 * section 6.3.1), written byte by byte so it does not depend on src/message.ts.
 *
 * @example
 * ```ts
 * const mls = privateMessage({ groupId, epoch: 3n, contentType: 1, authenticatedData: new Uint8Array(), ... })
 * ```
 */
export function privateMessage(p: PrivateMessageParts): Uint8Array {
  return new Writer()
    .u8(0).u8(1) // version mls10
    .u8(0).u8(2) // wire format mls_private_message
    .opaque(p.groupId)
    .u64(p.epoch)
    .u8(p.contentType)
    .opaque(p.authenticatedData)
    .opaque(p.encryptedSenderData)
    .opaque(p.ciphertext)
    .finish();
}

/** Description of {@link hkdfExporter}, stored beside the derivation vectors. */
export const HKDF_EXPORTER_DESCRIPTION =
  "exporter(label, length) = HKDF-SHA256(ikm = exporterSecret, salt = empty, info = utf8(label), L = length)";

/**
 * A deterministic stand-in for the MLS exporter, so vectors pin our labels and lengths.
 *
 * @example
 * ```ts
 * const exporter = hkdfExporter(unhex(vectors.derivation.exporterSecret))
 * ```
 */
export function hkdfExporter(secret: Uint8Array): Exporter {
  return async (label, length) =>
    new Uint8Array(hkdfSync("sha256", secret, new Uint8Array(0), new TextEncoder().encode(label), length));
}

/** The committed vectors file (read from the source tree; tests never write it). @example `loadVectors()` */
export function loadVectors(): LtsVectors {
  return JSON.parse(readFileSync(new URL("../../../test/vectors/lts.json", import.meta.url), "utf8")) as LtsVectors;
}

/** JSON form of a secret. */
export interface SecretJson { groupId: string; ciphersuite: LongTermCiphersuiteName; epoch: string; value: string }
/** JSON form of a ciphertext. */
export interface CiphertextJson { groupId: string; epoch: string; nonce: string; ciphertext: string }

/** Shape of test/vectors/lts.json. */
export interface LtsVectors {
  description: string;
  longTermSecret: (SecretJson & { encoded: string })[];
  longTermSecrets: { secrets: SecretJson[]; encoded: string }[];
  longTermSecretCiphertext: (CiphertextJson & { encoded: string })[];
  secretGroupMessage: (
    | { type: "mls"; mlsMessage: string; encoded: string }
    | { type: "long-term"; ciphertext: CiphertextJson; encoded: string }
  )[];
  secretGroupCommit: { mlsCommit: string; mlsWelcome?: string; encryptedSecrets: string; encoded: string }[];
  aead: { suite: LongTermCiphersuiteName; key: string; nonce: string; plaintext: string; aad: string; ciphertext: string }[];
  keyLabels: { epoch: string; label: string }[];
  nonceLabels: { author: string; counter: string; label: string }[];
  derivation: {
    exporter: string;
    exporterSecret: string;
    groupId: string;
    keys: { ciphersuite: LongTermCiphersuiteName; epoch: string; label: string; length: number; value: string }[];
    nonces: { author: string; counter: string; label: string; nonce: string }[];
  };
  sealLongTerm: {
    secret: SecretJson;
    author: string;
    counter: string;
    nonce: string;
    plaintext: string;
    aad: string;
    message: string;
  }[];
}

/** JSON form to secret. @example `secretFromJson(v)` */
export function secretFromJson(s: SecretJson): LongTermSecret {
  return { groupId: unhex(s.groupId), ciphersuite: s.ciphersuite, epoch: asLongTermEpoch(BigInt(s.epoch)), value: unhex(s.value) };
}
/** Secret to JSON form. @example `secretToJson(s)` */
export function secretToJson(s: LongTermSecret): SecretJson {
  return { groupId: hex(s.groupId), ciphersuite: s.ciphersuite, epoch: s.epoch.toString(), value: hex(s.value) };
}
/** JSON form to ciphertext. @example `ciphertextFromJson(v)` */
export function ciphertextFromJson(c: CiphertextJson): LongTermSecretCiphertext {
  return { groupId: unhex(c.groupId), epoch: asLongTermEpoch(BigInt(c.epoch)), nonce: unhex(c.nonce), ciphertext: unhex(c.ciphertext) };
}
/** Ciphertext to JSON form. @example `ciphertextToJson(c)` */
export function ciphertextToJson(c: LongTermSecretCiphertext): CiphertextJson {
  return { groupId: hex(c.groupId), epoch: c.epoch.toString(), nonce: hex(c.nonce), ciphertext: hex(c.ciphertext) };
}

// ---- fast-check arbitraries ----------------------------------------------------------------

const U64_MAX = (1n << 64n) - 1n;

/** Any u64, biased to the edges. @example `fc.sample(arbEpoch, 1)` */
export const arbEpoch = fc.oneof(
  fc.constantFrom(0n, 1n, 63n, 64n, 255n, 256n, U64_MAX - 1n, U64_MAX),
  fc.bigInt({ min: 0n, max: U64_MAX }),
);
/** A group id of 0..80 bytes (sometimes the 32 bytes we use). @example `fc.sample(arbGroupId, 1)` */
export const arbGroupId = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 80 }));
/** A suite name. @example `fc.sample(arbSuite, 1)` */
export const arbSuite = fc.constantFrom(...SUITES);

/** AEAD inputs of a random suite: its key, a nonce, a plaintext and aad up to the given sizes. @example `fc.sample(arbAeadCase(300, 64), 1)` */
export function arbAeadCase(maxPlaintext: number, maxAad: number): fc.Arbitrary<{ suite: LongTermCiphersuiteName; key: Uint8Array; nonce: Uint8Array; plaintext: Uint8Array; aad: Uint8Array }> {
  return arbSuite.chain((suite) =>
    fc.record({
      suite: fc.constant(suite),
      key: fc.uint8Array({ minLength: KEY_SIZE[suite], maxLength: KEY_SIZE[suite] }),
      nonce: fc.uint8Array({ minLength: 12, maxLength: 12 }),
      plaintext: fc.uint8Array({ maxLength: maxPlaintext }),
      aad: fc.uint8Array({ maxLength: maxAad }),
    }),
  );
}

/** A valid secret. @example `fc.sample(arbSecret, 1)` */
export const arbSecret: fc.Arbitrary<LongTermSecret> = fc
  .tuple(arbGroupId, arbSuite, arbEpoch, fc.uint8Array({ minLength: 32, maxLength: 32 }))
  .map(([groupId, ciphersuite, epoch, v]) => ({
    groupId,
    ciphersuite,
    epoch: asLongTermEpoch(epoch),
    value: v.slice(0, KEY_SIZE[ciphersuite]),
  }));

/** A list of secrets with distinct epochs, in random order. @example `fc.sample(arbSecretList, 1)` */
export const arbSecretList: fc.Arbitrary<LongTermSecret[]> = fc.uniqueArray(arbSecret, {
  maxLength: 6,
  selector: (s) => s.epoch,
});

/** A valid ciphertext (random bytes; codecs do not authenticate). @example `fc.sample(arbCiphertext, 1)` */
export const arbCiphertext: fc.Arbitrary<LongTermSecretCiphertext> = fc
  .tuple(arbGroupId, arbEpoch, fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ minLength: 16, maxLength: 90 }))
  .map(([groupId, epoch, nonce, ciphertext]) => ({ groupId, epoch: asLongTermEpoch(epoch), nonce, ciphertext }));

/** A synthetic MLSMessage holding a PrivateMessage. @example `fc.sample(arbMlsMessage, 1)` */
export const arbMlsMessage: fc.Arbitrary<Uint8Array> = fc
  .record({
    groupId: arbGroupId,
    epoch: arbEpoch,
    contentType: fc.constantFrom(1, 2, 3),
    authenticatedData: fc.uint8Array({ maxLength: 8 }),
    encryptedSenderData: fc.uint8Array({ maxLength: 40 }),
    ciphertext: fc.uint8Array({ maxLength: 90 }),
  })
  .map(privateMessage);
