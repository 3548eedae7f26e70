/**
 * Which groups have stored Welcome entries (`welcomes/<gid>/<commit id>`: a commit whose Welcome
 * names one of this node's key packages, stored before its group's SecretGroup document), kept
 * in memory so the drain after a group document (src/engine/drain.ts `joinStep`) scans the store
 * only for a group that has one: in a stream of many new groups most group documents come
 * before their commits, and each would otherwise cost a scan that finds nothing.
 *
 * Derived from the store when the engine opens and changed only after a batch is written, from
 * the batch's own operations (like src/engine/pending.ts), so it never misses an entry the store
 * holds: a failed batch leaves it as it was (an entry it still lists costs a scan, nothing more).
 *
 * @module
 */
import { Sublevel } from "./store/sublevels.js";
import type { EngineStore, StoreOp } from "./store/store.js";

/**
 * The stored Welcome entries by group.
 *
 * @example
 * ```ts
 * const welcomes = await WelcomeKeys.load(store)
 * if (welcomes.has(gid)) { ... }
 * ```
 */
export class WelcomeKeys {
  private readonly groups = new Map<string, Set<string>>();

  /** Every stored Welcome entry. @example `await WelcomeKeys.load(store)` */
  static async load(store: EngineStore): Promise<WelcomeKeys> {
    const keys = new WelcomeKeys();
    for (const key of await store.keys(Sublevel.Welcomes, "")) keys.add(key);
    return keys;
  }

  /** True when the group may have a stored Welcome entry. @example `welcomes.has(gid)` */
  has(gid: string): boolean {
    return this.groups.has(gid);
  }

  /** True when the store may hold the Welcome entry of the group's commit `cid`. @example `welcomes.holds(gid, cid)` */
  holds(gid: string, cid: string): boolean {
    return this.groups.get(gid)?.has(cid) === true;
  }

  /**
   * The group's first stored Welcome entry `[key, key package ref]` in key order (as a scan of
   * `welcomes/<gid>/` would return it first), read by point reads of the keys listed here, in
   * order, until one is found (an iterator costs more than the one or two reads a group has;
   * a listed key the store no longer holds, its batch failed, is skipped), and whether the group
   * lists keys after it. Undefined when the store holds none of the group's listed keys.
   *
   * @example
   * ```ts
   * const found = await welcomes.first(store, gid); // { entry: [key, ref], more: false }
   * ```
   */
  async first(store: EngineStore, gid: string): Promise<{ entry: [string, Uint8Array]; more: boolean } | undefined> {
    const cids = [...(this.groups.get(gid) ?? [])].sort();
    for (let i = 0; i < cids.length; i++) {
      const key = `${gid}/${cids[i]}`;
      const ref = await store.get(Sublevel.Welcomes, key, "welcome index");
      if (ref !== undefined) return { entry: [key, ref], more: i + 1 < cids.length };
    }
    return undefined;
  }

  private add(key: string): void {
    const [gid, cid] = split(key);
    let group = this.groups.get(gid);
    if (group === undefined) this.groups.set(gid, (group = new Set()));
    group.add(cid);
  }

  private remove(key: string): void {
    const [gid, cid] = split(key);
    const group = this.groups.get(gid);
    group?.delete(cid);
    if (group?.size === 0) this.groups.delete(gid);
  }

  /**
   * Follows a written batch, in its order (LevelDB applies a batch in order).
   *
   * @example
   * ```ts
   * await store.batch(ops); welcomes.afterBatch(ops)
   * ```
   */
  afterBatch(ops: readonly StoreOp[]): void {
    for (const op of ops) {
      if (op.sub !== Sublevel.Welcomes) continue;
      if (op.value === null) this.remove(op.key);
      else this.add(op.key);
    }
  }
}

/** `<gid>/<cid>` -> both (a key without `/` is kept whole as its group: listed, so scanned). */
function split(key: string): [string, string] {
  const at = key.indexOf("/");
  return at < 0 ? [key, ""] : [key.slice(0, at), key.slice(at + 1)];
}
