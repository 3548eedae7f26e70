/**
 * Ed25519 signing (src/ed25519Sign.ts): libsodium where sodium-native loads, node:crypto where it
 * does not (this file runs again in provider-sodium-fallback's child). Ed25519 is deterministic,
 * so whichever signs must give RFC 8032's signatures and the same bytes as node:crypto and
 * @noble/curves (the oracle) for any seed and message; the documents layer and the MLS provider
 * sign through it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, randomBytes } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { getCiphersuiteFromName } from "ts-mls";
import { fromHex } from "../src/bytes.js";
import { ed25519SignerOf, ed25519SignerOfKey } from "../src/ed25519Sign.js";
import { publicKeyOfSeed, signEd25519 } from "../src/documents/ed25519.js";
import { generateIdentity, identityFromSecretKey } from "../src/identity.js";
import { nodeCryptoProvider } from "../src/mls/crypto/provider.js";
import { sodium } from "../src/sodium.js";

const PKCS8 = fromHex("302e020100300506032b657004220420");
const nodeSigner = (seed: Uint8Array) => ed25519SignerOfKey(createPrivateKey({ key: Buffer.concat([PKCS8, seed]), format: "der", type: "pkcs8" }));

test("libsodium signs where sodium-native loads, node:crypto in the fallback's child", () => {
  assert.equal(sodium === undefined, process.env.SECRET_GROUP_TEST_NO_SODIUM === "1");
});

test("RFC 8032 7.1 tests 1 to 3: public keys and signatures", () => {
  const vectors: Array<[string, string, string, string]> = [
    [
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
      "",
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ],
    [
      "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
      "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
      "72",
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ],
    [
      "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
      "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
      "af82",
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ],
  ];
  for (const [seed, publicKey, message, signature] of vectors) {
    const signer = ed25519SignerOf(fromHex(seed));
    assert.deepEqual(signer.publicKey, fromHex(publicKey));
    assert.deepEqual(signer.sign(fromHex(message)), fromHex(signature));
    assert.deepEqual(nodeSigner(fromHex(seed)).sign(fromHex(message)), fromHex(signature));
  }
});

test("random seeds and messages: the same public key and signature as node:crypto and noble", () => {
  for (let i = 0; i < 120; i++) {
    const seed = new Uint8Array(randomBytes(32));
    const message = new Uint8Array(randomBytes((i * 37) % 3000));
    const signer = ed25519SignerOf(seed);
    const expected = ed25519.sign(message, seed);
    assert.deepEqual(signer.publicKey, ed25519.getPublicKey(seed), `public key ${i}`);
    assert.deepEqual(signer.sign(message), expected, `signature ${i}`);
    assert.deepEqual(nodeSigner(seed).sign(message), expected, `node:crypto ${i}`);
  }
});

test("identities, documents and the MLS provider sign through it: noble's public keys and signatures", async () => {
  for (let i = 0; i < 20; i++) {
    const identity = generateIdentity();
    assert.deepEqual(identity.publicKey, ed25519.getPublicKey(identity.secretKey));
    assert.deepEqual(identityFromSecretKey(identity.secretKey).publicKey, identity.publicKey);
    assert.deepEqual(publicKeyOfSeed(identity.secretKey), identity.publicKey);
    const message = new Uint8Array(randomBytes(100 + i));
    assert.deepEqual(signEd25519(identity, message), ed25519.sign(message, identity.secretKey));
  }
  const { signature } = await nodeCryptoProvider.getCiphersuiteImpl(getCiphersuiteFromName("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"));
  const seed = new Uint8Array(randomBytes(32));
  const message = new Uint8Array(randomBytes(64));
  const expected = ed25519.sign(message, seed);
  // the two forms a signature key takes (the default provider's): the seed, and PKCS#8
  assert.deepEqual(await signature.sign(seed, message), expected);
  assert.deepEqual(await signature.sign(new Uint8Array([...PKCS8, ...seed]), message), expected);
  assert.equal(await signature.verify(ed25519.getPublicKey(seed), message, expected), true);
  const { signKey, publicKey } = await signature.keygen();
  assert.equal(await signature.verify(publicKey, message, await signature.sign(signKey, message)), true);
});
