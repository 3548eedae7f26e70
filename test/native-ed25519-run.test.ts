/**
 * The addon's shared Ed25519 runs (native/ed25519.c) and the provider's use of them
 * (src/mls/crypto/verifyRun.ts): every item is checked exactly once, by the pool thread or by the
 * caller, with libsodium's answer whichever side checks it; the pool thread leaves by itself when
 * nothing comes; a wrong call throws a TypeError and changes nothing; worker threads have runs of
 * their own. Under SECRET_GROUP_NATIVE=0 (test/native-aead-fallback.test.ts) only the provider's
 * tests run, all their checks made by libsodium on the asking thread.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { ed25519 } from "@noble/curves/ed25519.js";
import { ED25519_RUN_AFTER } from "../src/constants.js";
import { verifyEd25519Sync } from "../src/ed25519Verify.js";
import { nativeAddon, type Ed25519Run, type Ed25519RunAddon } from "../src/native.js";
import { verifyEd25519Shared, verifyRunCounts } from "../src/mls/crypto/verifyRun.js";

const disabled = process.env.SECRET_GROUP_NATIVE === "0";

/** Blocks this thread for `ms` (no turn of the event loop: the caller cannot take meanwhile, the pool thread works). */
function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
const addonOnly = { skip: disabled ? "the addon is not loaded under SECRET_GROUP_NATIVE=0" : false };

interface Item {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
  readonly valid: boolean;
}

/** `count` signed items; every `badEvery`-th has one bit of its signature's S, R or message flipped. */
function items(count: number, badEvery: number, seedByte = 1): Item[] {
  return Array.from({ length: count }, (_, i) => {
    const seed = new Uint8Array(32).fill(seedByte);
    seed[0] = i & 0xff;
    seed[1] = i >> 8;
    const message = new TextEncoder().encode(`leaf ${i} of a tree`);
    const signature = ed25519.sign(message, seed);
    const publicKey = ed25519.getPublicKey(seed);
    if (i % badEvery !== badEvery - 1) return { publicKey, message, signature, valid: true };
    const kind = i % 3;
    const damaged = Uint8Array.from(kind === 2 ? message : signature);
    damaged[kind === 0 ? 40 : kind === 1 ? 3 : 0]! ^= 1;
    return kind === 2 ? { publicKey, message: damaged, signature, valid: false } : { publicKey, message, signature: damaged, valid: false };
  });
}

interface Outcome {
  readonly pool: ReadonlyMap<number, boolean>;
  readonly here: ReadonlyMap<number, boolean>;
}

/**
 * One run over `all`. The caller then takes what is left and closes: after `wait` ("wait"), at
 * once ("now"), or closes without taking ("pool": the pool thread checks everything). Resolves
 * once the pool thread has reported.
 */
async function shareRun(addon: Ed25519RunAddon, all: readonly Item[], mode: "wait" | "now" | "pool"): Promise<Outcome> {
  const pool = new Map<number, boolean>();
  const here = new Map<number, boolean>();
  let reported!: () => void;
  const done = new Promise<void>((resolve) => (reported = resolve));
  const run = addon.runOpen((verdicts) => {
    verdicts.forEach((v, i) => {
      assert.notEqual(v, 0, `item ${i} unchecked`);
      pool.set(i, v === 1);
    });
    reported();
  });
  for (const it of all) addon.runAdd(run, it.publicKey, it.message, it.signature);
  if (mode === "wait") block(20);
  if (mode !== "pool") {
    for (let i = addon.runTake(run); i >= 0; i = addon.runTake(run)) {
      assert.equal(here.has(i), false, `item ${i} taken twice`);
      here.set(i, verifyEd25519Sync(all[i]!.publicKey, all[i]!.message, all[i]!.signature));
    }
  }
  addon.runClose(run);
  await done;
  return { pool, here };
}

/** Every item answered once, by one side, with its true verdict. */
function assertPartition(all: readonly Item[], { pool, here }: Outcome): void {
  for (const i of pool.keys()) assert.equal(here.has(i), false, `item ${i} checked on both sides`);
  assert.equal(pool.size + here.size, all.length, "every item answered");
  all.forEach((it, i) => assert.equal(pool.get(i) ?? here.get(i), it.valid, `item ${i}`));
  // the pool thread takes from the front, the caller from the back
  for (const i of pool.keys()) assert.ok(i < pool.size, `pool item ${i} beyond its prefix of ${pool.size}`);
}

test("a run shared with the pool thread: each item checked once, on one side, with its true verdict; the pool thread's share is the front", addonOnly, async () => {
  const addon = nativeAddon!;
  const all = items(2000, 7);
  // the caller is held up for 20 ms first: the pool thread checks some (~80 us each); the caller takes the rest
  const waited = await shareRun(addon, all, "wait");
  assertPartition(all, waited);
  assert.ok(waited.pool.size > 0, "the pool thread took part");
  assert.ok(waited.here.size > 0, "the caller took the rest");
  // the caller takes at once: whatever the pool thread started is still checked once
  assertPartition(all, await shareRun(addon, all, "now"));
  // nobody takes: the pool thread checks them all and leaves once the caller closes
  const poolOnly = await shareRun(addon, all, "pool");
  assertPartition(all, poolOnly);
  assert.equal(poolOnly.pool.size, all.length);
});

