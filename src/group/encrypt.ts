/**
 * Encrypting field values with either scheme (spec "Encryption").
 *
 * @module
 */
import { MAX_PLAINTEXT_SIZE, Scheme } from "../constants.js";
import type { SchemeName } from "../constants.js";
import { ErrorCode, InternalError, UsageError } from "../errors.js";
import { encodeSecretGroupMessage } from "../message.js";
import { deriveLongTermNonce } from "../lts/derive.js";
import { sealLongTerm } from "../lts/encrypt.js";
import { latestLongTermSecret } from "../lts/secret.js";
import { mlsSeal } from "../mls/application.js";
import { assertMember, exporterOf } from "./state.js";
import type { GroupState } from "./state.js";

const EMPTY = new Uint8Array(0);
const U64_MAX = (1n << 64n) - 1n;

/** Options of {@link encrypt}. @example `encrypt(state, bytes, { scheme: "sender-ratchet", aad: fieldContext })` */
export interface EncryptOptions {
  /** `"long-term"` or `"sender-ratchet"`. */
  readonly scheme: SchemeName;
  /** Context the ciphertext is bound to (document id and field name, say); the reader passes the same. */
  readonly aad?: Uint8Array;
}

/** The new state and the encoded SecretGroupMessage. @example `const { state: next, message }: EncryptResult = await encrypt(state, bytes, { scheme: "long-term" })` */
export interface EncryptResult {
  readonly state: GroupState;
  readonly message: Uint8Array;
}

/**
 * Encrypts a field value. Long-term: the latest long-term secret, the next nonce counter
 * (returned in `state.nonceCounter`; persist it before publishing), a nonce exported from
 * the current MLS epoch. Sender-ratchet: an MLS application message (this member cannot
 * decrypt it later: keep the plaintext). Errors: `NOT_MEMBER`, `INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * const { state: next, message } = await encrypt(state, utf8("hello"), { scheme: "long-term" })
 * ```
 */
export async function encrypt(state: GroupState, plaintext: Uint8Array, options: EncryptOptions): Promise<EncryptResult> {
  assertMember(state);
  if (!(plaintext instanceof Uint8Array)) throw new UsageError(ErrorCode.InvalidArgument, "plaintext must be a Uint8Array");
  if (plaintext.length > MAX_PLAINTEXT_SIZE) throw new UsageError(ErrorCode.InvalidArgument, "plaintext too large");
  const aad = options?.aad ?? EMPTY;
  if (!(aad instanceof Uint8Array)) throw new UsageError(ErrorCode.InvalidArgument, "aad must be a Uint8Array");
  switch (options?.scheme) {
    case Scheme.LongTerm: {
      const secret = latestLongTermSecret(state.secrets);
      if (secret === undefined) throw new InternalError(ErrorCode.Internal, "group holds no long-term secret");
      const counter = state.nonceCounter + 1n;
      if (counter > U64_MAX) throw new UsageError(ErrorCode.InvalidArgument, "long-term nonce counter exhausted");
      const nonce = await deriveLongTermNonce(exporterOf(state.mls, state.provider), state.self, counter);
      const ciphertext = sealLongTerm(secret, nonce, plaintext, aad);
      return { state: { ...state, nonceCounter: counter }, message: encodeSecretGroupMessage({ type: "long-term", ciphertext }) };
    }
    case Scheme.SenderRatchet: {
      const sealed = await mlsSeal(state.mls, state.provider, plaintext, aad);
      return { state: { ...state, mls: sealed.state }, message: encodeSecretGroupMessage({ type: "mls", mlsMessage: sealed.message }) };
    }
    default:
      throw new UsageError(ErrorCode.InvalidArgument, `unknown scheme ${String(options?.scheme)}`);
  }
}
