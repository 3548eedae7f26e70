/**
 * Materialised operations (issue 10): five engines (an owner, two members, a late joiner and a
 * member removed halfway) receive one shuffled stream of documents, operations in both schemes
 * (creates and updates) among them, in small batches. Nobody calls decrypt: every operation a
 * node may read is read, the others carry the reason (`UNKNOWN_EPOCH` for sender-ratchet
 * operations from before the late joiner joined, `NOT_MEMBER` after the removal); watch()
 * reports each decryption once; after close and reopen the same reads give the same values.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "../src/bytes.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import type { EngineEvent } from "../src/engine/watch.js";
import type { OperationView } from "../src/engine/operationReads.js";
import { createPool } from "../src/engine/pool.js";
import { ingestAll, openNode, shuffle } from "./engine-helpers.js";
import { expectation, playScenario } from "./operations-support.js";
import type { ScenarioNode } from "./operations-support.js";

const NAMES = ["owner", "alice", "bob", "late", "removed"] as const;
const PER_AUTHOR = Number(process.env["OPS_PER_AUTHOR"] ?? 4);

/** Collects a watcher's events until the engine closes. */
function collect(engine: SecretGroupEngine): { events: EngineEvent[]; done: Promise<void> } {
  const events: EngineEvent[] = [];
  const done = (async () => {
    for await (const e of engine.watch()) events.push(e);
  })();
  return { events, done };
}

const snapshot = (v: OperationView | null) =>
  v === null ? null : { fields: { ...v.fields }, pending: v.pending, errors: Object.fromEntries(Object.entries(v.errors).map(([k, e]) => [k, e.code])) };

test("five engines materialise one shuffled stream of operations without a decrypt call, and read the same after reopening", async () => {
  const pool = createPool({ threads: 2 });
  const opened = await Promise.all(NAMES.map(() => openNode({ pool })));
  const nodes = Object.fromEntries(NAMES.map((name, i) => [name, { name, engine: opened[i]!.engine, identity: opened[i]!.identity }])) as Record<(typeof NAMES)[number], ScenarioNode>;
  try {
    const scenario = await playScenario(nodes, PER_AUTHOR);
    const watchers = NAMES.map((name) => collect(nodes[name].engine));
    await Promise.all(
      NAMES.map(async (name, i) => {
        const stream = shuffle(scenario.documents, 100 + i);
        for (let k = 0; k < stream.length; k += 5) await ingestAll(nodes[name].engine, stream.slice(k, k + 5));
      }),
    );
    const before = new Map<string, ReturnType<typeof snapshot>>();
    for (const name of NAMES) {
      const engine = nodes[name].engine;
      for (const op of scenario.ops) {
        const view = await engine.read(op.id);
        assert.ok(view !== null, `${name} holds ${op.body}`);
        assert.equal(toHex(view.groupId as Uint8Array), toHex(scenario.gid));
        const want = expectation(name, op);
        if ("body" in want) {
          assert.deepEqual(view.pending, [], `${name}: ${op.body} is not pending`);
          assert.deepEqual(Object.keys(view.errors), [], `${name}: ${op.body} has no error (${Object.values(view.errors).map((e) => e.code)})`);
          assert.equal(view.fields["body"], want.body, `${name} reads ${op.body}`);
        } else {
          assert.deepEqual(view.pending, [], `${name}: ${op.body} is not pending`);
          assert.equal(view.errors["body"]?.code, want.code, `${name}: ${op.body} fails with ${want.code}`);
          assert.ok(view.fields["body"] instanceof Uint8Array, "an unreadable field keeps its ciphertext");
        }
        assert.equal(view.fields["n"], Number(op.body.split(" op ")[1]?.split(" ")[0]), "plain fields pass through");
        before.set(`${name}/${op.id}`, snapshot(view));
      }
      // operations(): every operation once, in pages
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await engine.operations(scenario.gid, { limit: 7, ...(after === undefined ? {} : { after }) });
        if (page.cursor === null) break;
        seen.push(...page.operations.map((o) => toHex(o.operationId)));
        after = page.cursor;
      }
      assert.deepEqual([...seen].sort(), scenario.ops.map((o) => o.id).sort(), `${name} lists every operation once`);
    }
    for (const name of NAMES) await nodes[name].engine.close();
    await Promise.all(watchers.map((w) => w.done));
    // watch(): one decrypted event per readable operation, none for the others
    NAMES.forEach((name, i) => {
      const decrypted = new Map<string, number>();
      for (const e of watchers[i]!.events) {
        assert.notEqual(e.type, "overflow");
        if (e.type === "decrypted") decrypted.set(toHex(e.operationId), (decrypted.get(toHex(e.operationId)) ?? 0) + 1);
      }
      for (const op of scenario.ops) {
        assert.equal(decrypted.get(op.id) ?? 0, "body" in expectation(name, op) ? 1 : 0, `${name} saw ${op.body} decrypted once`);
      }
      if (name === "removed") {
        assert.ok(watchers[i]!.events.some((e) => e.type === "commit"), "removed saw the late joiner's commit");
        assert.ok(watchers[i]!.events.some((e) => e.type === "removed"), "removed saw its removal");
      }
    });
    // reopened: the same reads, sender-ratchet ones included (their keys are gone)
    for (const [i, name] of NAMES.entries()) {
      const engine = await opened[i]!.reopen();
      try {
        for (const op of scenario.ops) assert.deepEqual(snapshot(await engine.read(op.id)), before.get(`${name}/${op.id}`), `${name} reads ${op.body} again`);
        assert.equal(await engine.read(new Uint8Array(32)), null);
      } finally {
        await engine.close();
      }
    }
  } finally {
    await Promise.allSettled(NAMES.map((n) => nodes[n].engine.close()));
    await Promise.all(opened.map((o) => o.cleanup()));
    await pool.destroy();
  }
});
