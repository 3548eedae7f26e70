/**
 * engine.watch()'s bounded queue (src/engine/watch.ts): a slow watcher holds at most its queue
 * size, counts what it lost and gets one `overflow` event with the count in place of the lost
 * events; other watchers are not affected; closing ends the iteration after the queued events.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventHub } from "../src/engine/watch.js";
import type { EngineEvent } from "../src/engine/watch.js";

const commit = (epoch: number): EngineEvent => ({ type: "commit", groupId: new Uint8Array(32), epoch: BigInt(epoch) });
const label = (e: EngineEvent): string => (e.type === "overflow" ? `overflow ${e.dropped}` : `${e.type} ${String((e as { epoch: bigint }).epoch)}`);

test("a slow watcher keeps at most its queue size and learns how many events it lost", async () => {
  const hub = new EventHub();
  const slow = hub.watch({ queueSize: 2 });
  const fast = hub.watch();
  hub.emit([1, 2, 3, 4, 5].map(commit));
  const first = await slow.next();
  assert.equal(label(first.value as EngineEvent), "commit 1");
  hub.emit([commit(6)]);
  hub.emit([commit(7)]);
  hub.close();
  const rest: string[] = [];
  for await (const e of slow) rest.push(label(e));
  assert.deepEqual(rest, ["commit 2", "overflow 3", "commit 6", "overflow 1"]);
  const all: string[] = [];
  for await (const e of fast) all.push(label(e));
  assert.deepEqual(all, [1, 2, 3, 4, 5, 6, 7].map((n) => `commit ${n}`), "the other watcher lost nothing");
});

test("a watcher that stops iterating is detached; an aborted signal ends it", async () => {
  const hub = new EventHub();
  const controller = new AbortController();
  const it = hub.watch({ signal: controller.signal });
  const waiting = it.next();
  controller.abort();
  assert.deepEqual(await waiting, { value: undefined, done: true });
  const other = hub.watch();
  await other.return?.();
  hub.emit([commit(1)]);
  assert.deepEqual(await other.next(), { value: undefined, done: true });
  assert.throws(() => hub.watch({ queueSize: 0 }), { code: "INVALID_ARGUMENT" });
});
