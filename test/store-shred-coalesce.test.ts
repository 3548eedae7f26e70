/**
 * Own keys destroyed in gathered rounds (src/engine/store/shreds.ts, the store's `shreds`): the keys of
 * values deleted one after another within KEYRING_SHRED_COALESCE_MS leave the keyring in one
 * whole-file write (a busy ingest consumes a key package per join), each only after a synced
 * barrier that follows its deleting batch; `close` ends the gathering pause instead of waiting it out.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity } from "../src/identity.js";
import type { EngineStore } from "../src/engine/store/store.js";
import { Keyring } from "../src/engine/store/keyring.js";
import type { Sealer } from "../src/engine/store/seal.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { openStore } from "./engine-helpers.js";

interface StoreInternals {
  keyring: { write(durable: boolean): Promise<void>; get(id: string): Uint8Array | undefined };
  shreds: { running: Promise<void>; coalesceMs: number };
  sealer: Sealer;
}
const internals = (store: EngineStore): StoreInternals => store as unknown as StoreInternals;

async function withStore(run: (store: EngineStore, path: string) => Promise<void>): Promise<void> {
  const path = await mkdtemp(join(tmpdir(), "sg-shred-"));
  try {
    const store = await openStore(path, generateIdentity());
    try {
      await run(store, path);
    } finally {
      await store.close();
    }
  } finally {
    await rm(path, { recursive: true, force: true });
  }
}

const KEYS = ["k0", "k1", "k2", "k3", "k4"];

test("keys of values deleted one after another leave the keyring in one write, after one synced barrier", async () => {
  await withStore(async (store) => {
    const s = internals(store);
    s.shreds.coalesceMs = 1_000; // the window, stretched so that a loaded machine's batches fit in it
    await store.batch(KEYS.map((key) => ({ sub: Sublevel.KeyPackages, key, value: new Uint8Array(8) })));
    const write = s.keyring.write.bind(s.keyring);
    let keyringWrites = 0;
    s.keyring.write = (durable) => (keyringWrites++, write(durable));
    // unsynced deleting batches, each awaited and a turn apart: without the gathering pause, the
    // first one's round starts at once and the later keys need a second keyring write
    for (const key of KEYS) {
      await store.batch([{ sub: Sublevel.KeyPackages, key, value: null }]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await s.shreds.running;
    assert.equal(keyringWrites, 1, "one keyring write for all five keys");
    for (const key of KEYS) assert.equal(s.keyring.get(`${Sublevel.KeyPackages}/${key}`), undefined, `${key} destroyed`);
  });
});

test("close ends the gathering pause and destroys the keys due", { timeout: 30_000 }, async () => {
  const path = await mkdtemp(join(tmpdir(), "sg-shred-"));
  try {
    const identity = generateIdentity();
    const store = await openStore(path, identity);
    const s = internals(store);
    s.shreds.coalesceMs = 600_000; // without the wake, close would wait this long (the test's timeout fails first)
    await store.batch(KEYS.map((key) => ({ sub: Sublevel.KeyPackages, key, value: new Uint8Array(8) })));
    await store.batch([{ sub: Sublevel.KeyPackages, key: "k0", value: null }], { sync: true });
    const sealer = s.sealer;
    await store.close();
    const keyring = await Keyring.load(path, sealer);
    assert.deepEqual(keyring.ids().sort(), KEYS.slice(1).map((k) => `${Sublevel.KeyPackages}/${k}`).sort(), "k0's key left the file; the others stay");
  } finally {
    await rm(path, { recursive: true, force: true });
  }
});
