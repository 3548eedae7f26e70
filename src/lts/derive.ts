/**
 * Long-term keys and nonces from the MLS exporter (DESIGN.md section 2):
 * key = `MLS-Exporter("long_term_secret" || decimal(epoch), "", key size)`,
 * nonce = `MLS-Exporter("long_term_nonce" || hex(author) || decimal(counter), "", 12)`.
 *
 * @module
 */
import { LTS_KEY_LABEL, LTS_NONCE_LABEL, LTS_NONCE_SIZE, PUBLIC_KEY_SIZE } from "../constants.js";
import type { LongTermCiphersuiteName } from "../constants.js";
import { toHex } from "../bytes.js";
import { ErrorCode, InternalError, UsageError } from "../errors.js";
import { longTermKeySize } from "./ciphersuite.js";
import { asLongTermEpoch, checkGroupId } from "./secret.js";
import type { LongTermSecret } from "./secret.js";

const U64_MAX = (1n << 64n) - 1n;

/**
 * RFC 9420 `MLS-Exporter(label, context = "", length)` of the current epoch of a group.
 *
 * @example
 * ```ts
 * const exporter: Exporter = (label, length) => mlsExport(state, label, length)
 * ```
 */
export type Exporter = (label: string, length: number) => Promise<Uint8Array>;

/**
 * Exporter label of the long-term key of `epoch`: `"long_term_secret"` then the decimal epoch.
 *
 * @example
 * ```ts
 * longTermKeyLabel(12n) // "long_term_secret12"
 * ```
 */
export function longTermKeyLabel(epoch: bigint): string {
  return `${LTS_KEY_LABEL}${asLongTermEpoch(epoch).toString(10)}`;
}

/**
 * Exporter label of a long-term nonce: `"long_term_nonce"`, the lowercase hex of the author's
 * 32-byte public key, then the decimal counter (0..2^64-1).
 *
 * @example
 * ```ts
 * longTermNonceLabel(publicKey, 1n) // "long_term_nonce" + 64 hex characters + "1"
 * ```
 */
export function longTermNonceLabel(author: Uint8Array, counter: bigint): string {
  if (!(author instanceof Uint8Array) || author.length !== PUBLIC_KEY_SIZE) {
    throw new UsageError(ErrorCode.InvalidArgument, `author must be a ${PUBLIC_KEY_SIZE}-byte public key`);
  }
  if (typeof counter !== "bigint" || counter < 0n || counter > U64_MAX) {
    throw new UsageError(ErrorCode.InvalidArgument, `nonce counter must be a u64 bigint: ${String(counter)}`);
  }
  return `${LTS_NONCE_LABEL}${toHex(author)}${counter.toString(10)}`;
}

async function exportExactly(exporter: Exporter, label: string, length: number): Promise<Uint8Array> {
  const out = await exporter(label, length);
  // a short or long exporter output would silently change the key size: refuse it
  if (!(out instanceof Uint8Array) || out.length !== length) {
    throw new InternalError(ErrorCode.Internal, `exporter returned ${out instanceof Uint8Array ? out.length : typeof out} for ${length} bytes`);
  }
  return Uint8Array.from(out);
}

/**
 * Derives the long-term secret of `epoch` from the current MLS epoch (the owner rotates with
 * this after merging its commit).
 *
 * @example
 * ```ts
 * const secret = await deriveLongTermSecret(exporter, groupId, "PANDA10_AES256GCM", asLongTermEpoch(1))
 * ```
 */
export async function deriveLongTermSecret(
  exporter: Exporter,
  groupId: Uint8Array,
  ciphersuite: LongTermCiphersuiteName,
  epoch: bigint,
): Promise<LongTermSecret> {
  checkGroupId(groupId);
  const size = longTermKeySize(ciphersuite);
  const e = asLongTermEpoch(epoch);
  const value = await exportExactly(exporter, longTermKeyLabel(e), size);
  return { groupId: Uint8Array.from(groupId), ciphersuite, epoch: e, value };
}

/**
 * Derives the 12-byte nonce of an author's `counter`-th long-term encryption. The caller must
 * never reuse a counter under one key (persist the counter before using the nonce).
 *
 * @example
 * ```ts
 * const nonce = await deriveLongTermNonce(exporter, identity.publicKey, state.nonceCounter + 1n)
 * ```
 */
export async function deriveLongTermNonce(exporter: Exporter, author: Uint8Array, counter: bigint): Promise<Uint8Array> {
  return exportExactly(exporter, longTermNonceLabel(author, counter), LTS_NONCE_SIZE);
}
