/**
 * The live actors are bounded by estimated bytes as well as by count: large groups (long member
 * lists) are evicted sooner than small ones, least recently used first, never a busy one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fromPromise } from "xstate";
import { groupMachine } from "../machines/group.js";
import { GroupActors, actorBytes } from "../src/engine/actors.js";
import { ACTOR_BASE_BYTES, ACTOR_MEMBER_BYTES } from "../src/constants.js";
import { emptyGroupRecord } from "../src/engine/store/records.js";
import type { GroupRecord } from "../src/engine/store/records.js";
import type { StepOutput } from "../src/engine/jobs.js";

/** Groups named `big-*` have 1000 members, the others 3. */
function machineWithSizes() {
  return groupMachine.provide({
    actors: {
      hydrate: fromPromise(async ({ input }: { input: { groupId: string } }): Promise<{ record: GroupRecord | undefined; counter: bigint }> => {
        const n = input.groupId.startsWith("big") ? 1000 : 3;
        const record: GroupRecord = { ...emptyGroupRecord(), status: "member", owner: new Uint8Array(32), members: Array.from({ length: n }, () => new Uint8Array(32)), stateToken: new Uint8Array(16) };
        return { record, counter: 0n };
      }),
      execute: fromPromise(async (): Promise<StepOutput> => ({ ops: [], result: null })),
    },
  });
}

test("live actors stay under the byte bound: a large group weighs its members", async () => {
  const big = actorBytes({ record: { members: new Array(1000) } });
  assert.equal(big, ACTOR_BASE_BYTES + 1000 * ACTOR_MEMBER_BYTES);
  const small = actorBytes({ record: { members: new Array(3) } });
  const cap = 2 * big + 10 * small;
  const actors = new GroupActors(machineWithSizes(), 1000, cap);
  try {
    for (let i = 0; i < 5; i++) await actors.run(`big-${i}`, { kind: "read" });
    assert.ok(actors.bytes <= cap, `${actors.bytes} estimated bytes live, bound ${cap}`);
    assert.ok(actors.size <= 3, `${actors.size} large groups live`);
    for (let i = 0; i < 20; i++) await actors.run(`small-${i}`, { kind: "read" });
    assert.ok(actors.bytes <= cap);
    // the count bound alone (1000) would have kept all 25
    assert.ok(actors.size < 25 && actors.size >= 10, `${actors.size} live`);
    // busy actors are never evicted: many jobs in flight at once over the bound all finish
    await Promise.all(Array.from({ length: 8 }, (_, i) => actors.run(`big-busy-${i}`, { kind: "read" })));
    assert.ok(actors.bytes <= cap);
    assert.ok(actors.bytes > 0);
  } finally {
    await actors.close();
  }
  assert.equal(actors.bytes, 0);
});
