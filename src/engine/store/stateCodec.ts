/**
 * Stores a {@link GroupState} incrementally: the wrapper fields (group id, owner, self,
 * status, long-term ciphersuite and secrets) travel as the `extra` bytes of
 * src/mls/storage.ts's head, the MLS state as its parts. The long-term nonce counter is not
 * stored here: the engine's group record reserves it in blocks, and a loaded state continues
 * from the reservation.
 *
 * ```
 * struct { opaque group_id<V>; opaque owner<V>; opaque self<V>; uint8 status; // 1 member, 2 removed
 *          LongTermSecretCiphersuite ciphersuite; opaque secrets<V>; } StoredGroupWrapper;
 * ```
 *
 * @module
 */
import { Writer, decodeAll } from "../../codec/tls.js";
import { DecodeError } from "../../errors.js";
import { ciphersuiteFromId, ciphersuiteId } from "../../lts/ciphersuite.js";
import { decodeLongTermSecrets, encodeLongTermSecrets } from "../../lts/secret.js";
import { loadState, readStateExtra, stageState } from "../../mls/storage.js";
import type { PersistMeta, StatePart } from "../../mls/storage.js";
import type { LongTermSecret } from "../../lts/secret.js";
import { mlsEpochOf } from "../../mls/group.js";
import { DEFAULT_PROVIDER } from "../../mls/suite.js";
import type { ProviderName } from "../../mls/suite.js";
import { asMlsEpoch } from "../../group/index.js";
import type { GroupState } from "../../group/index.js";

/**
 * Parts to write/delete so the store holds `state`, given what was persisted last.
 *
 * @example
 * ```ts
 * const { parts, meta } = stageGroupState(state, previousMeta)
 * ```
 */
export function stageGroupState(state: GroupState, previous: PersistMeta | undefined): { parts: StatePart[]; meta: PersistMeta } {
  const extra = new Writer(256 + state.secrets.length * 64)
    .opaque(state.groupId)
    .opaque(state.owner)
    .opaque(state.self)
    .u8(state.status === "member" ? 1 : 2)
    .u8(ciphersuiteId(state.ciphersuite))
    .opaque(encodeLongTermSecrets(state.secrets))
    .finish();
  return stageState(extra, state.mls, previous);
}

/**
 * Rebuilds a group state from its stored parts; its nonce counter starts at `nonceCounter`.
 *
 * @example
 * ```ts
 * const { state, meta } = loadGroupState(parts, record.nonceReserved)
 * ```
 */
export function loadGroupState(
  parts: ReadonlyArray<readonly [string, Uint8Array]>,
  nonceCounter: bigint,
  provider: ProviderName = DEFAULT_PROVIDER,
): { state: GroupState; meta: PersistMeta } {
  const { extra, mls, meta } = loadState(parts);
  const wrapper = decodeWrapper(extra);
  const state: GroupState = { ...wrapper, mlsEpoch: asMlsEpoch(mlsEpochOf(mls)), nonceCounter, provider, mls };
  return { state, meta };
}

function decodeWrapper(extra: Uint8Array) {
  return decodeAll(extra, "stored group wrapper", (r) => {
    const groupId = r.opaque();
    const owner = r.opaque();
    const self = r.opaque();
    const status = r.u8();
    if (status !== 1 && status !== 2) throw new DecodeError("stored group wrapper: bad status");
    const ciphersuite = ciphersuiteFromId(r.u8());
    const secrets = decodeLongTermSecrets(r.opaque());
    return { groupId, owner, self, status: status === 1 ? ("member" as const) : ("removed" as const), ciphersuite, secrets };
  });
}

/** Key of the state head among a group's stored parts (src/mls/storage.ts writes it whenever it changes). */
export const STATE_HEAD_PART = "h";

/**
 * The long-term secrets inside a stored state head (the `h` part), sorted by epoch, without
 * decoding the MLS state (src/mls/storage.ts `readStateExtra`); `extra` is the wrapper above. This lets the main thread open long-term ciphertexts from
 * exactly the bytes the store holds, with no second copy of the secrets to keep consistent.
 * Throws only DecodeError.
 *
 * @example
 * ```ts
 * const secrets = secretsOfStateHead(await store.get(Sublevel.State, `${gid}/h`, "group state"))
 * ```
 */
export function secretsOfStateHead(head: Uint8Array): LongTermSecret[] {
  return decodeWrapper(readStateExtra(head)).secrets;
}
