/**
 * Bulk long-term decryption's keys on their way to the workers: sent once per epoch and worker,
 * again after a miss; the workers' key cache bounded by bytes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Piscina } from "piscina";
import { utf8 } from "../src/bytes.js";
import { LONG_TERM_KEY_CACHE_BYTES, POOL_DECRYPT_MIN_VALUES } from "../src/constants.js";
import { createGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { sealLongTerm } from "../src/lts/encrypt.js";
import { encodeSecretGroupMessage } from "../src/message.js";
import { decryptItem } from "../src/engine/decrypt.js";
import { LAYOUT_STRIDE, longTermKeyCacheSize, runOpenLongTerm } from "../src/engine/worker/longTerm.js";
import type { OpenLongTermOut, OpenLongTermTask } from "../src/engine/worker/longTerm.js";
import type { TaskResult } from "../src/engine/pool.js";
import { groupWithMember, withNodes } from "./engine-helpers.js";
import { recordingPool } from "./pool-support.js";

const SUITE = "PANDA10_AES256GCM" as const;

test("a worker without the keys answers a miss and the engine sends them again", async () => {
  let stripped = 0;
  // the first task loses its keys on the way, as after a worker restart or an eviction
  const { pool, tasks } = recordingPool(1, (task) => {
    if (task.op !== "openLongTerm" || stripped > 0) return task;
    stripped++;
    const { keys: _dropped, ...rest } = task;
    return rest;
  });
  try {
    await withNodes([{}, { pool, bulkDecrypt: "pool" }], async ([owner, alice]) => {
      const { gid } = await groupWithMember(owner.engine, alice.engine, SUITE);
      const messages: Uint8Array[] = [];
      for (let i = 0; i < POOL_DECRYPT_MIN_VALUES; i++) messages.push(await owner.engine.encrypt(gid, utf8(`lt ${i}`), { scheme: "long-term" }));
      const sr = await owner.engine.encrypt(gid, utf8("ratchet"), { scheme: "sender-ratchet" });
      const results = await alice.engine.decrypt([...messages, sr]);
      assert.deepEqual(results.map((r) => (r instanceof Error ? r.message : new TextDecoder().decode(r))), [...messages.map((_, i) => `lt ${i}`), "ratchet"]);
      const opens = tasks.filter((t) => t.op === "openLongTerm");
      assert.deepEqual(opens.map((t) => t.keys !== undefined), [false, true], "missed, then sent with the keys");
      assert.equal(alice.engine.stats().poolDecrypts, POOL_DECRYPT_MIN_VALUES);
    });
  } finally {
    await pool.destroy();
  }
});

test("the workers' key cache is bounded by bytes, least recently used out first", async () => {
  const state = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(32).fill(5), ciphersuite: SUITE });
  const secret = state.secrets[0] as GroupState["secrets"][number];
  const ct = sealLongTerm(secret, new Uint8Array(12).fill(1), utf8("cached"));
  const message = encodeSecretGroupMessage({ type: "long-term", ciphertext: ct });
  const item = decryptItem(message, undefined);
  const task = (key: string, withKeys: boolean): OpenLongTermTask => {
    const data = Uint8Array.from(message);
    const layout = new Uint32Array(LAYOUT_STRIDE);
    layout.set([item.nonceAt, item.ctAt, ct.ciphertext.length, 0, 0]);
    return { op: "openLongTerm", key, groupId: state.groupId, epochs: [secret.epoch], ...(withKeys ? { keys: [{ epoch: secret.epoch, ciphersuite: secret.ciphersuite, value: secret.value }] } : {}), segments: [data.buffer], ends: Uint32Array.of(1), layout };
  };
  const run = (t: OpenLongTermTask): OpenLongTermOut => {
    const moved = runOpenLongTerm(t) as Record<symbol, unknown>;
    const result = moved[Piscina.valueSymbol] as TaskResult<OpenLongTermOut>;
    assert.ok(result.ok);
    return result.value;
  };
  const groups = Math.ceil(LONG_TERM_KEY_CACHE_BYTES / 100);
  for (let g = 0; g < groups; g++) run(task(`engine:${g}`, true));
  const size = longTermKeyCacheSize();
  assert.ok(size.bytes <= LONG_TERM_KEY_CACHE_BYTES, `cache holds ${size.bytes} bytes`);
  assert.ok(size.entries < groups, "older keys were dropped");
  assert.equal(run(task("engine:0", false)).miss, true, "the oldest key is gone");
  const kept = run(task(`engine:${groups - 1}`, false));
  assert.ok(kept.miss !== true && kept.failures.length === 0, "the newest key is held");
  assert.ok(kept.miss !== true && kept.outputs[0]?.byteLength === 6);
  assert.equal(new TextDecoder().decode(new Uint8Array(kept.outputs[0] as ArrayBuffer)), "cached");
});
