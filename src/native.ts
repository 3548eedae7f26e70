/**
 * This package's own small addon (native/: the one-shot AEAD of native/aead.c and the HMAC of
 * native/hmac.c, on the OpenSSL that Node.js links), built at install by node-gyp where a compiler
 * and Node's headers are at hand. node:crypto's per-call objects cost more than the work for the
 * small inputs this package handles by the thousand (a cipher fetch and context per value, a
 * context per HMAC); the addon keeps one context per thread and reuses it. No cryptography is
 * ours: the same OpenSSL does the same AES-GCM, ChaCha20-Poly1305 and HMAC.
 *
 * Where the addon was not built (or `SECRET_GROUP_NATIVE=0` is set), {@link nativeAddon} is
 * undefined and node:crypto does the same work under the same rules; every user keeps that path
 * (src/nativeAead.ts, src/mls/crypto/hash.ts), and test/native-aead.test.ts and
 * test/native-hmac.test.ts hold both to the same bytes.
 *
 * @module
 */
import { createRequire } from "node:module";
import type { NativeAead } from "./nativeAead.js";

/**
 * The addon's calls: the AEAD's `open` and `seal` ({@link NativeAead}) and `hmac`, which writes
 * HMAC(key, a || b || c || d) into `target` (at least the hash's size: 32, 48, 64 bytes for hash
 * 1, 2, 3: SHA-256, SHA-384, SHA-512); a part may be undefined. A wrong type or hash throws a
 * TypeError, a short target a RangeError.
 *
 * @example
 * ```ts
 * nativeAddon?.hmac(1, key, out, info, Uint8Array.of(1))
 * ```
 */
export interface NativeAddon extends NativeAead {
  hmac(hash: number, key: Uint8Array, target: Uint8Array, a: Uint8Array, b?: Uint8Array, c?: Uint8Array, d?: Uint8Array): void;
}

/** Where native/build.cjs puts the addon, from dist/src/ (this module's place once built). */
const ADDON = "../../native/build/Release/secret_group_native.node";

function load(): NativeAddon | undefined {
  if (process.env.SECRET_GROUP_NATIVE === "0") return undefined;
  try {
    const binding = createRequire(import.meta.url)(ADDON) as Partial<NativeAddon>;
    return typeof binding.open === "function" && typeof binding.seal === "function" && typeof binding.hmac === "function" ? (binding as NativeAddon) : undefined;
  } catch {
    return undefined; // not built here: node:crypto does the work
  }
}

/**
 * The loaded addon, or undefined (node:crypto then).
 *
 * @example
 * ```ts
 * if (nativeAddon === undefined) console.log("node:crypto does the AEAD and HMAC")
 * ```
 */
export const nativeAddon: NativeAddon | undefined = load();
