/**
 * Stores a {@link GroupState} incrementally: the wrapper fields (group id, owner, self,
 * status, long-term ciphersuite and secrets; written and read by src/group/codec.ts, the one
 * wrapper codec, in its layout without the nonce counter) travel as the `extra` bytes of
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
import { loadState, readStateExtra, stageState } from "../../mls/storage.js";
import type { PersistMeta, StatePart } from "../../mls/storage.js";
import type { LongTermSecret } from "../../lts/secret.js";
import { DEFAULT_PROVIDER } from "../../mls/suite.js";
import type { ProviderName } from "../../mls/suite.js";
import { groupStateOf, readGroupWrapper, writeGroupWrapper } from "../../group/codec.js";
import type { GroupWrapper } from "../../group/codec.js";
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
  const extra = writeGroupWrapper(new Writer(256 + state.secrets.length * 64), state, { nonceCounter: false }).finish();
  return stageState(extra, state.mls, previous);
}

/**
 * Rebuilds a group state from its stored parts; its nonce counter starts at `nonceCounter`.
 * `authenticated`: the parts come opened from the engine's sealed store, each authenticated
 * under its key (src/mls/storageLoad.ts `LoadOptions`); else each content-addressed part is
 * checked against its content key.
 *
 * @example
 * ```ts
 * const { state, meta } = loadGroupState(parts, record.nonceReserved, { authenticated: true })
 * ```
 */
export function loadGroupState(
  parts: ReadonlyArray<readonly [string, Uint8Array]>,
  nonceCounter: bigint,
  options: { readonly provider?: ProviderName; readonly authenticated?: boolean } = {},
): { state: GroupState; meta: PersistMeta } {
  const { extra, mls, meta } = loadState(parts, { authenticated: options.authenticated === true });
  return { state: groupStateOf(decodeWrapper(extra), mls, nonceCounter, options.provider ?? DEFAULT_PROVIDER), meta };
}

function decodeWrapper(extra: Uint8Array): GroupWrapper {
  return decodeAll(extra, "stored group wrapper", (r) => readGroupWrapper(r, { nonceCounter: false }));
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
export function secretsOfStateHead(head: Uint8Array): readonly LongTermSecret[] {
  return decodeWrapper(readStateExtra(head)).secrets;
}
