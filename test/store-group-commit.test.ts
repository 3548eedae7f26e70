/**
 * Group commit of synced batches (src/engine/store/store.ts `syncedBatch`): callers' synced
 * batches asked for at once share LevelDB writes (those of one turn a single one), yet each caller's ops stay whole in one synced
 * LevelDB batch (atomic per group) and its promise resolves only after that batch is written;
 * a process killed mid-stream leaves every group all or nothing and every reported group whole.
 * Own keys of values a synced batch deletes are destroyed with no extra barrier write; of values
 * an unsynced batch deletes, only after a synced barrier.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { toHex } from "../src/bytes.js";
import { generateIdentity } from "../src/identity.js";
import type { EngineStore } from "../src/engine/store/store.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { openStore } from "./engine-helpers.js";
import { groupOps, KEYS_PER_GROUP } from "./group-commit-support.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CHILD = fileURLToPath(new URL("./group-commit-child.js", import.meta.url));

interface Write {
  readonly keys: string[];
  sync: boolean;
  done: number;
}

/** A LevelDB chained batch, as the store writes each atomic batch. */
interface Chained {
  put(key: string, value: Uint8Array, o?: object): Chained;
  del(key: string, o?: object): Chained;
  write(o?: { sync?: boolean }): Promise<void>;
}
/** The store's database, whose chained batches a test wraps. */
const dbOf = (store: EngineStore): { batch(): Chained } => (store as unknown as { db: { batch(): Chained } }).db;

/** Records every LevelDB batch under the store (keys in order, sync flag, when it completed). */
function spyDb(store: EngineStore, clock: { t: number }): Write[] {
  const db = dbOf(store);
  const batch = db.batch.bind(db);
  const writes: Write[] = [];
  db.batch = () => {
    const chained = batch();
    const w: Write = { keys: [], sync: false, done: -1 };
    const [put, del, write] = [chained.put.bind(chained), chained.del.bind(chained), chained.write.bind(chained)];
    chained.put = (key, value, o) => (w.keys.push(key), put(key, value, o));
    chained.del = (key, o) => (w.keys.push(key), del(key, o));
    chained.write = async (o) => {
      w.sync = o?.sync === true;
      writes.push(w);
      await write(o);
      w.done = clock.t++;
    };
    return chained;
  };
  return writes;
}

async function withStore<T>(run: (store: EngineStore, path: string) => Promise<T>): Promise<T> {
  const path = await mkdtemp(join(tmpdir(), "sg-groupcommit-"));
  const store = await openStore(path, generateIdentity());
  try {
    return await run(store, path);
  } finally {
    await store.close();
    await rm(path, { recursive: true, force: true });
  }
}

test("concurrent synced batches: each caller's ops lie whole and in order in one synced LevelDB batch, written before the caller resolves; fewer writes than callers", async () => {
  await withStore(async (store) => {
    const clock = { t: 0 };
    const writes = spyDb(store, clock);
    const GROUPS = 40;
    const resolvedAt: number[] = [];
    await Promise.all(
      Array.from({ length: GROUPS }, async (_, g) => {
        await store.batch(groupOps(Sublevel.Docs, g), { sync: true });
        resolvedAt[g] = clock.t;
      }),
    );
    for (let g = 0; g < GROUPS; g++) {
      const keys = groupOps(Sublevel.Docs, g).map((op) => op.key);
      const holding = writes.filter((w) => w.keys.some((k) => k.endsWith(keys[0] as string)));
      assert.equal(holding.length, 1, `group ${g} in exactly one LevelDB batch`);
      const w = holding[0] as Write;
      assert.ok(w.sync, `group ${g}: synced`);
      const at = w.keys.findIndex((k) => k.endsWith(keys[0] as string));
      assert.deepEqual(
        w.keys.slice(at, at + KEYS_PER_GROUP).map((k) => k.slice(-keys[0]!.length)),
        keys,
        `group ${g}: its ops whole and in order`,
      );
      assert.ok(w.done >= 0 && w.done < (resolvedAt[g] as number), `group ${g}: resolved after its batch was written`);
    }
    assert.ok(writes.length < GROUPS, `${writes.length} LevelDB writes for ${GROUPS} synced batches`);
    for (let g = 0; g < GROUPS; g++) for (const op of groupOps(Sublevel.Docs, g)) assert.ok(await store.has(Sublevel.Docs, op.key));
  });
});

test("synced batches asked for one after another in one turn share one LevelDB write: the first waits for the end of the turn", async () => {
  await withStore(async (store) => {
    const writes = spyDb(store, { t: 0 });
    // as a worker's answered joins persist: one call after another, in the same turn
    const pending: Array<Promise<void>> = [];
    for (let g = 0; g < 5; g++) pending.push(store.batch(groupOps(Sublevel.Docs, g), { sync: true }));
    await Promise.all(pending);
    const synced = writes.filter((w) => w.sync);
    assert.equal(synced.length, 1, `${synced.length} synced LevelDB writes for 5 batches of one turn`);
    assert.equal(synced[0]!.keys.length, 5 * KEYS_PER_GROUP);
    // a batch asked for later, alone, is still written (and resolves)
    await store.batch(groupOps(Sublevel.Docs, 9), { sync: true });
    assert.equal(writes.filter((w) => w.sync).length, 2);
    assert.ok(await store.has(Sublevel.Docs, groupOps(Sublevel.Docs, 9)[0]!.key));
  });
});