test("the pool thread leaves by itself when nothing comes for a while, its verdicts reported; the caller then takes what came after", addonOnly, async () => {
  const addon = nativeAddon!;
  const first = items(20, 5, 2);
  const later = items(10, 4, 3);
  const pool = new Map<number, boolean>();
  let reported!: () => void;
  const done = new Promise<void>((resolve) => (reported = resolve));
  const run = addon.runOpen((verdicts) => {
    verdicts.forEach((v, i) => pool.set(i, v === 1));
    reported();
  });
  for (const it of first) addon.runAdd(run, it.publicKey, it.message, it.signature);
  await done; // no close, no take: only the idle wait ends the pool thread's part
  assert.equal(pool.size, first.length);
  first.forEach((it, i) => assert.equal(pool.get(i), it.valid, `item ${i}`));
  for (const it of later) addon.runAdd(run, it.publicKey, it.message, it.signature);
  const taken: number[] = [];
  for (let i = addon.runTake(run); i >= 0; i = addon.runTake(run)) taken.push(i);
  assert.deepEqual(taken.sort((a, b) => a - b), later.map((_, i) => first.length + i));
  addon.runClose(run);
  // an empty run reports nothing and ends as well
  await new Promise<void>((resolve) => addon.runClose(addon.runOpen((verdicts) => (assert.equal(verdicts.length, 0), resolve()))));
});

test("wrong calls throw a TypeError and change nothing: sizes, types, an add after a take, any call after close", addonOnly, async () => {
  const addon = nativeAddon!;
  const [it] = items(1, 2);
  const run = addon.runOpen(() => undefined);
  const bad = (f: () => unknown, what: string): void => assert.throws(f, TypeError, what);
  bad(() => addon.runAdd(run, it!.publicKey.subarray(1), it!.message, it!.signature), "31-byte key");
  bad(() => addon.runAdd(run, it!.publicKey, it!.message, it!.signature.subarray(1)), "63-byte signature");
  bad(() => addon.runAdd(run, it!.publicKey, "message" as unknown as Uint8Array, it!.signature), "a string message");
  bad(() => addon.runAdd({} as Ed25519Run, it!.publicKey, it!.message, it!.signature), "not a run");
  bad(() => (addon.runOpen as (x: unknown) => unknown)(1), "runOpen without a function");
  addon.runAdd(run, it!.publicKey, it!.message, it!.signature);
  const index = addon.runTake(run); // 0, unless the pool thread already took it (then -1)
  assert.ok(index === 0 || index === -1);
  bad(() => addon.runAdd(run, it!.publicKey, it!.message, it!.signature), "an add after a take");
  assert.equal(addon.runTake(run), -1, "the one item was taken once");
  addon.runClose(run);
  bad(() => addon.runTake(run), "take after close");
  bad(() => addon.runClose(run), "close after close");
  bad(() => addon.runAdd(run, it!.publicKey, it!.message, it!.signature), "add after close");
});

test("a worker thread has runs of its own, checked with the same verdicts", addonOnly, async () => {
  const source = `
    const { parentPort, workerData } = require("node:worker_threads");
    const addon = require(workerData.addon);
    const verdicts = new Map();
    const run = addon.runOpen((v) => { v.forEach((x, i) => verdicts.set(i, x === 1)); parentPort.postMessage([...verdicts.entries()]); });
    for (const it of workerData.items) addon.runAdd(run, it.publicKey, it.message, it.signature);
    addon.runClose(run);
  `;
  const all = items(60, 6, 4);
  const addonPath = new URL("../../native/build/Release/secret_group_native.node", import.meta.url).pathname;
  const worker = new Worker(source, { eval: true, workerData: { addon: addonPath, items: all } });
  const entries = await new Promise<Array<[number, boolean]>>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  await worker.terminate();
  assert.equal(entries.length, all.length);
  for (const [i, ok] of entries) assert.equal(ok, all[i]!.valid, `item ${i}`);
});

test("the provider's checks: a synchronous stretch past ED25519_RUN_AFTER is shared (the first ones here), sequential checks never are; every answer is libsodium's", async () => {
  const all = items(200, 9, 5);
  const before = verifyRunCounts();
  const answers = await Promise.all(all.map((it) => verifyEd25519Shared(it.publicKey, it.message, it.signature)));
  assert.deepEqual(answers, all.map((it) => it.valid));
  const after = verifyRunCounts();
  if (disabled) assert.deepEqual(after, before, "no runs without the addon");
  else {
    assert.equal(after.runs - before.runs, 1, "one run for the stretch");
    assert.equal(after.pool - before.pool + (after.here - before.here), all.length - ED25519_RUN_AFTER, "the stretch past the first checks, each checked once");
  }
  // one at a time: a microtask between checks ends each stretch
  const sequential: boolean[] = [];
  for (const it of all.slice(0, 40)) sequential.push(await verifyEd25519Shared(it.publicKey, it.message, it.signature));
  assert.deepEqual(sequential, all.slice(0, 40).map((it) => it.valid));
  assert.equal(verifyRunCounts().runs, after.runs, "no run for sequential checks");
});

test("a stretch with forgeries under a small-order key (OpenSSL alone accepts them): refused before they reach a run, like every other path", async () => {
  const all = items(60, 1000, 6);
  const identity = new Uint8Array(32);
  identity[0] = 1; // y = 1: the identity, order 1; [S]B = R + [k]A holds for R = [r]B, S = r
  const r = 1234567890123456789n;
  const forged = new Uint8Array(64);
  forged.set(ed25519.Point.BASE.multiply(r).toBytes(), 0);
  forged.set(Buffer.from(r.toString(16).padStart(64, "0"), "hex").reverse(), 32);
  const before = verifyRunCounts();
  const pending = all.map((it, i) => (i % 2 === 1 ? verifyEd25519Shared(identity, it.message, forged) : verifyEd25519Shared(it.publicKey, it.message, it.signature)));
  block(200); // the pool thread checks the whole stretch before this thread could take any
  assert.deepEqual(await Promise.all(pending), all.map((_, i) => i % 2 === 0));
  if (!disabled) assert.ok(verifyRunCounts().pool > before.pool, "the pool thread checked items of the stretch");
});
