/**
 * Sorting a `decrypt` call's messages by group: each message's header is read without keys
 * and without copying its ciphertext ({@link peekHeader}; a long-term message of the usual shape
 * by {@link decryptItem}'s shortcut, which makes no object but the item), unreadable ones get
 * their error in place, the rest are batched per group so one actor job decrypts a group's share (long-term
 * ones from the held secrets, on the main thread or as a large batch in the pool; sender-ratchet
 * ones in one worker task).
 *
 * @module
 */
import { DecodeError, ErrorCode, UsageError } from "../errors.js";
import { ID_SIZE, LTS_NONCE_SIZE, LTS_TAG_SIZE, MAX_CIPHERTEXT_SIZE, SecretGroupMessageType } from "../constants.js";
import { equalBytesAt, toHex } from "../bytes.js";
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

/** Offsets of the shortcut's fixed layout: type, group id length 32, group id, epoch, nonce length 12, nonce, ciphertext length. */
const FAST_GROUP_AT = 2;
const FAST_EPOCH_AT = FAST_GROUP_AT + ID_SIZE;
const FAST_NONCE_LENGTH_AT = FAST_EPOCH_AT + 8;
const FAST_NONCE_AT = FAST_NONCE_LENGTH_AT + 1;
const FAST_CT_LENGTH_AT = FAST_NONCE_AT + LTS_NONCE_SIZE;

/**
 * Where the ciphertext starts in a long-term message of the usual shape (a 32-byte group id, the
 * ciphertext length a minimal varint of 1, 2 or 4 bytes, nothing after it), or -1 for anything
 * else: those take the decoder's path, which accepts or refuses them with its own errors.
 */
function fastCiphertextAt(m: Uint8Array): number {
  const n = m.length;
  if (n < FAST_CT_LENGTH_AT + 1 + LTS_TAG_SIZE || m[0] !== SecretGroupMessageType.LongTermSecretCiphertext || m[1] !== ID_SIZE || m[FAST_NONCE_LENGTH_AT] !== LTS_NONCE_SIZE) return -1;
  const first = m[FAST_CT_LENGTH_AT] as number;
  let length: number;
  let at: number;
  switch (first >>> 6) {
    case 0:
      length = first;
      at = FAST_CT_LENGTH_AT + 1;
      break;
    case 1:
      length = ((first & 0x3f) << 8) | (m[FAST_CT_LENGTH_AT + 1] as number);
      if (length < 0x40) return -1;
      at = FAST_CT_LENGTH_AT + 2;
      break;
    case 2:
      length = (first & 0x3f) * 0x1000000 + (((m[FAST_CT_LENGTH_AT + 1] as number) << 16) | ((m[FAST_CT_LENGTH_AT + 2] as number) << 8) | (m[FAST_CT_LENGTH_AT + 3] as number));
      if (length < 0x4000) return -1;
      at = FAST_CT_LENGTH_AT + 4;
      break;
    default:
      return -1;
  }
  return length >= LTS_TAG_SIZE && length <= MAX_CIPHERTEXT_SIZE && at + length === n ? at : -1;
}

/** The shortcut's epoch, as a number pair (a bigint only when it changes: bulk input is mostly one epoch). */
function u32At(m: Uint8Array, at: number): number {
  return (((m[at] as number) << 24) | ((m[at + 1] as number) << 16) | ((m[at + 2] as number) << 8) | (m[at + 3] as number)) >>> 0;
}

let lastHigh = 0;
let lastLow = 0;
let lastEpoch = 0n;

function fastEpoch(m: Uint8Array): bigint {
  const high = u32At(m, FAST_EPOCH_AT);
  const low = u32At(m, FAST_EPOCH_AT + 4);
  if (high !== lastHigh || low !== lastLow) {
    lastEpoch = (BigInt(high) << 32n) | BigInt(low);
    lastHigh = high;
    lastLow = low;
  }
  return lastEpoch;
}

/**
 * Peeks `message` into a decrypt item, throwing what {@link peekHeader} throws: a long-term
 * message of the usual shape by a shortcut that reads its fields' positions (no views, no
 * decoder objects), anything else by {@link peekHeader}. Both give the same item (a test
 * compares them on random and damaged input).
 *
 * @example
 * ```ts
 * const item = decryptItem(bytes, undefined) // { scheme: "long-term", epoch, nonceAt: 43, ctAt: 56, ... }
 * ```
 */
