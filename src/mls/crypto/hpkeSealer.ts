/**
 * HPKE seals on a helper thread, so an owner's commit seals on both cores: the messages that
 * cross to the helper and what it runs (the calling thread's side is sealHelper.ts).
 *
 * Why: an owner's commit seals its path secrets once per copath resolution node, about N
 * seals at N members while owner-only commits leave the parent nodes blank; each seal is two
 * X25519 scalar multiplications and a key schedule, all CPU. ts-mls starts them all at once,
 * so hpke.ts collects them and hands part of the batch to this helper thread while the
 * calling thread seals the rest. Measured against doing each seal's DH on libuv's pool: one
 * message per batch costs less than one async job per seal (bench/ownerDev.ts).
 *
 * The helper is one `worker_threads` Worker per thread that uses it (engine pool workers
 * included), started on the first large batch and used from the next one on (a batch never
 * waits for a thread to start); it holds the event loop only while a batch is out. If it
 * fails, the batch is sealed on the calling thread (results never depend on the helper), and
 * a helper that threw is not started again in that thread.
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { encap, makeHpkeSuite, sealWith, type HpkeSuite, type Sealed, type X25519HpkeAlgorithm } from "./hpkeCore.js";
import { LruCache, bytesKey } from "./lru.js";
import { rawKey } from "./rawKey.js";
import { HPKE_KEY_CACHE_ENTRIES } from "../../constants.js";

/** A seal as it crosses to the helper: raw bytes only. @example `{ publicRaw, plaintext, context }` */
export interface RemoteSealJob {
  readonly publicRaw: Uint8Array;
  readonly plaintext: Uint8Array;
  readonly context: Uint8Array;
  readonly aad?: Uint8Array | undefined;
}

/** A batch request to the helper. @example `{ id: 1, alg, jobs }` */
export interface SealRequest {
  readonly id: number;
  readonly alg: X25519HpkeAlgorithm;
  readonly jobs: readonly RemoteSealJob[];
}

/** One seal's outcome from the helper: sealed, or why not. @example `{ enc, ct }` */
export type SealOutcome = Sealed | { readonly error: string };

/** The helper's answer to a batch. @example `{ id: 1, outcomes }` */
export interface SealResponse {
  readonly id: number;
  readonly outcomes: readonly SealOutcome[];
}

/**
 * A request for encapsulations made ahead (see {@link prepareBatch}): one per recipient key.
 *
 * @example `{ id: 2, prepare: [initKey1, initKey2] }`
 */
export interface PrepareRequest {
  readonly id: number;
  readonly prepare: readonly Uint8Array[];
}

/**
 * The helper's encapsulations, packed: for recipient i, bytes 64i..64i+32 are the KEM output
 * (`enc`) and 64i+32..64i+64 the KEM shared secret; `failed` lists the recipients whose key was
 * refused (their 64 bytes are zero). One buffer, moved, not 2N small ones copied.
 *
 * @example `{ id: 2, packed, failed: [] }`
 */
export interface PrepareResponse {
  readonly id: number;
  readonly packed: ArrayBuffer;
  readonly failed: readonly number[];
}

/** Bytes per prepared encapsulation in {@link PrepareResponse.packed}: enc then shared secret. @example `packed.byteLength / ENCAPSULATION_BYTES` */
export const ENCAPSULATION_BYTES = 64;

const suites = new Map<string, HpkeSuite>();
/**
 * The helper thread's parsed recipient keys (raw bytes -> KeyObject). The calling thread's
 * seals use hpke.ts's key cache instead (ts-mls imports each key there first); the helper does
 * not load hpke.ts, and a thread's caches are its own, so each key is parsed once per thread.
 */
const publicKeys = new LruCache<string, KeyObject>(HPKE_KEY_CACHE_ENTRIES);

function suiteOf(alg: X25519HpkeAlgorithm): HpkeSuite {
  const id = `${alg.kdf}/${alg.aead}`;
  let s = suites.get(id);
  if (s === undefined) suites.set(id, (s = makeHpkeSuite(alg)));
  return s;
}

function publicKeyOf(raw: Uint8Array): KeyObject {
  return publicKeys.getOrAdd(bytesKey(raw), () => rawKey("X25519", "public", raw));
}

/**
 * Seals jobs on this thread, each with a fresh one-time key (RFC 9180 requires one per
 * encapsulation); a seal that fails (a bad public key) reports its error and does not stop
 * the others. The one seal loop of both the calling thread (hpke.ts) and the helper.
 *
 * @example
 * ```ts
 * const outcomes = sealEach(suite, jobs, (job) => rawKey("X25519", "public", job.publicRaw));
 * ```
 */
export function sealEach<J extends RemoteSealJob>(s: HpkeSuite, jobs: readonly J[], keyOf: (job: J) => KeyObject): SealOutcome[] {
  const outcomes = new Array<SealOutcome>(jobs.length);
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i] as J;
    try {
      if (job.publicRaw.byteLength !== 32) throw new Error("X25519 public key must be 32 bytes");
      outcomes[i] = sealWith(s, { publicRaw: job.publicRaw, publicKey: () => keyOf(job), plaintext: job.plaintext, context: job.context, aad: job.aad });
    } catch (e) {
      outcomes[i] = { error: e instanceof Error ? e.message : String(e) };
    }
  }
  return outcomes;
}

/**
 * Seals a batch request on this thread (what the helper runs).
 *
 * @example
 * ```ts
 * const { outcomes } = sealBatch({ id: 1, alg, jobs });
 * ```
 */
export function sealBatch(request: SealRequest): SealResponse {
  return { id: request.id, outcomes: sealEach(suiteOf(request.alg), request.jobs, (job) => publicKeyOf(job.publicRaw)) };
}

/**
 * DHKEM(X25519) Encap for each recipient key with a fresh one-time key (RFC 9180 section 4.1),
 * without the key schedule and AEAD that need the plaintext and info: what the helper does for
 * the recipients of a Welcome while the calling thread still builds the commit. The KEM's labels
 * depend on the KEM alone, so any suite's prefixes serve.
 *
 * @example
 * ```ts
 * const { packed, failed } = prepareBatch({ id: 2, prepare: [initKey] });
 * ```
 */
export function prepareBatch(request: PrepareRequest): PrepareResponse {
  const s = suiteOf({ kdf: "HKDF-SHA256", aead: "AES128GCM" });
  const out = new Uint8Array(request.prepare.length * ENCAPSULATION_BYTES);
  const failed: number[] = [];
  request.prepare.forEach((raw, i) => {
    try {
      if (raw.byteLength !== 32) throw new Error("X25519 public key must be 32 bytes");
      const { enc, shared } = encap(s, raw, () => publicKeyOf(raw));
      out.set(enc, i * ENCAPSULATION_BYTES);
      out.set(shared, i * ENCAPSULATION_BYTES + 32);
      shared.fill(0);
    } catch {
      failed.push(i);
    }
  });
  return { id: request.id, packed: out.buffer, failed };
}
