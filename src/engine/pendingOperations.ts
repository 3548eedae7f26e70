/**
 * The pending operations in memory: per group and in total, in count and bytes, loaded from
 * `oppending` when the engine opens and changed only after a batch that changes `oppending` is
 * written. It decides which pending operations a new one pushes out when a limit
 * (`EngineLimits`, src/constants.ts) is reached: the oldest of its group for a per-group
 * limit, the oldest of all (by arrival time) for a total one. Nothing but pending operations is
 * ever chosen: applied commits and decrypted values are never dropped.
 *
 * @module
 */
import type { EngineLimits } from "../constants.js";
import type { PendingEntry } from "./store/operations.js";
import { decodePendingEntry } from "./store/operations.js";
import { Sublevel } from "./store/sublevels.js";
import type { EngineStore } from "./store/store.js";

/** Names of the operation limits, also the reasons counted in `stats().dropped`. @example `"pendingOperationsPerGroup"` */
export type OperationLimitName = "pendingOperationsPerGroup" | "pendingOperationBytesPerGroup" | "pendingOperationsTotal" | "pendingOperationBytesTotal";

/** One pending operation: its group (hex), its `oppending` key and entry. @example `{ groupId, key, entry }` */
export interface PendingSlot {
  readonly groupId: string;
  readonly key: string;
  readonly entry: PendingEntry;
}

/** Which pending operations to drop before a new one is kept, and why. @example `{ drops: [{ slot, reason: "pendingOperationsPerGroup" }], refuse: undefined }` */
export interface DropPlan {
  readonly drops: ReadonlyArray<{ readonly slot: PendingSlot; readonly reason: OperationLimitName }>;
  /** Set when the new operation alone is over a byte limit: it is not kept. */
  readonly refuse?: OperationLimitName;
}

interface GroupBook {
  readonly entries: Map<string, PendingEntry>;
  bytes: number;
}

/**
 * Pending operations by group, in arrival order.
 *
 * @example
 * ```ts
 * const book = await PendingBook.load(store)
 * const plan = book.plan(gid, entry, limits)
 * ```
 */
export class PendingBook {
  private readonly groups = new Map<string, GroupBook>();
  /** Pending operations over all groups. */
  count = 0;
  /** Their document bytes. */
  bytes = 0;

  /** Reads every `oppending` entry (key order: per group, arrival order). @example `await PendingBook.load(store)` */
  static async load(store: EngineStore): Promise<PendingBook> {
    const book = new PendingBook();
    for (const [key, value] of await store.scan(Sublevel.PendingOperations, "", "pending operation")) {
      book.add(key.slice(0, key.indexOf("/")), key, decodePendingEntry(value));
    }
    return book;
  }

  /** Adds (or replaces) one entry. @example `book.add(gid, key, entry)` */
  add(groupId: string, key: string, entry: PendingEntry): void {
    this.remove(groupId, key);
    let g = this.groups.get(groupId);
    if (g === undefined) this.groups.set(groupId, (g = { entries: new Map(), bytes: 0 }));
    g.entries.set(key, entry);
    g.bytes += entry.bytes;
    this.count++;
    this.bytes += entry.bytes;
  }

  /** Removes one entry; false when it was not there. @example `book.remove(gid, key)` */
  remove(groupId: string, key: string): boolean {
    const g = this.groups.get(groupId);
    const entry = g?.entries.get(key);
    if (g === undefined || entry === undefined) return false;
    g.entries.delete(key);
    g.bytes -= entry.bytes;
    this.count--;
    this.bytes -= entry.bytes;
    if (g.entries.size === 0) this.groups.delete(groupId);
    return true;
  }

  /** A group's entries, oldest first. @example `for (const [key, entry] of book.entries(gid)) {}` */
  entries(groupId: string): Array<[string, PendingEntry]> {
    return [...(this.groups.get(groupId)?.entries ?? [])];
  }

  /** Groups with pending operations. @example `book.groupIds()` */
  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  /**
   * What keeping `entry` in `groupId` pushes out, without changing the book: the group's oldest
   * while a per-group limit would be passed, then the oldest of all while a total one would.
   *
   * @example
   * ```ts
   * const { drops, refuse } = book.plan(gid, entry, ctx.limits)
   * ```
   */
  plan(groupId: string, entry: PendingEntry, limits: EngineLimits): DropPlan {
    if (entry.bytes > limits.pendingOperationBytesPerGroup) return { drops: [], refuse: "pendingOperationBytesPerGroup" };
    if (entry.bytes > limits.pendingOperationBytesTotal) return { drops: [], refuse: "pendingOperationBytesTotal" };
    const drops: Array<{ slot: PendingSlot; reason: OperationLimitName }> = [];
    const chosen = new Set<string>();
    const g = this.groups.get(groupId);
    let groupCount = (g?.entries.size ?? 0) + 1;
    let groupBytes = (g?.bytes ?? 0) + entry.bytes;
    let count = this.count + 1;
    let bytes = this.bytes + entry.bytes;
    const take = (slot: PendingSlot, reason: OperationLimitName): void => {
      drops.push({ slot, reason });
      chosen.add(slot.key);
      count--;
      bytes -= slot.entry.bytes;
      if (slot.groupId === groupId) {
        groupCount--;
        groupBytes -= slot.entry.bytes;
      }
    };
    const ownOldest = g === undefined ? [] : [...g.entries];
    for (const [key, old] of ownOldest) {
      const reason: OperationLimitName | undefined =
        groupCount > limits.pendingOperationsPerGroup ? "pendingOperationsPerGroup" : groupBytes > limits.pendingOperationBytesPerGroup ? "pendingOperationBytesPerGroup" : undefined;
      if (reason === undefined) break;
      take({ groupId, key, entry: old }, reason);
    }
    while (count > limits.pendingOperationsTotal || bytes > limits.pendingOperationBytesTotal) {
      const reason: OperationLimitName = count > limits.pendingOperationsTotal ? "pendingOperationsTotal" : "pendingOperationBytesTotal";
      const oldest = this.oldest(chosen);
      if (oldest === undefined) break;
      take(oldest, reason);
    }
    return { drops };
  }

  /** The oldest entry of all (each group's first is its oldest), skipping `skip` keys. */
  private oldest(skip: ReadonlySet<string>): PendingSlot | undefined {
    let best: PendingSlot | undefined;
    for (const [groupId, g] of this.groups) {
      for (const [key, entry] of g.entries) {
        if (skip.has(key)) continue;
        if (best === undefined || entry.arrived < best.entry.arrived) best = { groupId, key, entry };
        break;
      }
    }
    return best;
  }
}
