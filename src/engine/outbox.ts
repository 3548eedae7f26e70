/**
 * The durable outbox: every document the engine creates (SecretGroup, owner commits, key
 * packages, key package deletions after a join) is written to the `outbox` sublevel in the
 * same atomic batch as the state change that created it, and that batch is synced before the
 * creating method returns. It stays until the application acknowledges it, so a process killed
 * after `rotate()` returned but before the commit was published finds the commit here after
 * the restart (without it the owner would stay one epoch ahead of every member for good).
 *
 * Keys are `<sequence>-<document id hex>`, the sequence a zero-padded decimal that grows with
 * creation (microseconds of the clock, or the last one plus one), so a scan returns documents
 * in creation order. Release 0.1.0 keys (`<15-digit milliseconds>-<id>`) sort among them by
 * their time, so they need no migration.
 *
 * @module
 */
import { toHex } from "../bytes.js";
import type { EngineStore, StoreOp } from "./store/store.js";
import { Sublevel } from "./store/sublevels.js";

/** Digits of an outbox key's sequence: microseconds since 1970 for the next 30,000 years. */
const SEQUENCE_DIGITS = 18;
/** Digits of a release 0.1.0 key's millisecond timestamp. */
const LEGACY_DIGITS = 15;

/**
 * Hands out outbox keys in creation order for one open engine (one per engine: group actors
 * run in parallel, the allocation is synchronous, so keys never collide).
 *
 * @example
 * ```ts
 * const keys = await OutboxKeys.open(store)
 * const op = outboxOp(keys, doc.id, doc.bytes)
 * ```
 */
export class OutboxKeys {
  private constructor(private last: bigint) {}

  /** Starts after the newest stored key (a clock that went back still keeps the order). @example `await OutboxKeys.open(store)` */
  static async open(store: EngineStore): Promise<OutboxKeys> {
    const keys = await store.keys(Sublevel.Outbox, "");
    const newest = keys.at(-1);
    return new OutboxKeys(newest === undefined ? 0n : sequenceOf(newest));
  }

  /** The next key for document `id`. @example `keys.next(doc.id)` */
  next(id: Uint8Array): string {
    const now = BigInt(Date.now()) * 1000n;
    this.last = now > this.last ? now : this.last + 1n;
    return `${this.last.toString().padStart(SEQUENCE_DIGITS, "0")}-${toHex(id)}`;
  }
}

/** The sequence of an outbox key, in microseconds (a release 0.1.0 key counts in milliseconds). */
function sequenceOf(key: string): bigint {
  const head = key.split("-")[0] ?? "";
  if (!/^[0-9]+$/.test(head)) return 0n;
  return head.length === LEGACY_DIGITS ? BigInt(head) * 1000n : BigInt(head);
}

/**
 * The write that puts a created document into the outbox (to go into the batch of the state
 * change that created it, written with `sync`).
 *
 * @example
 * ```ts
 * ops.push(outboxOp(ctx.outbox, doc.id, doc.bytes))
 * ```
 */
export function outboxOp(keys: OutboxKeys, id: Uint8Array, bytes: Uint8Array): StoreOp {
  return { sub: Sublevel.Outbox, key: keys.next(id), value: bytes };
}

/**
 * The documents in the outbox, oldest first.
 *
 * @example
 * ```ts
 * for (const doc of await readOutbox(store)) publish(doc)
 * ```
 */
export async function readOutbox(store: EngineStore): Promise<Uint8Array[]> {
  return (await store.scan(Sublevel.Outbox, "", "outbox")).map(([, value]) => Uint8Array.from(value));
}

/**
 * Removes the documents `ids` (lowercase hex) from the outbox in one batch; ids not in it are
 * ignored (acknowledging twice, after a restart say, is harmless). Returns how many were removed.
 *
 * @example
 * ```ts
 * await acknowledgeOutbox(store, [toHex(doc.id)]) // 1
 * ```
 */
export async function acknowledgeOutbox(store: EngineStore, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const wanted = new Set(ids);
  const keys = (await store.keys(Sublevel.Outbox, "")).filter((key) => wanted.has(key.slice(key.indexOf("-") + 1)));
  await store.batch(keys.map((key) => ({ sub: Sublevel.Outbox, key, value: null })));
  return keys.length;
}
