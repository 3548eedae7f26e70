/**
 * The in-memory chain positions of pending follower records (src/engine/pendingChain.ts), which
 * let the follower skip scans of positions holding nothing: compared with the store's own scan
 * over a random history of batches (puts, deletes, both on one key in one batch, a failed batch)
 * and after a reload, and inside an engine fed a shuffled history of commits.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { utf8 } from "../src/bytes.js";
import type { EngineContext } from "../src/engine/context.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import { indexReader } from "../src/engine/materialise.js";
import { PendingChain } from "../src/engine/pendingChain.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import type { EngineStore, StoreOp } from "../src/engine/store/store.js";
import { Random } from "../src/cli/random.js";
import { ingestAll, keySet, recorder, shuffle, withNodes, withStore } from "./engine-helpers.js";

const GIDS = ["a1", "b2", "c3"];
const PREVS = ["-", "p1", "p2"];

/** Every chain position of the random history, and a few prefixes that are not one. */
const POSITIONS = GIDS.flatMap((g) => PREVS.map((p) => `q/${g}/${p}/`));

/** Asserts the chain lists exactly the store's pending records, and skips only empty positions. */
async function agrees(chain: PendingChain, store: EngineStore, when: string): Promise<void> {
  const stored = await store.keys(Sublevel.Materialise, "q/");
  for (const key of stored) assert.ok(chain.has(key), `${when}: ${key} stored but not listed`);
  assert.equal(chain.size, stored.length, `${when}: listed ${chain.size}, stored ${stored.length}`);
  for (const position of POSITIONS) {
    // exactly the stored records of the position, in key order (none: no read at all)
    assert.deepEqual(chain.listed(position), stored.filter((k) => k.startsWith(position)).sort(), `${when}: ${position}`);
  }
  // prefixes other than one chain position are not known here: always scanned
  for (const prefix of ["q/", "q/a1/", "h/a1/", "q/a1/-"]) {
    assert.equal(chain.listed(prefix), undefined, `${when}: ${prefix}`);
  }
  await readsAgree(chain, store, when);
}

/** Asserts a scan of each position through the engine's index reader (point reads of its listed records) returns what the store's scan does (keys and values, in order). */
async function readsAgree(chain: PendingChain, store: EngineStore, when: string): Promise<void> {
  const raw = store.reader(Sublevel.Materialise);
  const through = indexReader({ store, pendingChain: chain } as unknown as EngineContext);
  for (const position of POSITIONS) {
    const scanned: Array<readonly [unknown, unknown]> = [];
    for await (const entry of raw.iterator({ gte: position, lt: `${position}\uffff` })) scanned.push(entry);
    const read: Array<readonly [unknown, unknown]> = [];
    for await (const entry of through.iterator({ gte: position, lt: `${position}\uffff` })) read.push(entry);
    assert.deepEqual(read, scanned, `${when}: ${position} read through its listed records`);
  }
}

