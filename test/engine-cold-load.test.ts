/**
 * A group's state loaded from the store (issue 11, the cold receiver): a reopened engine posts
 * its first task of a group with the stored parts at once (no worker can hold a state under a
 * new engine's id), moves the parts' buffers instead of copying them, opens each part into
 * memory of its own, and scans a state in one LevelDB page.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Piscina } from "piscina";
import { STORE_SCAN_BYTES } from "../src/constants.js";
import { Sealer } from "../src/engine/store/seal.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import type { StateRef } from "../src/engine/worker/protocol.js";
import { groupWithMember, ingestAll, withNodes, withPool, withStore } from "./engine-helpers.js";

interface Post {
  readonly op: string;
  readonly ref?: StateRef;
  readonly transferList: readonly ArrayBuffer[];
}

/** Records every task posted to `pool` (op, state reference, buffers moved). */
function recordPosts(pool: Piscina): Post[] {
  const posts: Post[] = [];
  const run = pool.run.bind(pool);
  pool.run = (task: { op: string; ref?: StateRef }, options?: { transferList?: ArrayBuffer[] }) => {
    posts.push({ op: task.op, ...(task.ref === undefined ? {} : { ref: task.ref }), transferList: [...(options?.transferList ?? [])] });
    return run(task, options);
  };
  return posts;
}

test("a reopened engine posts its first task of a group once, with the stored parts moved; the next one finds the state cached", async () => {
  await withPool(1, (pool) =>
    withNodes([{}, { pool }], async ([owner, alice]) => {
      const { gid } = await groupWithMember(owner.engine, alice.engine);
      await alice.engine.close();
      await alice.reopen();
      const posts = recordPosts(pool);
      const misses = alice.engine.stats().workerMisses;
      assert.deepEqual(await ingestAll(alice.engine, (await owner.engine.updateGroup(gid)).documents), ["applied"]);
      const first = posts.filter((p) => p.op === "process");
      assert.equal(first.length, 1, "one post, no cache-miss round trip");
      const parts = first[0]!.ref?.parts ?? [];
      assert.ok(parts.length > 0, "the stored parts went with it");
      assert.equal(alice.engine.stats().workerMisses, misses + 1, "counted as a state loaded from the store");
      // the commit's copy and every part's buffer moved (detached here), none copied
      assert.equal(first[0]!.transferList.length, 1 + parts.length);
      for (const [, bytes] of parts) assert.equal(bytes.buffer.byteLength, 0, "a part's buffer moved to the worker");

      posts.length = 0;
      assert.deepEqual(await ingestAll(alice.engine, (await owner.engine.updateGroup(gid)).documents), ["applied"]);
      const next = posts.filter((p) => p.op === "process");
      assert.equal(next.length, 1);
      assert.equal(next[0]!.ref?.parts, undefined, "the worker holds the state now: no parts read");
      assert.equal(alice.engine.stats().workerMisses, misses + 1);
      const message = await owner.engine.encrypt(gid, new TextEncoder().encode("after"), { scheme: "long-term" });
      assert.deepEqual((await alice.engine.decrypt([message])).map((m) => (m instanceof Uint8Array ? new TextDecoder().decode(m) : m)), ["after"]);
    }),
  );
});

test("an opened stored value owns its memory: moving one to a worker leaves every other value whole", () => {
  const sealer = new Sealer(new Map([[0, new Uint8Array(randomBytes(32))]]), 0);
  const plains = [0, 1, 31, 100, 4095, 4096, 9000, 70_000].map((n) => new Uint8Array(randomBytes(n)));
  const opened = plains.map((p, i) => sealer.open("state", `g/${i}`, sealer.seal("state", `g/${i}`, p)));
  opened.forEach((o, i) => {
    assert.deepEqual(o, plains[i]);
    assert.equal(Object.getPrototypeOf(o), Uint8Array.prototype, "a plain Uint8Array, not a Buffer");
    assert.equal(o.byteOffset, 0);
    assert.equal(o.buffer.byteLength, o.byteLength, "an ArrayBuffer of its own");
  });
  for (let i = 0; i < opened.length; i++) {
    const moved = structuredClone(opened[i]!, { transfer: [opened[i]!.buffer as ArrayBuffer] });
    assert.deepEqual(moved, plains[i]);
    for (let j = i + 1; j < opened.length; j++) assert.deepEqual(opened[j], plains[j], "the others are untouched");
  }
});

test("a scan reads a group's state in one LevelDB page, and one larger than a page whole and in order", async () => {
  await withStore(async ({ store }) => {
    // a 1000-member state's shape: 35 parts of ~9 KB
    const parts = Array.from({ length: 35 }, (_, i) => ({ sub: Sublevel.State, key: `g/${String(i).padStart(3, "0")}`, value: new Uint8Array(randomBytes(9200)) }));
    const big = Array.from({ length: 3 }, (_, i) => ({ sub: Sublevel.State, key: `h/${i}`, value: new Uint8Array(randomBytes(STORE_SCAN_BYTES / 2 + 1)) }));
    await store.batch([...parts, ...big]);
    // count the iterator's pages (each nextv is one round trip to LevelDB's thread)
    let pages = 0;
    const level = store as unknown as { sub: (name: string) => { iterator: (o: object) => { nextv: (n: number) => Promise<unknown[]> } } };
    const sub = level.sub.bind(store);
    level.sub = (name) => {
      const s = sub(name);
      return {
        iterator: (o: object) => {
          const it = s.iterator(o);
          const nextv = it.nextv.bind(it);
          it.nextv = (n) => (pages++, nextv(n));
          return it;
        },
      };
    };
    const scanned = await store.scan(Sublevel.State, "g/", "group state");
    assert.deepEqual(scanned.map(([k]) => k), parts.map((p) => p.key));
    scanned.forEach(([, v], i) => assert.deepEqual(v, parts[i]!.value));
    assert.ok(pages <= 2, `one page and the empty one that ends it (${pages} pages)`);
    pages = 0;
    const large = await store.scan(Sublevel.State, "h/", "group state");
    assert.deepEqual(large.map(([k]) => k), big.map((p) => p.key));
    large.forEach(([, v], i) => assert.deepEqual(v, big[i]!.value));
    assert.ok(pages >= 3, "more than one page when the values pass the page's bytes");
  });
});
