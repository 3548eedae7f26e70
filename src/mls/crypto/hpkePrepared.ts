/**
 * Welcome encapsulations made ahead (node HPKE, hpke.ts): while ts-mls builds an add commit,
 * the seal helper thread (hpkeSealer.ts) makes one X25519 encapsulation per new member's init
 * key, so the Welcome's seals afterwards need only their key schedule and AEAD.
 *
 * Why a module of its own: the bookkeeping (which encapsulation belongs to which key, that each
 * is used once and then zeroed, that what no seal used is zeroed when the commit ends) is one
 * concern, and the seal queue in hpke.ts only asks it for an entry.
 *
 * @module
 */
import { keyScheduleOf, type HpkeSuite, type Sealed } from "./hpkeCore.js";
import { ENCAPSULATION_BYTES } from "./hpkeSealer.js";
import type { SealHelper } from "./sealHelper.js";
import { bytesKey, fresh } from "./lru.js";
import { HPKE_SEAL_OFFLOAD_MIN } from "../../constants.js";

interface Encapsulation {
  readonly enc: Uint8Array;
  readonly shared: Uint8Array;
}

/**
 * Encapsulations made ahead on the helper thread, by recipient key (hex): each used by one seal
 * to that key, then its shared secret zeroed. `inFlight` is the helper's answer still awaited:
 * a seal batch waits for it (the helper has been making them meanwhile) rather than redo them.
 */
const prepared = new Map<string, Encapsulation[]>();
let inFlight: { readonly answer: Promise<void>; readonly keys: ReadonlySet<string> } | undefined;
let preparedUsed = 0;

/**
 * Asks `helper` for one encapsulation per recipient key, to be used by the next seals to those
 * keys (a Welcome's, made while this thread builds the commit); returns `release`, which zeroes
 * and drops what no seal used (call it once the commit is done or failed). A small set, or no
 * helper up yet (it is started), prepares nothing.
 *
 * @example
 * ```ts
 * const release = prepareSeals(nodeHpkeSealHelper, initKeys);
 * try { await createCommit(...) } finally { release() }
 * ```
 */
export function prepareSeals(helper: SealHelper, recipients: readonly Uint8Array[]): () => void {
  if (recipients.length < HPKE_SEAL_OFFLOAD_MIN || !helper.ready) {
    helper.start();
    return () => undefined;
  }
  const keys = recipients.map((raw) => bytesKey(raw));
  let released = false;
  let packed: Uint8Array | undefined;
  const answer = helper.prepare(recipients).then(
    (response) => {
      packed = new Uint8Array(response.packed);
      if (released) return void packed.fill(0);
      const failed = new Set(response.failed);
      keys.forEach((key, i) => {
        if (failed.has(i)) return;
        const at = i * ENCAPSULATION_BYTES;
        const entry = { enc: (packed as Uint8Array).subarray(at, at + 32), shared: (packed as Uint8Array).subarray(at + 32, at + ENCAPSULATION_BYTES) };
        const list = prepared.get(key);
        if (list === undefined) prepared.set(key, [entry]);
        else list.push(entry);
      });
    },
    () => undefined, // a failed helper prepares nothing: the seals make their own
  );
  const flight = { answer, keys: new Set(keys) };
  inFlight = flight;
  void answer.then(() => {
    if (inFlight === flight) inFlight = undefined;
  });
  return () => {
    released = true;
    for (const key of keys) {
      const list = prepared.get(key);
      if (list === undefined) continue;
      const mine = list.filter((e) => packed !== undefined && e.shared.buffer === packed.buffer);
      const rest = list.filter((e) => !mine.includes(e));
      if (rest.length === 0) prepared.delete(key);
      else prepared.set(key, rest);
    }
    packed?.fill(0); // every shared secret of this set, used or not
  };
}

/**
 * The helper's answer a batch of seals to `recipients` should wait for: only one preparing
 * some of those keys (never another group's commit in this thread); undefined when none is.
 *
 * @example
 * ```ts
 * await preparing(batch.map((q) => q.pk.raw));
 * ```
 */
export function preparing(recipients: readonly Uint8Array[]): Promise<void> | undefined {
  const flight = inFlight;
  return flight !== undefined && recipients.some((raw) => flight.keys.has(bytesKey(raw))) ? flight.answer : undefined;
}

/**
 * Seals `plaintext` to `recipient` with an encapsulation made ahead for it, used once and then
 * zeroed; undefined when none is there (the caller seals in full).
 *
 * @example
 * ```ts
 * const sealed = sealPrepared(suite, pk.raw, context, aad, plaintext) ?? sealInFull(...);
 * ```
 */
export function sealPrepared(s: HpkeSuite, recipient: Uint8Array, context: Uint8Array, aad: Uint8Array | undefined, plaintext: Uint8Array): Sealed | undefined {
  const e = prepared.size === 0 ? undefined : prepared.get(bytesKey(recipient))?.shift();
  if (e === undefined) return undefined;
  try {
    const ks = keyScheduleOf(s, e.shared, context);
    const sealed = { enc: fresh(e.enc), ct: s.aead.seal(ks.key(), ks.nonce(), aad, plaintext) };
    preparedUsed++;
    return sealed;
  } finally {
    e.shared.fill(0); // used once, sealed or not
  }
}

/**
 * Seals this thread made with an encapsulation made ahead (tests check that an add's Welcome
 * took that path).
 *
 * @example
 * ```ts
 * const before = nodeHpkePreparedSeals();
 * ```
 */
export function nodeHpkePreparedSeals(): number {
  return preparedUsed;
}

/**
 * The node HPKE's extra (not ts-mls's): {@link prepareSeals}. src/mls/commit.ts asks for a
 * Welcome's encapsulations before ts-mls builds an add commit.
 *
 * @example
 * ```ts
 * const release = (cs.hpke as Partial<PreparesSeals>).prepareSeals?.(initKeys);
 * ```
 */
export interface PreparesSeals {
  prepareSeals(recipients: readonly Uint8Array[]): () => void;
}
