/**
 * `LongTermSecretCiphertext { opaque group_id<V>; LongTermSecretEpoch long_term_epoch;
 * opaque nonce<V>; opaque ciphertext<V>; }` (ciphertext includes the 16-byte tag).
 *
 * @module
 */
import { LTS_NONCE_SIZE, LTS_TAG_SIZE, MAX_CIPHERTEXT_SIZE, MAX_GROUP_ID_SIZE } from "../constants.js";
import { Writer, decodeAll } from "../codec/tls.js";
import type { Reader } from "../codec/tls.js";
import { DecodeError, ErrorCode, UsageError } from "../errors.js";
import { asLongTermEpoch, checkGroupId } from "./secret.js";
import type { LongTermEpoch } from "./secret.js";

/**
 * A field value encrypted under the long-term secret of `epoch`.
 *
 * @example
 * ```ts
 * const ct: LongTermSecretCiphertext = sealLongTerm(secret, nonce, plaintext)
 * ```
 */
export interface LongTermSecretCiphertext {
  readonly groupId: Uint8Array;
  readonly epoch: LongTermEpoch;
  /** 12 bytes. */
  readonly nonce: Uint8Array;
  /** AEAD output: ciphertext || 16-byte tag. */
  readonly ciphertext: Uint8Array;
}

function checkCiphertext(ct: LongTermSecretCiphertext): void {
  if (typeof ct !== "object" || ct === null) throw new UsageError(ErrorCode.InvalidArgument, "not a long-term ciphertext");
  checkGroupId(ct.groupId);
  asLongTermEpoch(ct.epoch);
  if (!(ct.nonce instanceof Uint8Array) || ct.nonce.length !== LTS_NONCE_SIZE) {
    throw new UsageError(ErrorCode.InvalidArgument, `nonce must be ${LTS_NONCE_SIZE} bytes`);
  }
  if (
    !(ct.ciphertext instanceof Uint8Array) ||
    ct.ciphertext.length < LTS_TAG_SIZE ||
    ct.ciphertext.length > MAX_CIPHERTEXT_SIZE
  ) {
    throw new UsageError(ErrorCode.InvalidArgument, `ciphertext must be ${LTS_TAG_SIZE}..${MAX_CIPHERTEXT_SIZE} bytes`);
  }
}

/**
 * Writes a ciphertext into `w` (for codecs that embed it); validates first.
 *
 * @example
 * ```ts
 * const w = new Writer().u8(2)
 * writeLongTermSecretCiphertext(w, ct)
 * ```
 */
export function writeLongTermSecretCiphertext(w: Writer, ct: LongTermSecretCiphertext): void {
  checkCiphertext(ct);
  w.opaque(ct.groupId).u64(ct.epoch).opaque(ct.nonce).opaque(ct.ciphertext);
}

/**
 * Reads a ciphertext from `r`; throws only {@link DecodeError}. Byte arrays are copies, or
 * views into the input with `copy: false` (for a reader that opens it at once, in bulk).
 *
 * @example
 * ```ts
 * const ct = decodeAll(bytes, "LongTermSecretCiphertext", readLongTermSecretCiphertext)
 * ```
 */
export function readLongTermSecretCiphertext(r: Reader, options: { readonly copy?: boolean } = {}): LongTermSecretCiphertext {
  const bytes = (max: number): Uint8Array => (options.copy === false ? r.opaqueView(max) : r.opaque(max));
  const groupId = bytes(MAX_GROUP_ID_SIZE);
  const epoch = r.u64() as LongTermEpoch;
  const nonce = bytes(LTS_NONCE_SIZE);
  if (nonce.length !== LTS_NONCE_SIZE) throw new DecodeError(`LongTermSecretCiphertext: nonce is ${nonce.length} bytes`);
  const ciphertext = bytes(MAX_CIPHERTEXT_SIZE);
  if (ciphertext.length < LTS_TAG_SIZE) {
    throw new DecodeError(`LongTermSecretCiphertext: ciphertext shorter than the ${LTS_TAG_SIZE}-byte tag`);
  }
  return { groupId, epoch, nonce, ciphertext };
}

/**
 * Encodes a `LongTermSecretCiphertext`; usage error on a malformed one.
 *
 * @example
 * ```ts
 * const bytes = encodeLongTermSecretCiphertext(sealLongTerm(secret, nonce, plaintext))
 * ```
 */
export function encodeLongTermSecretCiphertext(ct: LongTermSecretCiphertext): Uint8Array {
  const w = new Writer(64 + (ct?.ciphertext?.length ?? 0));
  writeLongTermSecretCiphertext(w, ct);
  return w.finish();
}

/**
 * Decodes a `LongTermSecretCiphertext`; throws only {@link DecodeError} (nonce not 12 bytes,
 * ciphertext shorter than the tag, group id over 256 bytes, truncated or trailing bytes).
 *
 * @example
 * ```ts
 * const ct = decodeLongTermSecretCiphertext(bytes)
 * ```
 */
export function decodeLongTermSecretCiphertext(bytes: Uint8Array): LongTermSecretCiphertext {
  return decodeAll(bytes, "LongTermSecretCiphertext", (r) => readLongTermSecretCiphertext(r));
}
