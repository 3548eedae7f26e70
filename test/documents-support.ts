/**
 * Test helpers for documents: fixed identities and a raw envelope builder that signs payloads
 * signDocument would refuse, to see decodeDocument refuse them too.
 *
 * @module
 */
import { blake3 } from "@noble/hashes/blake3.js";
import { concatBytes, utf8 } from "../src/bytes.js";
import { encodeCanonical } from "../src/documents/cbor.js";
import { DOCUMENT_SIGNATURE_CONTEXT } from "../src/documents/document.js";
import { publicKeyOfSeed, signEd25519 } from "../src/documents/ed25519.js";
import type { DocumentIdentity } from "../src/documents/ed25519.js";

/** A deterministic identity from one seed byte. @example `identityFromByte(1)` */
export function identityFromByte(byte: number): DocumentIdentity {
  const secretKey = new Uint8Array(32).fill(byte);
  return { publicKey: publicKeyOfSeed(secretKey), secretKey };
}

/** The message an envelope signature covers. @example `signedMessage(payload)` */
export function signedMessage(payload: Uint8Array): Uint8Array {
  return concatBytes(utf8(DOCUMENT_SIGNATURE_CONTEXT), new Uint8Array([0]), payload);
}

/**
 * Builds a validly signed envelope around an arbitrary payload value (not validated).
 *
 * @example
 * ```ts
 * rawDocument(identity, { v: 1, author, schema: "x", timestamp: 1, fields: { a: [1] } })
 * ```
 */
export function rawDocument(identity: DocumentIdentity, payloadValue: unknown, signer: DocumentIdentity = identity): Uint8Array {
  const payload = encodeCanonical(payloadValue);
  return encodeCanonical({ payload, signature: signEd25519(signer, signedMessage(payload)) });
}

/** A payload value like signDocument makes. @example `payloadOf(identity, "chat_v1", { body: "hi" })` */
export function payloadOf(identity: DocumentIdentity, schema: string, fields: Record<string, unknown>, timestamp = 1_700_000_000_000): Record<string, unknown> {
  return { v: 1, author: identity.publicKey, fields, schema, timestamp };
}

/** A 32-byte id filled with one byte. @example `idOf(7)` */
export function idOf(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte);
}

/** BLAKE3 of bytes. @example `hash(bytes)` */
export function hash(bytes: Uint8Array): Uint8Array {
  return blake3(bytes);
}
