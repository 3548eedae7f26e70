/**
 * The AEAD of the long-term ciphersuites, behind one interface with two backends: Node's OpenSSL
 * (default, about 10-70 times faster; through the package's addon where it was built, else
 * node:crypto) and `@noble/ciphers` (portable reference). Both are one-shot, check the tag before
 * any plaintext is released, and give identical bytes.
 *
 * @module
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import type { CipherGCMTypes, CipherChaCha20Poly1305Types } from "node:crypto";
import { gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { LTS_KEY_SIZE, LTS_NONCE_SIZE, LTS_TAG_SIZE, MAX_PLAINTEXT_SIZE } from "../constants.js";
import type { LongTermCiphersuiteName } from "../constants.js";
import { CryptoError, ErrorCode, UsageError } from "../errors.js";
import { nativeAead, suiteId } from "../nativeAead.js";
import { isLongTermCiphersuiteName } from "./ciphersuite.js";

/**
 * An AEAD implementation of the three long-term ciphersuites.
 *
 * @example
 * ```ts
 * const ct = nodeAead.seal("PANDA10_AES256GCM", key, nonce, plaintext, aad)
 * const pt = nobleAead.open("PANDA10_AES256GCM", key, nonce, ct, aad)
 * ```
 */
export interface AeadBackend {
  readonly name: "node" | "noble";
  /** Returns ciphertext || 16-byte tag. Usage error on a wrong key or nonce size. */
  seal(suite: LongTermCiphersuiteName, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** Returns the plaintext; `CryptoError(DECRYPTION_FAILED)` when the tag does not verify. */
  open(suite: LongTermCiphersuiteName, key: Uint8Array, nonce: Uint8Array, ciphertextWithTag: Uint8Array, aad: Uint8Array): Uint8Array;
}

function bytesArg(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new UsageError(ErrorCode.InvalidArgument, `${what} must be a Uint8Array`);
}

/** Usage errors for everything the caller controls; shared by both backends so they fail alike. */
function checkArgs(suite: unknown, key: unknown, nonce: unknown, data: unknown, aad: unknown, maxData: number): void {
  if (!isLongTermCiphersuiteName(suite)) {
    throw new UsageError(ErrorCode.InvalidArgument, `unknown long-term ciphersuite: ${String(suite)}`);
  }
  bytesArg(key, "key");
  bytesArg(nonce, "nonce");
  bytesArg(data, "data");
  bytesArg(aad, "aad");
  if (key.length !== LTS_KEY_SIZE[suite]) {
    throw new UsageError(ErrorCode.InvalidArgument, `${suite} needs a ${LTS_KEY_SIZE[suite]}-byte key, got ${key.length}`);
  }
  if (nonce.length !== LTS_NONCE_SIZE) {
    throw new UsageError(ErrorCode.InvalidArgument, `nonce must be ${LTS_NONCE_SIZE} bytes, got ${nonce.length}`);
  }
  if (data.length > maxData) throw new UsageError(ErrorCode.InvalidArgument, `data larger than ${maxData} bytes`);
}

function failed(cause?: unknown): CryptoError {
  return new CryptoError(ErrorCode.DecryptionFailed, "long-term ciphertext failed to authenticate", { cause });
}

/** node:crypto names of the long-term ciphersuites. @example `createDecipheriv(NODE_ALGORITHM[suite], ...)` */
export const NODE_ALGORITHM: Readonly<Record<LongTermCiphersuiteName, CipherGCMTypes | CipherChaCha20Poly1305Types>> = {
  PANDA10_AES128GCM: "aes-128-gcm",
  PANDA10_AES256GCM: "aes-256-gcm",
  PANDA10_CHACHA20POLY1305: "chacha20-poly1305",
};

/** Copies Buffers into one plain Uint8Array, so results compare equal across backends. */
function join(a: Uint8Array, b: Uint8Array, c?: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length + (c?.length ?? 0));
  out.set(a, 0);
  out.set(b, a.length);
  if (c) out.set(c, a.length + b.length);
  return out;
}

/**
 * An authenticated plaintext from node's decipher (`update()`'s `body`, `final()`'s `tail`) as a
 * plain Uint8Array that owns its whole buffer: in the usual case update() returned the whole
 * plaintext in a buffer of its own, and a view over that memory needs no copy (and can move to
 * another thread whole); otherwise a joined copy, the pieces zeroed.
 *
 * @example
 * ```ts
 * const plaintext = ownedPlaintext(decipher.update(ct), decipher.final())
 * ```
 */
