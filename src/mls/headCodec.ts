/**
 * The ts-mls half of a stored state head (storage.ts, part `h`): ts-mls's own encoding of the
 * state with its trees stripped (the trees are stored in chunks), byte for byte as
 * `encodeGroupState(stripTrees(mls))`, but with each retained past epoch's entry encoded once.
 *
 * Why: a receiver's commit at 1000 members rewrites the head, and 16 retained past epochs are
 * ~85% of its 8.4 KB (each a stub tree's leaf, its group context and two secrets); ts-mls's
 * encoders re-encoded all of them on every commit, on the worker, before the engine can write
 * (~0.2-0.4 ms of a ~13 ms commit). A past epoch's entry never changes while it is retained
 * (ts-mls updates immutably: a changed entry, a past epoch's secret tree after a decryption, is
 * a new object), so its stripped encoding is kept per entry object, in a WeakMap that lets it go
 * with the entry. The head's bytes, hence the storage format, are unchanged. A head read back
 * ({@link decodeStrippedState}) keeps each past entry's bytes, so a loaded state's next head
 * encodes none of them again either.
 *
 * @module
 */
import { encodeGroupState } from "ts-mls";
import type { ClientState, EpochReceiverData, RatchetTree } from "ts-mls";
import { decodeEpochReceiverData, epochReceiverDataEncoder } from "ts-mls/epochReceiverData.js";
import { decodeGroupActiveState, groupActiveStateEncoder } from "ts-mls/groupActiveState.js";
import { decodeGroupContext } from "ts-mls/groupContext.js";
import { decodeKeySchedule } from "ts-mls/keySchedule.js";
import { decodePrivateKeyPath } from "ts-mls/privateKeyPath.js";
import { decodeRatchetTree } from "ts-mls/ratchetTree.js";
import { decodeSecretTree } from "ts-mls/secretTree.js";
import { decodeUnappliedProposals } from "ts-mls/unappliedProposals.js";
import { bigintMapEncoder, decodeBigintMap, decodeVarLenData } from "ts-mls/codec/variableLength.js";
import { mapDecoders } from "ts-mls/codec/tlsDecoder.js";
import type { Decoder } from "ts-mls/codec/tlsDecoder.js";
import { encode } from "ts-mls/codec/tlsEncoder.js";
import type { BufferEncoder } from "ts-mls/codec/tlsEncoder.js";

// ts-mls refuses to decode an empty ratchet tree, so a stripped tree keeps one non-blank node.
function stubTree(tree: RatchetTree): RatchetTree {
  const node = tree.find((n) => n !== undefined);
  return node === undefined ? [] : [node];
}

const stripEntry = (data: EpochReceiverData): EpochReceiverData => ({ ...data, ratchetTree: stubTree(data.ratchetTree), secretTree: [] });

/** The state with its current trees stripped and `history` as its past epochs. */
const stripped = (mls: ClientState, history: Map<bigint, EpochReceiverData>): ClientState => ({ ...mls, ratchetTree: stubTree(mls.ratchetTree), secretTree: [], historicalReceiverData: history });

/**
 * The state as the head stores it: every tree emptied but for a stub (the reference the head
 * encoding must equal).
 *
 * @example
 * ```ts
 * encodeGroupState(stripTrees(mls)) // the bytes encodeStrippedState(mls) returns
 * ```
 */
export function stripTrees(mls: ClientState): ClientState {
  const hist = new Map<bigint, EpochReceiverData>();
  for (const [epoch, data] of mls.historicalReceiverData) hist.set(epoch, stripEntry(data));
  return stripped(mls, hist);
}

/**
 * Entries of a loaded state whose trees are built on first use (storageLoad.ts), each with the
 * stripped entry the head was decoded to: what stripping the entry gives, without building its
 * trees (the stub is the first node of the same tree).
 */
const strippedEntries = new WeakMap<EpochReceiverData, EpochReceiverData>();

/** Each entry's stripped encoding: made once per entry object, or the bytes a head was decoded from. */
const entries = new WeakMap<EpochReceiverData, Uint8Array>();

