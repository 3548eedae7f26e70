/**
 * Long-term secret ciphersuites: names, wire ids and key sizes.
 *
 * @module
 */
import { LongTermCiphersuite, LTS_KEY_SIZE } from "../constants.js";
import type { LongTermCiphersuiteId, LongTermCiphersuiteName } from "../constants.js";
import { DecodeError, ErrorCode, UsageError } from "../errors.js";

const NAME_OF_ID: ReadonlyMap<number, LongTermCiphersuiteName> = new Map(
  (Object.keys(LongTermCiphersuite) as LongTermCiphersuiteName[]).map((name) => [LongTermCiphersuite[name], name]),
);

/**
 * True when `x` is one of the spec's long-term ciphersuite names.
 *
 * @example
 * ```ts
 * isLongTermCiphersuiteName("PANDA10_AES256GCM") // true
 * isLongTermCiphersuiteName("AES") // false
 * ```
 */
export function isLongTermCiphersuiteName(x: unknown): x is LongTermCiphersuiteName {
  // hasOwnProperty, not `in`: "toString" and friends must not count as ciphersuites
  return typeof x === "string" && Object.prototype.hasOwnProperty.call(LongTermCiphersuite, x);
}

/**
 * Wire id (u8) of a ciphersuite name; a usage error for anything that is not a name.
 *
 * @example
 * ```ts
 * ciphersuiteId("PANDA10_CHACHA20POLY1305") // 3
 * ```
 */
export function ciphersuiteId(name: LongTermCiphersuiteName): LongTermCiphersuiteId {
  if (!isLongTermCiphersuiteName(name)) {
    throw new UsageError(ErrorCode.InvalidArgument, `unknown long-term ciphersuite: ${String(name)}`);
  }
  return LongTermCiphersuite[name];
}

/**
 * Ciphersuite name of a wire id. Unknown ids are a {@link DecodeError}, since ids only come from bytes.
 *
 * @example
 * ```ts
 * ciphersuiteFromId(1) // "PANDA10_AES128GCM"
 * ```
 */
export function ciphersuiteFromId(id: number): LongTermCiphersuiteName {
  const name = NAME_OF_ID.get(id);
  if (name === undefined) throw new DecodeError(`unknown long-term ciphersuite id: ${String(id)}`);
  return name;
}

/**
 * AEAD key size in bytes of a ciphersuite (16 for AES-128-GCM, 32 otherwise).
 *
 * @example
 * ```ts
 * longTermKeySize("PANDA10_AES128GCM") // 16
 * ```
 */
export function longTermKeySize(name: LongTermCiphersuiteName): number {
  if (!isLongTermCiphersuiteName(name)) {
    throw new UsageError(ErrorCode.InvalidArgument, `unknown long-term ciphersuite: ${String(name)}`);
  }
  return LTS_KEY_SIZE[name];
}
