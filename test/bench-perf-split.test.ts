/**
 * bench/perfSplit.ts on a hand-written `perf script` excerpt: samples parsed with their thread
 * and leaf-first frames, threads classed by what any of their samples hold (a sample whose stack
 * frame pointers cut short still counts for its thread's class), and each sample counted once,
 * for the first frame from the leaf that a rule or a JavaScript frame names.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { categoryOf, parsePerfScript, splitSamples, threadClasses } from "../bench/perfSplit.js";

const SCRIPT = [
  "node  100  10.000001:     500250 cpu-clock: ",
  "\t          1111 ge25519_double_scalarmult_vartime+0x10 (/usr/lib/libsodium.so)",
  "\t          2222 JS:*verify file:///w/dist/src/documents/document.js:1:1+0x20 (/tmp/perf-100.map)",
  "",
  "node  100  10.000002:     500250 cpu-clock: ",
  "\t          3333 _int_malloc+0x5 (/usr/lib/libc.so.6)",
  "\t          4444 JS:*seal file:///w/dist/src/engine/store/seal.js:1:1+0x1 (/tmp/perf-100.map)",
  "",
  "node  100  10.000003:     500250 cpu-clock: ",
  "\t          5555 JS:*_process file:///w/node_modules/xstate/dist/raise.cjs.js:924:11+0x9 (/tmp/perf-100.map)",
  "",
  "node  101  10.000004:     500250 cpu-clock: ",
  "\t          6666 malloc_consolidate+0x1 (/usr/lib/libc.so.6)",
  "",
  "node  101  10.000005:     500250 cpu-clock: ",
  "\t          7777 JS:*expandWithLabel file:///w/node_modules/ts-mls/dist/src/crypto/kdf.js:4:32+0x3 (/tmp/perf-100.map)",
  "\t          8888 node::worker::Worker::Run+0x9 (/usr/bin/node)",
  "",
  "node  102  10.000006:     500250 cpu-clock: ",
  "\t          9999 v8::internal::Scavenger::ScavengeObject+0x2 (/usr/bin/node)",
  "\t          aaaa v8::platform::DefaultJobWorker::Run+0x2 (/usr/bin/node)",
  "",
].join("\n");

test("perf script samples parse with their thread and leaf-first frames", () => {
  const samples = parsePerfScript(SCRIPT);
  assert.equal(samples.length, 6);
  assert.deepEqual(samples[0], { tid: 100, frames: ["ge25519_double_scalarmult_vartime", "JS:*verify file:///w/dist/src/documents/document.js:1:1"] });
  assert.deepEqual(samples[3]?.frames, ["malloc_consolidate"]);
});

test("threads are classed by any of their samples, the pid being main", () => {
  const classes = threadClasses(parsePerfScript(SCRIPT), 100);
  assert.deepEqual([...classes].sort(), [[100, "main"], [101, "worker"], [102, "v8"]]);
});

test("a sample counts for the first frame from the leaf that a rule or a JavaScript frame names", () => {
  assert.equal(categoryOf(["ge25519_double_scalarmult_vartime", "JS:*verify file:///w/dist/src/documents/document.js:1:1"]), "ed25519");
  assert.equal(categoryOf(["_int_malloc", "JS:*seal file:///w/dist/src/engine/store/seal.js:1:1"]), "malloc");
  assert.equal(categoryOf(["Builtins_LoadIC", "JS:*seal file:///w/dist/src/engine/store/seal.js:1:1"]), "js ours/engine");
  assert.equal(categoryOf(["JS:*f file:///w/node_modules/@noble/ciphers/aes.js:1:1"]), "js @noble/ciphers");
  assert.equal(categoryOf(["Builtins_LoadIC"]), "native Builtins_LoadIC");
  const split = splitSamples(parsePerfScript(SCRIPT), 100);
  assert.deepEqual(Object.fromEntries([...(split.get("main")?.categories ?? [])]), { ed25519: 1, malloc: 1, "js xstate": 1 });
  // the worker's cut-short sample (malloc_consolidate alone) still counts for the worker
  assert.deepEqual(Object.fromEntries([...(split.get("worker")?.categories ?? [])]), { malloc: 1, "js ts-mls": 1 });
  assert.deepEqual(Object.fromEntries([...(split.get("v8")?.categories ?? [])]), { gc: 1 });
});
