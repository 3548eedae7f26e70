/**
 * Document ids are BLAKE3 hashes (src/documents/blake3.ts): the WebAssembly implementation and
 * its pure-JS fallback must both give the BLAKE3 test vectors (BLAKE3 team's test_vectors.json:
 * input i % 251, first 32 bytes of the output), agree on large and offset inputs, load in a
 * worker thread and through require() (as piscina loads its workers: so no top-level await), and the
 * fallback must be what a runtime without WebAssembly gets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { Worker } from "node:worker_threads";
import { blake3, blake3Backend, blake3Fallback } from "../src/documents/blake3.js";
import { rng } from "./prng.js";

const VECTORS: ReadonlyArray<readonly [number, string]> = [
  [0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"],
  [1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"],
  [1023, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"],
  [1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"],
  [1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"],
  [2049, "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b6879522563030"],
  [3073, "7124b49501012f81cc7f11ca069ec9226cecb8a2c850cfe644e327d22d3e1cd3"],
  [7169, "a003fc7a51754a9b3c7fae0367ab3d782dccf28855a03d435f8cfe74605e7817"],
  [8193, "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b"],
  [16384, "f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde4"],
  [31744, "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47"],
  [102400, "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085"],
];
const input = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i % 251);
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

test("both BLAKE3 implementations give the test vectors; WebAssembly is the one in use", async () => {
  assert.equal(await blake3Backend(), "wasm");
  for (const [n, expected] of VECTORS) {
    assert.equal(hex(blake3(input(n))), expected, `wasm, ${n} bytes`);
    assert.equal(hex(blake3Fallback(input(n))), expected, `js, ${n} bytes`);
  }
});

test("large, offset and repeated inputs hash alike in both", async () => {
  await blake3Backend();
  const prng = rng(3);
  for (const size of [5, 64, 65, 1000, 70_000, 720_865]) {
    const backing = prng.bytes(size + 9);
    const view = backing.subarray(7, 7 + size); // a view at an offset into a larger buffer
    const first = blake3(view);
    assert.equal(first.length, 32);
    assert.equal(hex(first), hex(blake3Fallback(view)), `${size} bytes`);
    assert.equal(hex(blake3(view)), hex(first), "a second call (the hasher is reset)");
  }
});

test("a worker thread and require() get the WebAssembly BLAKE3; a runtime without WebAssembly falls back to pure JS", async () => {
  const module = new URL("../src/documents/blake3.js", import.meta.url).href;
  const code = `import { blake3, blake3Backend } from ${JSON.stringify(module)}; const { parentPort } = await import("node:worker_threads"); parentPort.postMessage([await blake3Backend(), Buffer.from(blake3(Uint8Array.from({ length: 1025 }, (_, i) => i % 251))).toString("hex")]);`;
  const fromWorker = await new Promise<unknown>((resolve, reject) => {
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { eval: false });
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  assert.deepEqual(fromWorker, ["wasm", VECTORS[4]![1]]);
  const required = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(new URL(module).pathname)}).blake3Backend().then((b) => console.log(b))`], { encoding: "utf8" });
  assert.equal(required.status, 0, required.stderr);
  assert.equal(required.stdout.trim(), "wasm");
  const print = `const m = await import(${JSON.stringify(module)}); console.log(await m.blake3Backend(), Buffer.from(m.blake3(Uint8Array.from({ length: 1025 }, (_, i) => i % 251))).toString("hex"))`;
  const child = spawnSync(process.execPath, ["--jitless", "--input-type=module", "-e", print], { encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), `js ${VECTORS[4]![1]}`);
});