export function ownedPlaintext(body: Buffer, tail: Uint8Array): Uint8Array {
  if (tail.length === 0 && body.byteOffset === 0 && body.buffer.byteLength === body.length) return new Uint8Array(body.buffer, 0, body.length);
  const out = join(body, tail);
  body.fill(0);
  tail.fill(0);
  return out;
}

/**
 * AEAD on Node's OpenSSL: the default backend. Through this package's addon where it was built
 * (src/nativeAead.ts: one cipher context per thread, ~8x less work a 1 KiB value), else through
 * node:crypto's cipher objects; the same bytes either way.
 *
 * @example
 * ```ts
 * const ct = nodeAead.seal("PANDA10_AES128GCM", key16, nonce12, utf8("hi"), groupId)
 * ```
 */
export const nodeAead: AeadBackend = Object.freeze({
  name: "node" as const,
  seal(suite: LongTermCiphersuiteName, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array) {
    checkArgs(suite, key, nonce, plaintext, aad, MAX_PLAINTEXT_SIZE);
    if (nativeAead !== undefined) {
      const out = new Uint8Array(plaintext.length + LTS_TAG_SIZE);
      nativeAead.seal(suiteId(suite), key, nonce, plaintext, aad, out, 0);
      return out;
    }
    // the overloads differ by algorithm family; the options are the same for GCM and ChaCha20-Poly1305
    const cipher = createCipheriv(NODE_ALGORITHM[suite] as CipherGCMTypes, key, nonce, { authTagLength: LTS_TAG_SIZE });
    cipher.setAAD(aad);
    const body = cipher.update(plaintext);
    const tail = cipher.final();
    return join(body, tail, cipher.getAuthTag());
  },
  open(suite: LongTermCiphersuiteName, key: Uint8Array, nonce: Uint8Array, ciphertextWithTag: Uint8Array, aad: Uint8Array) {
    checkArgs(suite, key, nonce, ciphertextWithTag, aad, MAX_PLAINTEXT_SIZE + LTS_TAG_SIZE);
    if (ciphertextWithTag.length < LTS_TAG_SIZE) throw failed();
    const split = ciphertextWithTag.length - LTS_TAG_SIZE;
    if (nativeAead !== undefined) {
      // the addon checks the tag before returning and wipes what it wrote when it fails
      const out = new Uint8Array(split);
      if (!nativeAead.open(suiteId(suite), key, nonce, ciphertextWithTag, 0, ciphertextWithTag.length, aad, out, 0)) throw failed();
      return out;
    }
    const decipher = createDecipheriv(NODE_ALGORITHM[suite] as CipherGCMTypes, key, nonce, { authTagLength: LTS_TAG_SIZE });
    decipher.setAuthTag(ciphertextWithTag.subarray(split));
    decipher.setAAD(aad);
    // update() hands out unauthenticated plaintext: hold it until final() has checked the tag
    const body = decipher.update(ciphertextWithTag.subarray(0, split));
    let tail: Uint8Array;
    try {
      tail = decipher.final();
    } catch (e) {
      body.fill(0);
      throw failed(e);
    }
    return ownedPlaintext(body, tail);
  },
});

/**
 * AEAD on `@noble/ciphers` (pure JavaScript): the portable reference backend.
 *
 * @example
 * ```ts
 * const pt = nobleAead.open("PANDA10_CHACHA20POLY1305", key32, nonce12, ct, groupId)
 * ```
 */
export const nobleAead: AeadBackend = Object.freeze({
  name: "noble" as const,
  seal(suite: LongTermCiphersuiteName, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array) {
    checkArgs(suite, key, nonce, plaintext, aad, MAX_PLAINTEXT_SIZE);
    return nobleCipher(suite, key, nonce, aad).encrypt(plaintext);
  },
  open(suite: LongTermCiphersuiteName, key: Uint8Array, nonce: Uint8Array, ciphertextWithTag: Uint8Array, aad: Uint8Array) {
    checkArgs(suite, key, nonce, ciphertextWithTag, aad, MAX_PLAINTEXT_SIZE + LTS_TAG_SIZE);
    if (ciphertextWithTag.length < LTS_TAG_SIZE) throw failed();
    try {
      // noble verifies the tag before it decrypts, so nothing unauthenticated escapes
      return nobleCipher(suite, key, nonce, aad).decrypt(ciphertextWithTag);
    } catch (e) {
      throw failed(e);
    }
  },
});

function nobleCipher(suite: LongTermCiphersuiteName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array) {
  // a fresh cipher object per call: noble's objects are single-use for encryption anyway
  return suite === "PANDA10_CHACHA20POLY1305" ? chacha20poly1305(key, nonce, aad) : gcm(key, nonce, aad);
}
