/**
 * RFC 9180 known answers for the node HPKE (Appendix A.1.1: DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256, AES-128-GCM, base mode) and the seal paths built on it: a seal with the
 * vector's ephemeral key must give the vector's enc and ciphertext, and every seal sealed as
 * a batch (on this thread or the helper thread) must open with the recipient's key.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { getCiphersuiteFromName } from "ts-mls";
import { CryptoError } from "ts-mls/mlsError.js";
import { fromHex } from "../src/bytes.js";
import { HPKE_INFO_LENGTH_LIMIT, HPKE_SEAL_OFFLOAD_MIN } from "../src/constants.js";
import { createPublicKey } from "node:crypto";
import { baseContext, kemSharedSecret, keyScheduleOf, makeHpkeSuite, sealWith } from "../src/mls/crypto/hpkeCore.js";
import { ephemeralKeyPair, x25519 } from "../src/mls/crypto/x25519.js";
import { nodeHpkeSealHelper } from "../src/mls/crypto/hpke.js";
import { sealBatch } from "../src/mls/crypto/hpkeSealer.js";
import { SealHelper } from "../src/mls/crypto/sealHelper.js";
import { nodeCryptoProvider } from "../src/mls/crypto/provider.js";
import { importedPublicOf, publicOf, rawKey } from "../src/mls/crypto/rawKey.js";

// RFC 9180 Appendix A.1.1
const V = {
  ikmE: fromHex("7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234"),
  skEm: fromHex("52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736"),
  pkEm: fromHex("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431"),
  ikmR: fromHex("6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037"),
  skRm: fromHex("4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8"),
  pkRm: fromHex("3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d"),
  info: fromHex("4f6465206f6e2061204772656369616e2055726e"),
  sharedSecret: fromHex("fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc"),
  key: fromHex("4531685d41d65f03dc48f6b8302c05b0"),
  baseNonce: fromHex("56d890e5accaaf011cff4b7d"),
  exporterSecret: fromHex("45ff1c2e220db587171952c0592d5f5ebe103f1561a2614e38f2ffd47e99e3f8"),
  aad: fromHex("436f756e742d30"),
  pt: fromHex("4265617574792069732074727574682c20747275746820626561757479"),
  ct: fromHex("f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a"),
  exportEmpty: fromHex("3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee"),
};
const ALG = { kdf: "HKDF-SHA256", aead: "AES128GCM" } as const;
const suite = () => nodeCryptoProvider.getCiphersuiteImpl(getCiphersuiteFromName("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"));

test("RFC 9180 A.1.1: KEM, key schedule and seal with the vector's ephemeral key", () => {
  const s = makeHpkeSuite(ALG);
  const skE = rawKey("X25519", "private", V.skEm);
  const pkR = rawKey("X25519", "public", V.pkRm);
  assert.deepEqual(kemSharedSecret(s, x25519(skE, pkR), V.pkEm, V.pkRm), V.sharedSecret);
  const context = baseContext(s, V.info);
  const ks = keyScheduleOf(s, V.sharedSecret, context);
  assert.deepEqual(ks.key(), V.key);
  assert.deepEqual(ks.nonce(), V.baseNonce);
  assert.deepEqual(ks.exporter(), V.exporterSecret);
  const sealed = sealWith(s, { publicRaw: V.pkRm, publicKey: () => pkR, plaintext: V.pt, context, aad: V.aad }, V.skEm);
  assert.deepEqual(sealed.enc, V.pkEm);
  assert.deepEqual(sealed.ct, V.ct);
});

test("RFC 9180 A.1.1: the provider derives the vector's keys, opens its ciphertext and imports its exporter secret", async () => {
  const { hpke } = await suite();
  const e = await hpke.deriveKeyPair(V.ikmE);
  assert.deepEqual(await hpke.exportPrivateKey(e.privateKey), V.skEm);
  assert.deepEqual(await hpke.exportPublicKey(e.publicKey), V.pkEm);
  const r = await hpke.deriveKeyPair(V.ikmR);
  assert.deepEqual(await hpke.exportPrivateKey(r.privateKey), V.skRm);
  assert.deepEqual(await hpke.exportPublicKey(r.publicKey), V.pkRm);
  const skR = await hpke.importPrivateKey(V.skRm);
  assert.deepEqual(await hpke.open(skR, V.pkEm, V.ct, V.info, V.aad), V.pt);
  assert.deepEqual(await hpke.importSecret(skR, new Uint8Array(), V.pkEm, 32, V.info), V.exportEmpty);
  const flipped = V.ct.slice();
  flipped[0]! ^= 1;
  await assert.rejects(hpke.open(skR, V.pkEm, flipped, V.info, V.aad), CryptoError);
});

test("an info longer than HPKE_INFO_LENGTH_LIMIT is refused by seal, open and export, before and after a seal cached the last info", async () => {
  const { hpke } = await suite();
  const r = await hpke.deriveKeyPair(V.ikmR);
  const long = new Uint8Array(HPKE_INFO_LENGTH_LIMIT + 1); // zero pages: never touched before the refusal
  for (let round = 0; round < 2; round++) {
    await assert.rejects(hpke.seal(r.publicKey, V.pt, long, V.aad), CryptoError);
    await assert.rejects(hpke.open(r.privateKey, V.pkEm, V.ct, long, V.aad), CryptoError);
    await assert.rejects(hpke.exportSecret(r.publicKey, new Uint8Array(), 32, long), CryptoError);
    await assert.rejects(hpke.importSecret(r.privateKey, new Uint8Array(), V.pkEm, 32, long), CryptoError);
    // a seal with a short info fills the seals' cache; the limit still holds
    const sealed = await hpke.seal(r.publicKey, V.pt, V.info, V.aad);
    assert.deepEqual(await hpke.open(r.privateKey, sealed.enc, sealed.ct, V.info, V.aad), V.pt);
  }
});

test("X25519 public keys read back from imported private keys equal the vector's and the key's own export", () => {
  assert.deepEqual(importedPublicOf(rawKey("X25519", "private", V.skEm)), V.pkEm);
  assert.deepEqual(importedPublicOf(rawKey("X25519", "private", V.skRm)), V.pkRm);
  for (let i = 0; i < 64; i++) {
    const e = ephemeralKeyPair();
    assert.deepEqual(e.publicRaw, publicOf(createPublicKey(e.privateKey)));
  }
});

test("a public key array changed in place after its import imports as the new key", async () => {
  const { hpke } = await suite();
  const [a, b] = await recipients(2);
  const array = Uint8Array.from(await hpke.exportPublicKey(a!.publicKey));
  assert.deepEqual(await hpke.exportPublicKey(await hpke.importPublicKey(array)), array);
  array.set(await hpke.exportPublicKey(b!.publicKey)); // the same array object, other bytes
  const imported = await hpke.importPublicKey(array);
  assert.deepEqual(await hpke.exportPublicKey(imported), array);
  const sealed = await hpke.seal(imported, V.pt, V.info, V.aad);
  assert.deepEqual(await hpke.open(b!.privateKey, sealed.enc, sealed.ct, V.info, V.aad), V.pt);
});

async function recipients(count: number) {
  const { hpke } = await suite();
  return Promise.all(Array.from({ length: count }, () => hpke.generateKeyPair()));
}

async function helperOnline(helper: SealHelper): Promise<void> {
  for (let i = 0; i < 400 && !helper.ready; i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(helper.ready, "the seal helper thread came up");
}

test("the helper thread's batch seals open with each recipient's key, a bad key fails only its own seal", async () => {
  const { hpke } = await suite();
  const pairs = await recipients(6);
  const s = makeHpkeSuite(ALG);
  const context = baseContext(s, V.info);
  const jobs = await Promise.all(pairs.map(async (p, i) => ({ publicRaw: await hpke.exportPublicKey(p.publicKey), plaintext: Uint8Array.of(i, i, i), context, aad: V.aad })));
  // the zero point is of small order: X25519 gives all zeros, which RFC 9180 section 7.1.4 refuses
  jobs.splice(3, 0, { publicRaw: new Uint8Array(32), plaintext: Uint8Array.of(9), context, aad: V.aad });
  const helper = new SealHelper();
  helper.start();
  await helperOnline(helper);
  const outcomes = [...(await helper.seal(ALG, jobs))];
  assert.equal(helper.answered, 1);
  assert.equal(outcomes.length, 7);
  assert.equal(typeof (outcomes[3] as { error: string }).error, "string");
  assert.ok(!("error" in sealBatch({ id: 0, alg: ALG, jobs: jobs.slice(0, 1) }).outcomes[0]!));
  outcomes.splice(3, 1);
  for (const [i, o] of outcomes.entries()) {
    assert.ok(!("error" in o));
    assert.deepEqual(await hpke.open(pairs[i]!.privateKey, o.enc, o.ct, V.info, V.aad), Uint8Array.of(i, i, i));
  }
});

test("a large batch of provider seals is split with the helper thread and every seal opens; small ones stay here", async () => {
  const { hpke } = await suite();
  const n = HPKE_SEAL_OFFLOAD_MIN + 5;
  const pairs = await recipients(n);
  const sealAll = () => Promise.all(pairs.map((p, i) => hpke.seal(p.publicKey, Uint8Array.of(i & 0xff, i >> 8), V.info, V.aad)));
  const openAll = async (sealed: Awaited<ReturnType<typeof sealAll>>) => {
    for (const [i, o] of sealed.entries()) assert.deepEqual(await hpke.open(pairs[i]!.privateKey, o.enc, o.ct, V.info, V.aad), Uint8Array.of(i & 0xff, i >> 8));
    assert.equal(new Set(sealed.map((o) => Buffer.from(o.enc).toString("hex"))).size, n, "a fresh ephemeral key per seal");
  };
  await openAll(await sealAll()); // starts the helper, seals here meanwhile
  await helperOnline(nodeHpkeSealHelper);
  const before = nodeHpkeSealHelper.answered;
  await openAll(await sealAll());
  assert.equal(nodeHpkeSealHelper.answered, before + 1, "the large batch went partly to the helper");
  await Promise.all(pairs.slice(0, HPKE_SEAL_OFFLOAD_MIN - 1).map((p) => hpke.seal(p.publicKey, V.pt, V.info, V.aad)));
  assert.equal(nodeHpkeSealHelper.answered, before + 1, "a small batch is sealed on this thread");
  await assert.rejects(hpke.seal(await hpke.importPublicKey(new Uint8Array(32)), V.pt, V.info, V.aad), CryptoError);
});

test("a process whose seals started the helper thread exits by itself", async () => {
  const provider = new URL("../src/mls/crypto/provider.js", import.meta.url).href;
  const hpkeModule = new URL("../src/mls/crypto/hpke.js", import.meta.url).href;
  const script = `
    import { getCiphersuiteFromName } from "ts-mls";
    import { nodeCryptoProvider } from ${JSON.stringify(provider)};
    import { nodeHpkeSealHelper } from ${JSON.stringify(hpkeModule)};
    const { hpke } = await nodeCryptoProvider.getCiphersuiteImpl(getCiphersuiteFromName("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"));
    const keys = await Promise.all(Array.from({ length: ${HPKE_SEAL_OFFLOAD_MIN} }, () => hpke.generateKeyPair()));
    const sealAll = () => Promise.all(keys.map((k) => hpke.seal(k.publicKey, new Uint8Array(32), new Uint8Array(8), new Uint8Array())));
    await sealAll();
    while (!nodeHpkeSealHelper.ready) await new Promise((r) => setTimeout(r, 10));
    if (process.argv[2] === "again") await sealAll();
    console.log("sealed", nodeHpkeSealHelper.answered);`;
  const { execFile } = await import("node:child_process");
  const { mkdtemp, rm, writeFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = await mkdtemp(join(tmpdir(), "hpke-helper-"));
  const file = join(dir, "child.mjs");
  // a file, not --input-type=module -e: workers inherit execArgv, and --input-type refuses a file entry
  await writeFile(file, script.replace('from "ts-mls"', `from ${JSON.stringify(new URL("../../node_modules/ts-mls/dist/src/index.js", import.meta.url).href)}`));
  const run = (args: string[]) =>
    new Promise<string>((resolve, reject) => execFile(process.execPath, [file, ...args], { timeout: 30_000 }, (error, stdout) => (error === null ? resolve(stdout.trim()) : reject(error))));
  try {
    // the helper came up after the only batch (never used), and after a batch it sealed
    assert.equal(await run([]), "sealed 0");
    assert.equal(await run(["again"]), "sealed 1");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
