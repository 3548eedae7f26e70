/**
 * The long-term ciphersuites' AEAD on the OpenSSL that Node.js links, through this package's own
 * addon (src/native.ts). node:crypto's `createDecipheriv` costs ~4.3 us a value before any byte
 * is deciphered; the addon fetches each cipher once per thread and reuses one context, so a 1 KiB
 * value opens in ~0.9 us instead of ~7.7 (bench/results/NOTES.md, session 26).
 *
 * Where the addon was not built (or `SECRET_GROUP_NATIVE=0` is set), {@link nativeAead} is
 * undefined and node:crypto does the same work under the same rules; every user keeps that path,
 * and test/native-aead.test.ts holds both to the same bytes.
 *
 * @module
 */
import { LongTermCiphersuite } from "./constants.js";
import type { LongTermCiphersuiteName } from "./constants.js";
import { nativeAddon } from "./native.js";

/**
 * The addon's AEAD calls. Offsets are checked against their buffers (RangeError); a wrong type or
 * key length throws a TypeError. `open` writes the plaintext into `target` at `targetAt`, then
 * checks the tag in constant time; on a failure it wipes what it wrote and returns false.
 *
 * @example
 * ```ts
 * const ok = nativeAead?.open(0x01, key, nonce, message, 56, message.length, groupId, out, 0)
 * ```
 */
export interface NativeAead {
  /** Opens `source[ctAt, end - 16)` (its tag `source[end - 16, end)`) into `target[targetAt, ...)`. */
  open(suite: number, key: Uint8Array, nonce: Uint8Array, source: Uint8Array, ctAt: number, end: number, aad: Uint8Array, target: Uint8Array, targetAt: number): boolean;
  /** Writes ciphertext || tag (`plaintext.length + 16` bytes) into `target` at `targetAt`. */
  seal(suite: number, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, target: Uint8Array, targetAt: number): void;
}

/**
 * The loaded addon, or undefined (node:crypto then).
 *
 * @example
 * ```ts
 * if (nativeAead !== undefined) nativeAead.seal(suiteId("PANDA10_AES256GCM"), key, nonce, plaintext, aad, out, 0);
 * ```
 */
export const nativeAead: NativeAead | undefined = nativeAddon;

/**
 * Which implementation runs the long-term AEAD in this thread (and, the same addon, the MLS
 * provider's HMAC: src/mls/crypto/hash.ts).
 *
 * @example
 * ```ts
 * aeadBackend() // "native" where the addon was built, else "node:crypto"
 * ```
 */
export function aeadBackend(): "native" | "node:crypto" {
  return nativeAead === undefined ? "node:crypto" : "native";
}

/**
 * The addon's number of a long-term ciphersuite (its wire value).
 *
 * @example
 * ```ts
 * suiteId("PANDA10_CHACHA20POLY1305") // 0x03
 * ```
 */
export function suiteId(suite: LongTermCiphersuiteName): number {
  return LongTermCiphersuite[suite];
}
