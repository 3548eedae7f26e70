/**
 * The sealed form of a stored value (src/engine/store/seal.ts seals and opens it): AES-256-GCM
 * around the value's unsealed stored form (its STORAGE_VERSION byte included), under the storage
 * key or under the value's own key (src/engine/store/keyring.ts):
 *
 * ```
 * struct { uint8 version = 2; uint8 kind;            // 0: storage key, 1: the value's own key
 *          select (kind) { case 0: uint32 generation; case 1: struct {}; };  // storage key generation (rotation)
 *          opaque salt[16]; opaque nonce[12]; opaque ciphertext_and_tag<..>; } SealedValue;
 * ```
 *
 * The associated data binds the sublevel, the key and the header (kind, generation, salt,
 * nonce): a sealed value copied to another key or sublevel, or relabelled, fails to open.
 *
 * @module
 */
import { SEALED_NONCE, SEALED_SALT, SEALED_STORAGE_VERSION, SEALED_TAG, STORAGE_AAD_LABEL } from "../../constants.js";
import { varintLength, writeVarint, Writer } from "../../codec/tls.js";
import { utf8 } from "../../bytes.js";
import { DecodeError } from "../../errors.js";

/** Who seals a value: the storage key, or the value's own key (crypto-shredded when destroyed). @example `SealKind.OwnKey` */
export const SealKind = { StorageKey: 0, OwnKey: 1 } as const;
/** `0` (the storage key) or `1` (the value's own key). @example `const k: SealKind = SealKind.OwnKey` */
export type SealKind = (typeof SealKind)[keyof typeof SealKind];

/**
 * Bytes of a sealed value's header (version, kind, generation when under the storage key, salt,
 * nonce): what precedes its ciphertext.
 *
 * @example
 * ```ts
 * sealedHeaderLength(SealKind.StorageKey) // 34
 * ```
 */
export function sealedHeaderLength(kind: SealKind): number {
  return (kind === SealKind.StorageKey ? 6 : 2) + SEALED_SALT + SEALED_NONCE;
}

/**
 * Writes a sealed value's header at the start of `out` (version, kind, the storage key's
 * `generation` when `kind` is StorageKey, `salt`, and the nonce: 4 zero bytes then `counter`);
 * returns the header and the nonce (views into `out`), which {@link parseSealed} reads back.
 *
 * @example
 * ```ts
 * const { header, nonce } = writeSealedHeader(out, SealKind.StorageKey, 0, salt, counter++)
 * ```
 */
export function writeSealedHeader(out: Uint8Array, kind: SealKind, generation: number, salt: Uint8Array, counter: bigint): { header: Uint8Array; nonce: Uint8Array } {
  const headerLength = sealedHeaderLength(kind);
  out[0] = SEALED_STORAGE_VERSION;
  out[1] = kind;
  if (kind === SealKind.StorageKey) new DataView(out.buffer, out.byteOffset + 2, 4).setUint32(0, generation);
  out.set(salt, headerLength - SEALED_NONCE - SEALED_SALT);
  const nonce = out.subarray(headerLength - SEALED_NONCE, headerLength);
  nonce.fill(0, 0, 4);
  new DataView(out.buffer, nonce.byteOffset + 4, 8).setBigUint64(0, counter);
  return { header: out.subarray(0, headerLength), nonce };
}

/** The parsed header of a sealed value, and its ciphertext and tag (views into it). */
export interface Envelope {
  readonly kind: SealKind;
  readonly generation: number;
  readonly header: Uint8Array;
  readonly salt: Uint8Array;
  readonly nonce: Uint8Array;
  readonly body: Uint8Array;
}

/**
 * The header fields of a sealed value (bounded; malformed is DecodeError).
 *
 * @example
 * ```ts
 * parseSealed(raw, "state gid/h").generation // 0
 * ```
 */
export function parseSealed(sealed: Uint8Array, what: string): Envelope {
  if (sealed[0] !== SEALED_STORAGE_VERSION) throw new DecodeError(`${what}: not a sealed value`);
  const kind = sealed[1] === SealKind.StorageKey ? SealKind.StorageKey : sealed[1] === SealKind.OwnKey ? SealKind.OwnKey : undefined;
  if (kind === undefined) throw new DecodeError(`${what}: unknown seal kind ${sealed[1] ?? "(none)"}`);
  const headerEnd = sealedHeaderLength(kind);
  if (sealed.length < headerEnd + SEALED_TAG) throw new DecodeError(`${what}: sealed value truncated`);
  const generation = kind === SealKind.StorageKey ? new DataView(sealed.buffer, sealed.byteOffset + 2, 4).getUint32(0) : -1;
  return {
    kind,
    generation,
    header: sealed.subarray(0, headerEnd),
    salt: sealed.subarray(headerEnd - SEALED_NONCE - SEALED_SALT, headerEnd - SEALED_NONCE),
    nonce: sealed.subarray(headerEnd - SEALED_NONCE, headerEnd),
    body: sealed.subarray(headerEnd),
  };
}

/**
 * The storage key generation a sealed value was sealed under (undefined: under its own key).
 *
 * @example
 * ```ts
 * if (sealedGeneration(raw) !== store.generation) reseal(raw)
 * ```
 */
export function sealedGeneration(sealed: Uint8Array): number | undefined {
  const e = parseSealed(sealed, "sealed value");
  return e.kind === SealKind.StorageKey ? e.generation : undefined;
}

// The AAD's constant front per sublevel, opaque(label) || opaque(sub): every value sealed or
// opened encoded it again (with the key, ~20 us an AAD in a micro, more than the AES-GCM of a
// 480-byte state part; a node materialising many groups seals ~6.5 values a group)
const aadFronts = new Map<string, Uint8Array>();

// The AAD is written into one buffer per thread, rewritten for each value: the AEAD reads it
// during the call and keeps nothing, and an AAD of its own per value (~140 bytes, allocated off
// V8's heap) was ~20% of the ArrayBuffers a many-groups main thread made (session 33).
let aadScratch = Buffer.allocUnsafeSlow(512);

/**
 * The associated data of the value at `sub`/`key` with `header`: opaque(STORAGE_AAD_LABEL) ||
 * opaque(sub) || opaque(key) || opaque(header). A view of this thread's scratch, valid until the
 * next call: hand it to the AEAD at once.
 *
 * @example
 * ```ts
 * nativeAead.open(suite, subkey, e.nonce, e.body, 0, e.body.length, associatedData(sub, key, e.header), out, 0)
 * ```
 */
export function associatedData(sub: string, key: string, header: Uint8Array): Uint8Array {
  let front = aadFronts.get(sub);
  if (front === undefined) aadFronts.set(sub, (front = new Writer().opaque(utf8(STORAGE_AAD_LABEL)).opaque(utf8(sub)).finish()));
  // front, then opaque(key) and opaque(header)
  const keyLength = Buffer.byteLength(key, "utf8");
  const length = front.length + varintLength(keyLength) + keyLength + varintLength(header.length) + header.length;
  if (length > aadScratch.length) aadScratch = Buffer.allocUnsafeSlow(2 * length);
  const out = aadScratch;
  out.set(front, 0);
  let at = front.length;
  at += writeVarint(out, at, keyLength);
  at += out.write(key, at, "utf8");
  at += writeVarint(out, at, header.length);
  out.set(header, at);
  return out.subarray(0, length);
}
