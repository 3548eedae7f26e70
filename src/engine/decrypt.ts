/**
 * Sorting a `decrypt` call's messages by group: each message's header is read without keys
 * and without copying its ciphertext ({@link peekHeader}), unreadable ones get their error in
 * place, the rest are batched per group so one actor job decrypts a group's share (long-term
 * ones from the held secrets, on the main thread or as a large batch in the pool; sender-ratchet
 * ones in one worker task).
 *
 * @module
 */
import { DecodeError, ErrorCode, UsageError } from "../errors.js";
import { ID_SIZE } from "../constants.js";
import { toHex } from "../bytes.js";
import type { SchemeName } from "../constants.js";
import type { LongTermSecretCiphertext } from "../lts/ciphertext.js";
import { decodeSecretGroupMessage, peekMlsPrivateMessage } from "../message.js";
import type { DecryptItem } from "./jobs.js";

/** A message to decrypt, alone or with the associated data it was bound to. @example `engine.decrypt([bytes, { message: bytes2, aad }])` */
export type DecryptInput = Uint8Array | { readonly message: Uint8Array; readonly aad?: Uint8Array };

/**
 * What routing and opening a SecretGroupMessage need, read without keys. For a long-term
 * message, `ciphertext` holds views into the message bytes (no copy), ready for `openLongTerm`.
 *
 * @example
 * ```ts
 * const h: MessageHeader = peekHeader(bytes) // { scheme: "long-term", groupId, epoch, ciphertext }
 * ```
 */
export type MessageHeader =
  | { readonly scheme: "long-term"; readonly groupId: Uint8Array; readonly epoch: bigint; readonly ciphertext: LongTermSecretCiphertext }
  | { readonly scheme: "sender-ratchet"; readonly groupId: Uint8Array; readonly epoch: bigint };

/**
 * Reads which group, scheme and epoch an encoded SecretGroupMessage needs: the same decoder
 * as `decodeSecretGroupMessage` (src/message.ts) in its copy-free mode, so the byte arrays it
 * returns are views into `bytes`.
 *
 * @example
 * ```ts
 * const { scheme, groupId, epoch } = peekHeader(bytes)
 * ```
 */
export function peekHeader(bytes: Uint8Array): MessageHeader {
  const message = decodeSecretGroupMessage(bytes, { copy: false });
  if (message.type === "long-term") {
    const { ciphertext } = message;
    return { scheme: "long-term", groupId: ciphertext.groupId, epoch: ciphertext.epoch, ciphertext };
  }
  const header = peekMlsPrivateMessage(message.mlsMessage);
  return { scheme: "sender-ratchet", groupId: header.groupId, epoch: header.epoch };
}

/** One group's share of a `decrypt` call: positions in the call and the peeked items. @example `{ indices: [0, 2], items }` */
export interface GroupShare {
  readonly indices: number[];
  readonly items: DecryptItem[];
}

/**
 * Peeks every message; rejects (throws) only for a bad argument.
 *
 * @example
 * ```ts
 * const { results, byGroup } = peekAll([m1, m2])
 * ```
 */
export function peekAll(messages: readonly DecryptInput[]): {
  results: Array<Uint8Array | Error>;
  byGroup: Map<string, GroupShare>;
} {
  if (!Array.isArray(messages)) throw new UsageError(ErrorCode.InvalidArgument, "messages must be an array");
  const results: Array<Uint8Array | Error> = new Array(messages.length);
  const byGroup = new Map<string, GroupShare>();
  // bulk input is mostly runs of one group: compare ids before hex-encoding another one
  let lastId: Uint8Array | undefined;
  let lastShare: GroupShare | undefined;
  for (let index = 0; index < messages.length; index++) {
    const input = messages[index];
    const message = input instanceof Uint8Array ? input : input?.message;
    const aad = input instanceof Uint8Array ? undefined : input?.aad;
    if (!(message instanceof Uint8Array) || (aad !== undefined && !(aad instanceof Uint8Array))) {
      throw new UsageError(ErrorCode.InvalidArgument, `message ${index} must be a Uint8Array (or { message, aad? })`);
    }
    let header: MessageHeader;
    try {
      header = peekHeader(message);
      if (header.groupId.length !== ID_SIZE) throw new DecodeError("message names a group id that is not 32 bytes");
    } catch (e) {
      results[index] = e instanceof Error ? e : new Error(String(e));
      continue;
    }
    let share: GroupShare;
    if (lastShare !== undefined && lastId !== undefined && sameId(lastId, header.groupId)) {
      share = lastShare;
    } else {
      const gid = toHex(header.groupId);
      share = byGroup.get(gid) ?? { indices: [], items: [] };
      byGroup.set(gid, share);
      lastId = header.groupId;
      lastShare = share;
    }
    const scheme: SchemeName = header.scheme;
    share.indices.push(index);
    // one object shape for every item (bulk calls make thousands of them)
    share.items.push({ message, scheme, epoch: header.epoch, aad, ciphertext: header.scheme === "long-term" ? header.ciphertext : undefined });
  }
  return { results, byGroup };
}

/** Equality of two public group ids (routing only, not secret: no constant-time need). */
function sameId(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