/**
 * Remembers `stripped` (decoded from a stored head) as what {@link stripTrees} makes of `entry`,
 * whose trees are not built yet: the head's encoding then reads `stripped`, not the trees, and
 * takes the bytes {@link decodeStrippedState} read it from as they are.
 *
 * @example
 * ```ts
 * keepStrippedEntry(lazyEntry, decodedHead.historicalReceiverData.get(epoch)!)
 * ```
 */
export function keepStrippedEntry(entry: EpochReceiverData, stripped: EpochReceiverData): void {
  strippedEntries.set(entry, stripped);
  const stored = entries.get(stripped);
  if (stored !== undefined) entries.set(entry, stored);
}

const decodeEntryKeepingBytes: Decoder<EpochReceiverData> = (b, offset) => {
  const out = decodeEpochReceiverData(b, offset);
  if (out !== undefined) entries.set(out[0], b.subarray(offset, offset + out[1])); // a decoder answers [value, bytes read]
  return out;
};

/** ts-mls 1.6.4's `decodeGroupState` (clientState.js), field for field, its past entries read by decodeEntryKeepingBytes. */
const decodeHead = mapDecoders(
  [decodeGroupContext, decodeKeySchedule, decodeSecretTree, decodeRatchetTree, decodePrivateKeyPath, decodeVarLenData, decodeUnappliedProposals, decodeVarLenData, decodeBigintMap(decodeEntryKeepingBytes), decodeGroupActiveState],
  (groupContext, keySchedule, secretTree, ratchetTree, privatePath, signaturePrivateKey, unappliedProposals, confirmationTag, historicalReceiverData, groupActiveState) =>
    ({ groupContext, keySchedule, secretTree, ratchetTree, privatePath, signaturePrivateKey, unappliedProposals, confirmationTag, historicalReceiverData, groupActiveState }) as unknown as ClientState,
);

/**
 * Decodes a stored head's ts-mls half (what {@link encodeStrippedState} wrote) as ts-mls's
 * `decodeGroupState` does, keeping each past epoch's entry's bytes: a state loaded from the
 * store then writes those entries into its next head as they are, not encoded again (16 of
 * them are ~0.11 ms of a reloaded receiver's first commit at 1000 members). Undefined where
 * ts-mls's decoder answers undefined, or when bytes are left over; throws what it throws (its
 * CodecError for cut bytes).
 *
 * @example
 * ```ts
 * const stripped = decodeStrippedState(tsHead) // as decodeGroupState(tsHead, 0)?.[0]
 * ```
 */
export function decodeStrippedState(bytes: Uint8Array): ClientState | undefined {
  const out = decodeHead(bytes, 0);
  return out === undefined || out[1] !== bytes.length ? undefined : out[0];
}

const encodeEntry = encode(epochReceiverDataEncoder);
const encodeActive = encode(groupActiveStateEncoder);
/** Already encoded entries, written as they are. */
const rawEncoder: BufferEncoder<Uint8Array> = (bytes) => [bytes.length, (offset, buffer) => new Uint8Array(buffer).set(bytes, offset)];
const encodeHistory = encode(bigintMapEncoder(rawEncoder));

function entryBytes(data: EpochReceiverData): Uint8Array {
  let bytes = entries.get(data);
  if (bytes === undefined) {
    bytes = encodeEntry(strippedEntries.get(data) ?? stripEntry(data));
    entries.set(data, bytes);
  }
  return bytes;
}

/**
 * `encodeGroupState(stripTrees(mls))`, with the past epochs' entries from the cache: the state is
 * encoded with no past epochs (an empty map is its one length byte, followed only by the group's
 * active state), and the map of cached entries goes in that byte's place.
 *
 * @example
 * ```ts
 * const bytes = encodeStrippedState(mls)
 * ```
 */
export function encodeStrippedState(mls: ClientState): Uint8Array {
  const past = mls.historicalReceiverData;
  const bare = encodeGroupState(stripped(mls, new Map()));
  if (past.size === 0) return bare;
  const at = bare.length - encodeActive(mls.groupActiveState).length - 1;
  const history = encodeHistory(new Map([...past].map(([epoch, data]) => [epoch, entryBytes(data)])));
  const out = new Uint8Array(bare.length - 1 + history.length);
  out.set(bare.subarray(0, at));
  out.set(history, at);
  out.set(bare.subarray(at + 1), at + history.length);
  return out;
}
