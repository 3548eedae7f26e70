/**
 * Where sodium-native cannot load (a platform without a prebuild), node:crypto verifies Ed25519
 * (src/ed25519Verify.ts; the provider batches long runs onto libuv's pool), signs it
 * (src/ed25519Sign.ts) and computes HPKE's X25519 (src/mls/crypto/x25519.ts). This file runs itself, with the provider, HPKE, document
 * and vector suites, in a child process whose `sodium-native` fails to load
 * (test/no-sodium-preload.cts), there and in its worker threads.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { getCiphersuiteFromName } from "ts-mls";
import { Ed25519Backend, ed25519Backend } from "../src/ed25519Verify.js";
import { x25519Backend } from "../src/mls/crypto/x25519.js";
import { verifyingInline } from "../src/mls/crypto/signature.js";
import { nodeCryptoProvider } from "../src/mls/crypto/provider.js";
import { VERIFY_SYNC_MAX } from "../src/constants.js";
import { runSuitesInChild, testFile } from "./child-suites.js";

const inChild = process.env.SECRET_GROUP_TEST_NO_SODIUM === "1";
const cs = getCiphersuiteFromName("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");

// Suites that verify Ed25519 on every path the fallback has (the provider's batching and inline
// checks, documents on this thread and on the pool, joins in engine workers, the vectors) and
// that run HPKE's X25519 (its known answers, the seal helper thread, Welcome encapsulations made
// ahead) and sign (RFC 8032's signatures, documents, the provider).
const SUITES = [
  "provider-sodium-fallback.test.js",
  "provider-x25519.test.js",
  "ed25519-sign.test.js",
  "provider-hpke-kat.test.js",
  "provider-hpke-prepared.test.js",
  "provider-units.test.js",
  "documents-envelope.test.js",
  "documents-async-verify.test.js",
  "engine-join-batch.test.js",
  "mls-vectors.test.js",
  "mls-adapter.test.js",
];

if (!inChild) {
  test("without sodium-native, node:crypto verifies and computes X25519: the fallback's own checks and the provider, HPKE, document, engine-join and vector suites pass", { timeout: 600_000 }, () => {
    const tap = runSuitesInChild(SUITES, { SECRET_GROUP_TEST_NO_SODIUM: "1" }, ["--require", testFile("no-sodium-preload.cjs")]);
    assert.match(tap, /ok \d+ - the backend is node:crypto here and in a worker thread/);
  });
} else {
  test("the backend is node:crypto here and in a worker thread", async () => {
    assert.equal(ed25519Backend(), Ed25519Backend.Node);
    assert.equal(x25519Backend(), "node:crypto");
    const ed = new URL("../src/ed25519Verify.js", import.meta.url).href;
    const x = new URL("../src/mls/crypto/x25519.js", import.meta.url).href;
    const worker = new Worker(
      `Promise.all([import(${JSON.stringify(ed)}), import(${JSON.stringify(x)})]).then(([e, x]) => require("node:worker_threads").parentPort.postMessage([e.ed25519Backend(), x.x25519Backend()]))`,
      { eval: true },
    );
    const inWorker = await new Promise((resolve, reject) => worker.once("message", resolve).once("error", reject));
    await worker.terminate();
    assert.deepEqual(inWorker, [Ed25519Backend.Node, "node:crypto"]);
  });

  test("verifyingInline: a turn's many Ed25519 verifications are answered on this thread, at once; outside it (and after it threw) they go to the pool", async () => {
    const node = await nodeCryptoProvider.getCiphersuiteImpl(cs);
    const n = 2 * VERIFY_SYNC_MAX + 1; // more than run inline by default, fewer than a long run's chunk
    const signers = await Promise.all(Array.from({ length: n }, () => node.signature.keygen()));
    const msgs = signers.map((_, i) => new Uint8Array([i, 9]));
    const sigs = await Promise.all(signers.map((s, i) => node.signature.sign(s.signKey, msgs[i]!)));
    const wrong = 3;
    // Settled before the first setImmediate queued after them? The turn's verifications are flushed by a
    // setImmediate queued first; answers from libuv's pool can only arrive in a later poll phase.
    const turn = async (): Promise<{ settled: number; verdicts: boolean[] }> => {
      let settled = 0;
      const all = signers.map((s, i) => node.signature.verify(s.publicKey, i === wrong ? new Uint8Array([254]) : msgs[i]!, sigs[i]!).finally(() => settled++));
      await new Promise((r) => setImmediate(r));
      const early = settled;
      return { settled: early, verdicts: await Promise.all(all) };
    };
    const expected = signers.map((_, i) => i !== wrong);
    const inline = await verifyingInline(turn);
    assert.equal(inline.settled, n, "all answered in the flush itself");
    assert.deepEqual(inline.verdicts, expected);
    await assert.rejects(verifyingInline(async () => { throw new Error("boom"); }), /boom/);
    const pooled = await turn();
    assert.equal(pooled.settled, 0, "outside verifyingInline the turn's verifications went to libuv's pool");
    assert.deepEqual(pooled.verdicts, expected);
  });
}