test("a failed group write rejects every caller in it, and later synced batches are written", async () => {
  await withStore(async (store) => {
    const db = dbOf(store);
    const batch = db.batch.bind(db);
    let fail = true;
    db.batch = () => {
      const chained = batch();
      if (fail) {
        fail = false;
        chained.write = async () => {
          await new Promise((r) => setTimeout(r, 20));
          throw new Error("disk full");
        };
      }
      return chained;
    };
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, g) => store.batch(groupOps(Sublevel.Docs, g), { sync: true })));
    assert.equal(results[0]?.status, "rejected", "the first write failed");
    const written = results.map((r, g) => ({ r, g })).filter(({ r }) => r.status === "fulfilled");
    for (const { g } of written) assert.ok(await store.has(Sublevel.Docs, groupOps(Sublevel.Docs, g)[0]!.key), `group ${g} resolved: written`);
    for (const { r, g } of results.map((r, g) => ({ r, g }))) {
      if (r.status === "rejected") assert.equal(await store.has(Sublevel.Docs, groupOps(Sublevel.Docs, g)[0]!.key), false, `group ${g} rejected: not written`);
    }
    await store.batch(groupOps(Sublevel.Docs, 99), { sync: true });
    assert.ok(await store.has(Sublevel.Docs, groupOps(Sublevel.Docs, 99)[0]!.key));
  });
});

test("a process killed while writing groups' synced batches: every group is all or nothing, every group it reported is whole", async () => {
  const path = await mkdtemp(join(tmpdir(), "sg-groupcommit-kill-"));
  const identity = generateIdentity();
  try {
    const child = fork(CHILD, [path, toHex(identity.secretKey)], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    const reported = new Set<number>();
    const killAfter = 40 + Math.floor(Math.random() * 80);
    const killed = new Promise((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    child.on("message", (m) => {
      reported.add((m as { group: number }).group);
      if (reported.size === killAfter) child.kill("SIGKILL");
    });
    assert.equal(await killed, "SIGKILL");
    const store = await openStore(path, identity);
    try {
      const keys = await store.keys(Sublevel.Docs, "g");
      const perGroup = new Map<number, number>();
      for (const k of keys) perGroup.set(Number(k.slice(1, 7)), (perGroup.get(Number(k.slice(1, 7))) ?? 0) + 1);
      for (const [g, n] of perGroup) assert.equal(n, KEYS_PER_GROUP, `group ${g}: all or nothing`);
      for (const g of reported) assert.equal(perGroup.get(g), KEYS_PER_GROUP, `group ${g} was reported: whole`);
    } finally {
      await store.close();
    }
  } finally {
    await rm(path, { recursive: true, force: true });
  }
});

test("own keys: destroyed after a synced deleting batch with no barrier write, after an unsynced one only behind a synced barrier", async () => {
  await withStore(async (store) => {
    const clock = { t: 0 };
    const writes = spyDb(store, clock);
    const keyring = (store as unknown as { keyring: { destroy(ids: readonly string[]): Promise<void> } }).keyring;
    const destroy = keyring.destroy.bind(keyring);
    const destroyed: Array<{ ids: readonly string[]; at: number }> = [];
    keyring.destroy = async (ids) => {
      destroyed.push({ ids, at: clock.t });
      return destroy(ids);
    };
    const flushShreds = (): Promise<void> => (store as unknown as { shreds: { running: Promise<void> } }).shreds.running;
    await store.batch([{ sub: Sublevel.KeyPackages, key: "aa", value: new Uint8Array(8) }, { sub: Sublevel.KeyPackages, key: "bb", value: new Uint8Array(8) }]);

    const before = writes.length;
    await store.batch([{ sub: Sublevel.KeyPackages, key: "aa", value: null }], { sync: true });
    await flushShreds();
    assert.equal(writes.length - before, 1, "no barrier after a synced deletion");
    assert.equal(destroyed.length, 1);
    assert.ok(destroyed[0]!.at > writes[before]!.done, "destroyed after the deleting batch was written");

    const mid = writes.length;
    await store.batch([{ sub: Sublevel.KeyPackages, key: "bb", value: null }]);
    await flushShreds();
    const after = writes.slice(mid);
    assert.equal(after.length, 2, "the deletion, then a barrier");
    assert.equal(after[0]!.sync, false);
    assert.ok(after[1]!.sync, "the barrier is synced");
    assert.ok(destroyed[1]!.at > after[1]!.done, "destroyed only after the barrier was written");
  });
});