test("the pending chain positions agree with the store over a random history, a failed batch and a reload", async () => {
  await withStore(async (s) => {
    const { store } = s;
    const rnd = new Random(Number(process.env["PENDING_CHAIN_SEED"] ?? 17));
    const chain = await PendingChain.load(store);
    const write = async (ops: StoreOp[]): Promise<void> => {
      chain.beforeBatch(ops);
      await store.batch(ops);
      chain.afterBatch(ops);
    };
    const randomKey = (): string => `q/${GIDS[rnd.int(GIDS.length)]}/${PREVS[rnd.int(PREVS.length)]}/c${rnd.int(3)}`;
    for (let step = 0; step < 200; step++) {
      const ops: StoreOp[] = [];
      for (let i = rnd.int(5); i >= 0; i--) {
        const key = randomKey();
        const value = rnd.int(2) === 0 ? null : utf8("pending");
        switch (rnd.int(6)) {
          case 0: // another record of the index, and a key of another sublevel
            ops.push({ sub: Sublevel.Materialise, key: key.replace("q/", "h/"), value, versioned: true });
            ops.push({ sub: Sublevel.Welcomes, key, value });
            break;
          case 1: // put then delete, or delete then put, of one key in one batch: the last decides
            ops.push({ sub: Sublevel.Materialise, key, value, versioned: true });
            ops.push({ sub: Sublevel.Materialise, key, value: value === null ? utf8("again") : null, versioned: true });
            break;
          default:
            ops.push({ sub: Sublevel.Materialise, key, value, versioned: true });
        }
      }
      await write(ops);
      await agrees(chain, store, `step ${step}`);
    }
    // a batch that fails writes nothing: what it would have deleted stays listed
    const [held] = await store.keys(Sublevel.Materialise, "q/");
    assert.ok(held !== undefined);
    const unwritten = "q/a1/p1/c-unwritten";
    const failing: StoreOp[] = [
      { sub: Sublevel.Materialise, key: held, value: null },
      { sub: Sublevel.Materialise, key: unwritten, value: utf8("never written"), versioned: true },
      { sub: "no-such-sublevel" as typeof Sublevel.Materialise, key: "x", value: utf8("x") },
    ];
    await assert.rejects(write(failing));
    assert.ok(chain.has(held));
    // listed, not stored: the point reads skip it as the scan does
    assert.ok(chain.has(unwritten));
    await readsAgree(chain, store, "after a failed batch");
    assert.ok((await store.keys(Sublevel.Materialise, held)).includes(held));
    const reopened = await s.reopen();
    await agrees(await PendingChain.load(reopened), reopened, "reloaded");
  });
});

const ctxOf = (engine: SecretGroupEngine): EngineContext => (engine as unknown as { ctx: EngineContext }).ctx;

test("inside an engine fed a shuffled history the positions list every pending record, and reads through them equal the store's", async () => {
  await withNodes([{}, {}, {}], async ([owner, member, outsider]) => {
    const { docs, publish, keyPackage } = recorder();
    const gid = publish(await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" })).groupId as Uint8Array;
    publish(await owner.engine.updateGroup(gid));
    publish(await owner.engine.addMembers(gid, await keyPackage(member.engine)));
    publish(await owner.engine.updateGroup(gid));
    publish(await owner.engine.rotate(gid));
    publish(await owner.engine.updateGroup(gid));
    const expected = keySet(await owner.engine.members(gid));
    for (const [i, node] of [member, outsider].entries()) {
      const ctx = ctxOf(node.engine);
      const raw = ctx.store.reader(Sublevel.Materialise);
      const order = shuffle(docs, Number(process.env["PENDING_CHAIN_SEED"] ?? 17) + i);
      let pendingSeen = 0;
      for (const doc of order) {
        assert.ok(!(await ingestAll(node.engine, [doc])).includes("refused"));
        const stored = await ctx.store.keys(Sublevel.Materialise, "q/");
        pendingSeen = Math.max(pendingSeen, stored.length);
        for (const key of stored) assert.ok(ctx.pendingChain.has(key), `node ${i}: ${key} stored but not listed`);
        assert.equal(ctx.pendingChain.size, stored.length, `node ${i}`);
        // every position a stored record names, and the empty ones next to them, read the same
        for (const key of stored) {
          const position = key.slice(0, key.lastIndexOf("/") + 1);
          for (const prefix of [position, position.replace(/\/[^/]+\/$/, "/-/")]) {
            const through: unknown[] = [];
            const direct: unknown[] = [];
            for await (const entry of indexReader(ctx).iterator({ gte: prefix, lt: `${prefix}\uffff` })) through.push(entry);
            for await (const entry of raw.iterator({ gte: prefix, lt: `${prefix}\uffff` })) direct.push(entry);
            assert.deepEqual(through, direct, `node ${i}: ${prefix}`);
          }
        }
      }
      assert.ok(pendingSeen > 0, `node ${i}: the shuffled order left no commit pending (the test would prove nothing)`);
      assert.deepEqual(await node.engine.history(gid).then((h) => h.length), 5, `node ${i}`);
    }
    assert.equal(await member.engine.status(gid), "member");
    assert.deepEqual(keySet(await member.engine.members(gid)), expected);
  });
});
