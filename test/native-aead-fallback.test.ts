/**
 * Where the addon was not built (no compiler at install, or SECRET_GROUP_NATIVE=0), node:crypto's
 * cipher objects open and seal long-term values and the MLS provider's AEAD, its createHmac makes
 * the provider's HMACs, and libsodium alone checks a joiner's leaf signatures: the library's AEAD,
 * the engine's main-thread opens, the pool's worker loop (its copying path), the small-batch
 * thresholds of that path, the provider's HPKE, HMAC, message AEAD and signature checks, and the
 * sealed store's AES-256-GCM (its frozen fixtures open on either). This file runs those suites in
 * a child process with SECRET_GROUP_NATIVE=0, which its worker threads inherit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runSuitesInChild } from "./child-suites.js";

const SUITES = [
  "native-aead.test.js",
  "native-hmac.test.js",
  "native-ed25519-run.test.js",
  "lts-aead.test.js",
  "lts-encrypt.test.js",
  "lts-vectors.test.js",
  "engine-decrypt-main.test.js",
  "engine-decrypt-pool.test.js",
  "engine-decrypt-pool-keys.test.js",
  "engine-decrypt-pool-segments.test.js",
  "engine-decrypt-pool-leaks.test.js",
  "engine-close-shared-pool.test.js",
  "provider-equality.test.js",
  "secrets-at-rest.test.js",
  "storage-key.test.js",
  "storage-fixture-v6.test.js",
];

test("without the AEAD addon, node:crypto does the work: the AEAD, library and engine decryption suites pass", { timeout: 600_000 }, () => {
  const tap = runSuitesInChild(SUITES, { SECRET_GROUP_NATIVE: "0" });
  assert.match(tap, /ok \d+ - is not loaded under SECRET_GROUP_NATIVE=0/);
});
