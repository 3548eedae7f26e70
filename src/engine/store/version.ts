/**
 * The format version byte in front of every stored value ({@link STORAGE_VERSION}): added on
 * the way into the store, checked and stripped on the way out.
 *
 * @module
 */
import { STORAGE_VERSION } from "../../constants.js";
import { ErrorCode, StorageError } from "../../errors.js";
import { concatBytes } from "../../bytes.js";

const VERSION_PREFIX = Uint8Array.of(STORAGE_VERSION);

/**
 * Prefixes `bytes` with the storage format version.
 *
 * @example
 * ```ts
 * versioned(new Uint8Array([7])) // [STORAGE_VERSION, 7]
 * ```
 */
export function versioned(bytes: Uint8Array): Uint8Array {
  return concatBytes(VERSION_PREFIX, bytes);
}

/**
 * Strips and checks the format version byte; an unknown version is `StorageError(STORAGE_VERSION)`.
 *
 * @example
 * ```ts
 * unversioned(versioned(b), "group record") // b
 * ```
 */
export function unversioned(value: Uint8Array, what: string): Uint8Array {
  if (value.length === 0 || value[0] !== STORAGE_VERSION) {
    throw new StorageError(ErrorCode.StorageVersion, `${what}: unknown storage format version ${value[0] ?? "(empty)"}`);
  }
  return value.subarray(1);
}
