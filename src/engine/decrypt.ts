/**
 * Sorting a `decrypt` call's messages by group: each message's header is read without keys
 * (src/group peekMessage), unreadable ones get their error in place, the rest are batched per
 * group so one worker task decrypts a group's share.
 *
 * @module
 */
import { DecodeError, ErrorCode, UsageError } from "../errors.js";
import { ID_SIZE } from "../constants.js";
import { toHex } from "../bytes.js";
import { peekMessage } from "../group/index.js";
import type { DecryptItem } from "./steps.js";

/** A message to decrypt, alone or with the associated data it was bound to. @example `engine.decrypt([bytes, { message: bytes2, aad }])` */
export type DecryptInput = Uint8Array | { readonly message: Uint8Array; readonly aad?: Uint8Array };

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
  byGroup: Map<string, Array<{ index: number; item: DecryptItem }>>;
} {
  if (!Array.isArray(messages)) throw new UsageError(ErrorCode.InvalidArgument, "messages must be an array");
  const results: Array<Uint8Array | Error> = new Array(messages.length);
  const byGroup = new Map<string, Array<{ index: number; item: DecryptItem }>>();
  messages.forEach((input, index) => {
    const message = input instanceof Uint8Array ? input : input?.message;
    const aad = input instanceof Uint8Array ? undefined : input?.aad;
    if (!(message instanceof Uint8Array) || (aad !== undefined && !(aad instanceof Uint8Array))) {
      throw new UsageError(ErrorCode.InvalidArgument, `message ${index} must be a Uint8Array (or { message, aad? })`);
    }
    try {
      const peek = peekMessage(message);
      if (peek.groupId.length !== ID_SIZE) throw new DecodeError("message names a group id that is not 32 bytes");
      const gid = toHex(peek.groupId);
      const list = byGroup.get(gid) ?? [];
      list.push({ index, item: { message, scheme: peek.scheme, epoch: peek.epoch, ...(aad === undefined ? {} : { aad }) } });
      byGroup.set(gid, list);
    } catch (e) {
      results[index] = e instanceof Error ? e : new Error(String(e));
    }
  });
  return { results, byGroup };
}
