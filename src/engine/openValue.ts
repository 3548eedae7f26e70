/**
 * One long-term value's AEAD open at known offsets, on a cached `KeyObject`: the step both the
 * pool's workers (src/engine/worker/longTerm.ts) and the main thread's share of a pooled batch
 * (src/engine/mainDecrypt.ts) take per value. The offsets come from the header peek
 * (src/engine/decrypt.ts), which has already bounded the nonce (12 bytes) and the ciphertext
 * (tag..MAX_CIPHERTEXT_SIZE), so none of the library's per-call argument checks repeat here.
 *
 * @module
 */
import { createDecipheriv, createSecretKey } from "node:crypto";
import type { CipherGCMTypes, KeyObject } from "node:crypto";
import { LTS_NONCE_SIZE, LTS_TAG_SIZE } from "../constants.js";
import type { LongTermCiphersuiteName } from "../constants.js";
import { CryptoError, ErrorCode, InternalError } from "../errors.js";
import { nativeAead, suiteId } from "../nativeAead.js";
import { NODE_ALGORITHM, ownedPlaintext } from "../lts/aead.js";

/** A long-term key ready for opening values. @example `const key = openingKey("PANDA10_AES128GCM", value)` */
export interface OpeningKey {
  /** The addon's suite number and the raw key (src/nativeAead.ts), when the addon is loaded. */
  readonly suite: number;
  readonly value: Uint8Array;
  readonly algorithm: CipherGCMTypes;
  /** node:crypto only: made once per key, a decipher on it skips preparing raw key bytes every time. */
  readonly object: KeyObject | undefined;
}

/**
 * The opening key of a ciphersuite's raw key bytes.
 *
 * @example
 * ```ts
 * const key = openingKey(secret.ciphersuite, secret.value)
 * ```
 */
export function openingKey(ciphersuite: LongTermCiphersuiteName, value: Uint8Array): OpeningKey {
  return {
    suite: suiteId(ciphersuite),
    value,
    algorithm: NODE_ALGORITHM[ciphersuite] as CipherGCMTypes,
    object: nativeAead === undefined ? createSecretKey(value) : undefined,
  };
}

const OPTIONS = { authTagLength: LTS_TAG_SIZE };

/**
 * Opens the AEAD output `bytes[ctAt, end)` (ciphertext, then the 16-byte tag) with the nonce at
 * `nonceAt` and associated data `aad`, into a plain Uint8Array that owns its whole buffer
 * ({@link ownedPlaintext}: it can be kept or moved to another thread as it is). The tag is checked
 * (`final()`) before the plaintext leaves: on a failure the partial plaintext is zeroed and
 * `CryptoError(DECRYPTION_FAILED)` is thrown, with the library's message.
 *
 * @example
 * ```ts
 * const body = openValue(key, message, item.nonceAt, item.ctAt, message.length, groupId)
 * ```
 */
export function openValue(key: OpeningKey, bytes: Uint8Array, nonceAt: number, ctAt: number, end: number, aad: Uint8Array): Uint8Array {
  const tagAt = end - LTS_TAG_SIZE;
  if (nativeAead !== undefined) {
    const length = tagAt - ctAt;
    // a buffer of its own, every byte written by the addon (or wiped by it on a failure)
    const body = length === 0 ? new Uint8Array(0) : new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
    if (!openValueInto(key, bytes, nonceAt, ctAt, end, aad, body, 0)) throw authenticationFailed();
    return body;
  }
  const decipher = createDecipheriv(key.algorithm, key.object as KeyObject, bytes.subarray(nonceAt, nonceAt + LTS_NONCE_SIZE), OPTIONS);
  decipher.setAuthTag(bytes.subarray(tagAt, end));
  decipher.setAAD(aad);
  // update() hands out unauthenticated plaintext: it stays here until final() has checked the tag
  const body = decipher.update(bytes.subarray(ctAt, tagAt));
  let tail: Buffer;
  try {
    tail = decipher.final();
  } catch {
    body.fill(0);
    throw authenticationFailed();
  }
  return ownedPlaintext(body, tail);
}

/** The error of a value whose tag does not verify (the library's code and message). @example `throw authenticationFailed()` */
export function authenticationFailed(): CryptoError {
  return new CryptoError(ErrorCode.DecryptionFailed, "long-term ciphertext failed to authenticate");
}

/**
 * The addon's open of one value (as {@link openValue}) straight into `target` at `targetAt`:
 * false when the tag fails, the target range then wiped. Only where the addon is loaded
 * (`nativeAead !== undefined`); a worker opens a segment's small values into its output this way.
 *
 * @example
 * ```ts
 * if (!openValueInto(key, bytes, nonceAt, ctAt, end, groupId, output, written)) failures.push(...)
 * ```
 */
export function openValueInto(key: OpeningKey, bytes: Uint8Array, nonceAt: number, ctAt: number, end: number, aad: Uint8Array, target: Uint8Array, targetAt: number): boolean {
  if (nativeAead === undefined) throw new InternalError(ErrorCode.Internal, "openValueInto needs the native addon");
  return nativeAead.open(key.suite, key.value, bytes.subarray(nonceAt, nonceAt + LTS_NONCE_SIZE), bytes, ctAt, end, aad, target, targetAt);
}
