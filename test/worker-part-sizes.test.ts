/**
 * The worker cache's part sizes are kept incrementally (src/engine/worker/stateCache.ts
 * `partSizes` takes the previous entry's map over and moves its total by the staged parts):
 * over a random history of stages (writes, overwrites, deletes, deletes of absent parts, a key
 * twice in one stage) the map and total equal the sizes computed from scratch from the parts
 * the store would hold, and a cache entry weighs that total plus its fixed overhead; and the
 * cache releases what it evicts or forgets (the worker then drops what else holds its tree).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CACHED_STATE_ENTRY_BYTES } from "../src/constants.js";
import { StateCache, partSizes } from "../src/engine/worker/stateCache.js";
import type { PartSizes } from "../src/engine/worker/stateCache.js";
import type { StatePart } from "../src/mls/storage.js";
import type { GroupState } from "../src/group/index.js";
import type { PersistMeta } from "../src/mls/storage.js";
import { rng } from "./prng.js";

test("worker part sizes: incremental stages equal the sizes of the stored parts, over random histories", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const r = rng(seed);
    const keys = Array.from({ length: 40 }, (_, i) => `n/${i}`);
    const stored = new Map<string, Uint8Array>();
    let sizes: PartSizes | undefined;
    const cache = new StateCache();
    for (let step = 0; step < 200; step++) {
      const parts: StatePart[] = [];
      for (let k = r.int(8); k >= 0; k--) parts.push([r.pick(keys), r.int(4) === 0 ? null : r.bytes(r.int(300))]);
      // a stage may name a key twice (a delete then a write of a content-addressed part): the last one holds
      if (r.int(5) === 0 && parts.length > 0) parts.push([parts[0]![0], r.bytes(r.int(50))]);
      for (const [key, value] of parts) {
        if (value === null) stored.delete(key);
        else stored.set(key, value);
      }
      sizes = partSizes(step % 37 === 0 ? undefined : sizes, step % 37 === 0 ? [...stored] : parts);
      const expected = new Map([...stored].map(([k, v]) => [k, v.length]));
      assert.deepEqual(new Map(sizes.map), expected, `seed ${seed} step ${step}: sizes by part`);
      assert.equal(sizes.total, [...stored.values()].reduce((a, v) => a + v.length, 0), `seed ${seed} step ${step}: total`);
      const entry = cache.remember("g", { token: `${step}`, state: {} as GroupState, meta: {} as PersistMeta }, sizes, { entries: 4, bytes: 1 << 30 });
      assert.equal(entry.bytes, sizes.total + CACHED_STATE_ENTRY_BYTES);
      assert.equal(cache.bytes, entry.bytes, "one entry under one key: the cache weighs it alone");
    }
  }
});

test("the worker cache releases an entry it evicts or forgets, and not one its group's next state replaces", () => {
  const released: string[] = [];
  const cache = new StateCache((entry) => released.push(entry.token));
  const sizes = partSizes(undefined, [["h", new Uint8Array(100)]]);
  const put = (key: string, token: string): void => void cache.remember(key, { token, state: {} as GroupState, meta: {} as PersistMeta }, sizes, { entries: 2, bytes: 1 << 30 });
  put("e:a", "a1");
  put("e:a", "a2"); // a's next state
  assert.deepEqual(released, []);
  put("e:b", "b1");
  put("e:c", "c1"); // over 2 entries: a, the least recently used, goes
  assert.deepEqual(released, ["a2"]);
  cache.forget("e:b");
  cache.forget("e:b"); // gone already: nothing to release
  put("f:d", "d1");
  cache.forgetPrefix("e:");
  assert.deepEqual(released, ["a2", "b1", "c1"]);
  assert.deepEqual(cache.list().map((e) => e.key), ["f:d"]);
});