export function decryptItem(message: Uint8Array, aad: Uint8Array | undefined): DecryptItem {
  const ctAt = fastCiphertextAt(message);
  return ctAt >= 0 ? fastItem(message, aad, ctAt) : itemOf(message, peekHeader(message), aad);
}

function fastItem(message: Uint8Array, aad: Uint8Array | undefined, ctAt: number): DecryptItem {
  return { message, scheme: "long-term", epoch: fastEpoch(message), aad, groupAt: FAST_GROUP_AT, groupLength: ID_SIZE, nonceAt: FAST_NONCE_AT, ctAt };
}

/** An item from a header the decoder read (its views give the positions). */
function itemOf(message: Uint8Array, header: MessageHeader, aad: Uint8Array | undefined): DecryptItem {
  if (header.scheme !== "long-term") return { message, scheme: header.scheme, epoch: header.epoch, aad, groupAt: -1, groupLength: 0, nonceAt: -1, ctAt: -1 };
  const at = (view: Uint8Array): number => view.byteOffset - message.byteOffset;
  const { ciphertext } = header;
  return { message, scheme: "long-term", epoch: header.epoch, aad, groupAt: at(ciphertext.groupId), groupLength: ciphertext.groupId.length, nonceAt: at(ciphertext.nonce), ctAt: at(ciphertext.ciphertext) };
}

/**
 * The long-term ciphertext of an item, as views into its message (the main thread's path and
 * tests; the pool packs from the positions).
 *
 * @example
 * ```ts
 * openLongTerm(secrets, groupId, longTermCiphertextOf(item), item.aad ?? new Uint8Array(0))
 * ```
 */
export function longTermCiphertextOf(item: DecryptItem): LongTermSecretCiphertext {
  if (item.ctAt < 0) throw new UsageError(ErrorCode.InvalidArgument, "not a long-term item");
  const m = item.message;
  return {
    groupId: m.subarray(item.groupAt, item.groupAt + item.groupLength),
    epoch: item.epoch as LongTermSecretCiphertext["epoch"],
    nonce: m.subarray(item.nonceAt, item.nonceAt + LTS_NONCE_SIZE),
    ciphertext: m.subarray(item.ctAt),
  };
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
  // bulk input is mostly runs of one group: compare ids in place before hex-encoding another one
  let lastId: Uint8Array | undefined;
  let lastShare: GroupShare | undefined;
  for (let index = 0; index < messages.length; index++) {
    const input = messages[index];
    const message = input instanceof Uint8Array ? input : input?.message;
    const aad = input instanceof Uint8Array ? undefined : input?.aad;
    if (!(message instanceof Uint8Array) || (aad !== undefined && !(aad instanceof Uint8Array))) {
      throw new UsageError(ErrorCode.InvalidArgument, `message ${index} must be a Uint8Array (or { message, aad? })`);
    }
    let item: DecryptItem;
    // undefined: a shortcut item, its group id sits at FAST_GROUP_AT in the message
    let groupId: Uint8Array | undefined;
    const ctAt = fastCiphertextAt(message);
    if (ctAt >= 0) {
      item = fastItem(message, aad, ctAt);
    } else {
      try {
        const header = peekHeader(message);
        if (header.groupId.length !== ID_SIZE) throw new DecodeError("message names a group id that is not 32 bytes");
        item = itemOf(message, header, aad);
        groupId = header.groupId;
      } catch (e) {
        results[index] = e instanceof Error ? e : new Error(String(e));
        continue;
      }
    }
    let share: GroupShare;
    if (lastShare !== undefined && lastId !== undefined && (groupId === undefined ? equalBytesAt(lastId, message, FAST_GROUP_AT, ID_SIZE) : equalBytesAt(lastId, groupId, 0, ID_SIZE))) {
      share = lastShare;
    } else {
      const id = groupId ?? message.subarray(FAST_GROUP_AT, FAST_GROUP_AT + ID_SIZE);
      const gid = toHex(id);
      share = byGroup.get(gid) ?? { indices: [], items: [] };
      byGroup.set(gid, share);
      lastId = id;
      lastShare = share;
    }
    share.indices.push(index);
    share.items.push(item);
  }
  return { results, byGroup };
}
