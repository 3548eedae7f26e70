/**
 * This package's own small addon (native/: the one-shot AEAD of native/aead.c, the HMAC of
 * native/hmac.c and the shared Ed25519 runs of native/ed25519.c, on the OpenSSL that Node.js
 * links), built at install by node-gyp where a compiler and Node's headers are at hand.
 * node:crypto's per-call objects cost more than the work for the small inputs this package
 * handles by the thousand (a cipher fetch and context per value, a context per HMAC); the addon
 * keeps one context per thread and reuses it. The Ed25519 runs give a joiner's leaf checks a
 * second core. No cryptography is ours: the same OpenSSL does the same AES-GCM,
 * ChaCha20-Poly1305, HMAC and Ed25519.
 *
 * Where the addon was not built (or `SECRET_GROUP_NATIVE=0` is set), {@link nativeAddon} is
 * undefined and node:crypto (libsodium for Ed25519) does the same work under the same rules;
 * every user keeps that path (src/nativeAead.ts, src/mls/crypto/hash.ts,
 * src/mls/crypto/verifyRun.ts), and test/native-aead.test.ts, test/native-hmac.test.ts and
 * test/native-ed25519-run.test.ts hold both to the same answers.
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
export interface NativeAddon extends NativeAead, Ed25519RunAddon {
  hmac(hash: number, key: Uint8Array, target: Uint8Array, a: Uint8Array, b?: Uint8Array, c?: Uint8Array, d?: Uint8Array): void;
}

/** An open run of native/ed25519.c (opaque). @example `const run: Ed25519Run = nativeAddon!.runOpen(() => {})` */
export type Ed25519Run = { readonly __brand: "Ed25519Run" };

/**
 * native/ed25519.c: a run of Ed25519 checks shared between the calling thread and one thread of
 * libuv's pool (src/mls/crypto/verifyRun.ts). `runOpen(done)` starts the pool thread; `done`
 * gets one verdict byte for each item the pool thread took, items 0..n-1 (1 valid, 2 invalid,
 * 0 unchecked). `runAdd` copies an item in (a 32-byte key, a 64-byte signature); `runTake` hands
 * the caller an item's index from the back, -1 when none is left; `runClose` ends the caller's
 * part. A wrong argument, an add after a take or a call after close throws a TypeError.
 *
 * @example
 * ```ts
 * const run = nativeAddon!.runOpen((verdicts) => console.log(verdicts));
 * nativeAddon!.runAdd(run, publicKey, message, signature);
 * for (let i = nativeAddon!.runTake(run); i >= 0; i = nativeAddon!.runTake(run)) check(i);
 * nativeAddon!.runClose(run);
 * ```
 */
export interface Ed25519RunAddon {
  runOpen(done: (verdicts: Uint8Array) => void): Ed25519Run;
  runAdd(run: Ed25519Run, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): void;
  runTake(run: Ed25519Run): number;
  runClose(run: Ed25519Run): void;
}

/** Where native/build.cjs puts the addon, from dist/src/ (this module's place once built). */
const ADDON = "../../native/build/Release/secret_group_native.node";

function load(): NativeAddon | undefined {
  if (process.env.SECRET_GROUP_NATIVE === "0") return undefined;
  try {
    const binding = createRequire(import.meta.url)(ADDON) as Partial<NativeAddon>;
    const calls = [binding.open, binding.seal, binding.hmac, binding.runOpen, binding.runAdd, binding.runTake, binding.runClose];
    return calls.every((call) => typeof call === "function") ? (binding as NativeAddon) : undefined;
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
