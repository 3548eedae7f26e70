/**
 * Versioned encoding of a {@link GroupState} for the store.
 *
 * ```
 * struct {
 *   uint8 version = STORAGE_VERSION;
 *   opaque group_id<V>; opaque owner<V>; opaque self<V>;
 *   uint8 status;                      // 1 member, 2 removed
 *   LongTermSecretCiphersuite ciphersuite;
 *   uint64 nonce_counter;
 *   opaque secrets<V>;                 // LongTermSecret secrets<V>
 *   opaque mls_state<V>;               // ts-mls GroupState encoding (client config re-attached on decode)
 * } StoredGroupState;
 * ```
 *
 * @module
 */
import { equalBytes } from "../bytes.js";
import { ID_SIZE, PUBLIC_KEY_SIZE, STORAGE_VERSION } from "../constants.js";
import { Writer, decodeAll } from "../codec/tls.js";
import type { Reader } from "../codec/tls.js";
import { DecodeError, ErrorCode, StorageError } from "../errors.js";
import { ciphersuiteFromId, ciphersuiteId } from "../lts/ciphersuite.js";
import { decodeLongTermSecrets, encodeLongTermSecrets } from "../lts/secret.js";
import { decodeMlsState, encodeMlsState } from "../mls/codec.js";
import { mlsEpochOf, mlsGroupIdOf } from "../mls/group.js";
import { DEFAULT_PROVIDER } from "../mls/suite.js";
import type { ProviderName } from "../mls/suite.js";
import { asMlsEpoch, assertGroupState } from "./state.js";
import type { GroupState } from "./state.js";

const STATUS_MEMBER = 1;
const STATUS_REMOVED = 2;

/** The fields around the MLS state, as {@link readGroupWrapper} returns them. @example `readGroupWrapper(r, { nonceCounter: true }).owner` */
export interface GroupWrapper {
  readonly groupId: Uint8Array;
  readonly owner: Uint8Array;
  readonly self: Uint8Array;
  readonly status: "member" | "removed";
  readonly ciphersuite: GroupState["ciphersuite"];
  /** Only where the layout holds it (the engine's store keeps the counter in its reservation). */
  readonly nonceCounter?: bigint;
  readonly secrets: GroupState["secrets"];
}

/**
 * Writes the wrapper of a group state: ids, keys, status, ciphersuite, the nonce counter when
 * `nonceCounter`, the long-term secrets. The one writer of both stored layouts (this module's
 * {@link encodeGroupState} and the engine's incremental state head, src/engine/store/stateCodec.ts).
 *
 * @example
 * ```ts
 * writeGroupWrapper(new Writer(256), state, { nonceCounter: false }).finish()
 * ```
 */
export function writeGroupWrapper(w: Writer, state: GroupState, layout: { readonly nonceCounter: boolean }): Writer {
  w.opaque(state.groupId).opaque(state.owner).opaque(state.self);
  w.u8(state.status === "member" ? STATUS_MEMBER : STATUS_REMOVED).u8(ciphersuiteId(state.ciphersuite));
  if (layout.nonceCounter) w.u64(state.nonceCounter);
  return w.opaque(encodeLongTermSecrets(state.secrets));
}

/**
 * Reads what {@link writeGroupWrapper} wrote, with every check: id and key sizes, status,
 * ciphersuite, secrets. Throws only DecodeError.
 *
 * @example
 * ```ts
 * const wrapper = readGroupWrapper(reader, { nonceCounter: true })
 * ```
 */
export function readGroupWrapper(r: Reader, layout: { readonly nonceCounter: boolean }): GroupWrapper {
  const groupId = r.opaque(ID_SIZE);
  const owner = r.opaque(PUBLIC_KEY_SIZE);
  const self = r.opaque(PUBLIC_KEY_SIZE);
  if (owner.length !== PUBLIC_KEY_SIZE || self.length !== PUBLIC_KEY_SIZE) throw new DecodeError("group state: bad key size");
  const statusByte = r.u8();
  if (statusByte !== STATUS_MEMBER && statusByte !== STATUS_REMOVED) throw new DecodeError(`group state: bad status ${statusByte}`);
  const ciphersuite = ciphersuiteFromId(r.u8());
  const nonceCounter = layout.nonceCounter ? r.u64() : undefined;
  const secrets = decodeLongTermSecrets(r.opaque());
  return { groupId, owner, self, status: statusByte === STATUS_MEMBER ? "member" : "removed", ciphersuite, ...(nonceCounter === undefined ? {} : { nonceCounter }), secrets };
}

/**
 * A group state from its wrapper and its MLS state; DecodeError when the MLS state belongs to
 * another group than the wrapper names.
 *
 * @example
 * ```ts
 * const state = groupStateOf(wrapper, mls, 0n, "default")
 * ```
 */
export function groupStateOf(wrapper: GroupWrapper, mls: GroupState["mls"], nonceCounter: bigint, provider: ProviderName): GroupState {
  if (!equalBytes(mlsGroupIdOf(mls), wrapper.groupId)) throw new DecodeError("group state: MLS group id differs");
  const { nonceCounter: _, ...fields } = wrapper;
  return { ...fields, mlsEpoch: asMlsEpoch(mlsEpochOf(mls)), nonceCounter, provider, mls };
}

/**
 * Encodes a group state (first byte: {@link STORAGE_VERSION}). The result holds private keys.
 *
 * @example
 * ```ts
 * await db.put(groupIdHex, encodeGroupState(state))
 * ```
 */
export function encodeGroupState(state: GroupState): Uint8Array {
  assertGroupState(state);
  const mls = encodeMlsState(state.mls);
  const w = new Writer(mls.length + 256 + state.secrets.length * 64).u8(STORAGE_VERSION);
  return writeGroupWrapper(w, state, { nonceCounter: true }).opaque(mls).finish();
}

/** Options of {@link decodeGroupState}. @example `decodeGroupState(bytes, { provider: "default" })` */
export interface DecodeGroupStateOptions {
  /** Crypto provider the decoded state will use. */
  readonly provider?: ProviderName;
}

/**
 * Decodes a stored group state. `STORAGE_VERSION` for an unknown format version,
 * `DECODE_ERROR` for anything malformed or inconsistent.
 *
 * @example
 * ```ts
 * const state = decodeGroupState(await db.get(groupIdHex))
 * ```
 */
export function decodeGroupState(bytes: Uint8Array, options: DecodeGroupStateOptions = {}): GroupState {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new DecodeError("group state: empty");
  if (bytes[0] !== STORAGE_VERSION) {
    throw new StorageError(ErrorCode.StorageVersion, `group state: unknown storage version ${String(bytes[0])}`);
  }
  const provider = options.provider ?? DEFAULT_PROVIDER;
  return decodeAll(bytes, "group state", (r): GroupState => {
    r.u8();
    const wrapper = readGroupWrapper(r, { nonceCounter: true });
    return groupStateOf(wrapper, decodeMlsState(r.opaque()), wrapper.nonceCounter ?? 0n, provider);
  });
}
