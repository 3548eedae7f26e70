import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultCapabilities, defaultLifetime, generateKeyPackageWithKey, encodeMlsMessage } from "ts-mls";
import { makeKeyPackageRef } from "ts-mls/keyPackage.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { clientConfig, identityAuthService } from "../src/mls/config.js";
import { decodeKeyPackageBytes, decodeMlsState, encodeMlsState } from "../src/mls/codec.js";
import { mlsCreateGroup } from "../src/mls/group.js";
import { keyPackageRef, summarizeKeyPackage } from "../src/mls/keyPackage.js";
import { getSuite, mlsCiphersuiteNameFromId } from "../src/mls/suite.js";
import { mapMlsError } from "../src/mls/errors.js";
import { ValidationError as MlsValidationError } from "ts-mls/mlsError.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage, keyPackageInfo } from "../src/keyPackage.js";
import { addMembers, createGroup } from "../src/group/index.js";
import { DEFAULT_MLS_CIPHERSUITE, MAX_FORWARD_RATCHET_STEPS, RETAIN_EPOCHS, RETAIN_GENERATIONS } from "../src/constants.js";
import { SecretGroupError } from "../src/errors.js";
import { newGroupId, rejectsWith } from "./group-fixtures.js";

test("the authentication service accepts only credential identity == signature key", async () => {
  const a = generateIdentity();
  const b = generateIdentity();
  assert.equal(await identityAuthService.validateCredential({ credentialType: "basic", identity: a.publicKey }, a.publicKey), true);
  assert.equal(await identityAuthService.validateCredential({ credentialType: "basic", identity: a.publicKey }, b.publicKey), false);
  assert.equal(await identityAuthService.validateCredential({ credentialType: "basic", identity: a.publicKey.subarray(0, 31) }, a.publicKey.subarray(0, 31)), false);
  assert.equal(await identityAuthService.validateCredential({ credentialType: "x509", certificates: [] }, a.publicKey), false);
});

test("a key package claiming another identity is refused", async () => {
  const mallory = generateIdentity();
  const victim = generateIdentity();
  const cs = await getSuite(DEFAULT_MLS_CIPHERSUITE as "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
  // credential says "victim", the signature key is mallory's (forged through ts-mls in the test)
  const { publicPackage } = await generateKeyPackageWithKey(
    { credentialType: "basic", identity: victim.publicKey },
    defaultCapabilities(),
    defaultLifetime,
    [],
    { signKey: mallory.secretKey, publicKey: mallory.publicKey },
    cs,
  );
  const bytes = encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage: publicPackage });
  await rejectsWith(() => keyPackageInfo(bytes), "INVALID_KEY_PACKAGE");
  const owner = generateIdentity();
  const state = await createGroup({ identity: owner, groupId: newGroupId(), ciphersuite: "PANDA10_AES128GCM" });
  await rejectsWith(() => addMembers(state, [bytes]), "INVALID_KEY_PACKAGE");
});

test("a key package whose signature key has small order (signatures anyone can forge, which OpenSSL alone accepts) is refused, by its summary and by the commit's signature check", async () => {
  // y = 1, the identity point: [S]B = R + [k]A holds for R = [r]B, S = r, whatever the message
  const identityPoint = new Uint8Array(32);
  identityPoint[0] = 1;
  const r = 123456789n;
  const forged = new Uint8Array([...ed25519.Point.BASE.multiply(r).toBytes(), ...Buffer.from(r.toString(16).padStart(64, "0"), "hex").reverse()]);
  const cs = await getSuite(DEFAULT_MLS_CIPHERSUITE as "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
  const forger = { ...cs, signature: { ...cs.signature, sign: async () => forged } };
  const { publicPackage } = await generateKeyPackageWithKey(
    { credentialType: "basic", identity: identityPoint },
    defaultCapabilities(),
    defaultLifetime,
    [],
    { signKey: new Uint8Array(32), publicKey: identityPoint },
    forger,
  );
  const bytes = encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage: publicPackage });
  await rejectsWith(() => keyPackageInfo(bytes), "INVALID_KEY_PACKAGE");
  const owner = generateIdentity();
  const state = await createGroup({ identity: owner, groupId: newGroupId(), ciphersuite: "PANDA10_AES128GCM" });
  await rejectsWith(() => addMembers(state, [bytes]), "INVALID_KEY_PACKAGE");
  // below the summary, the provider's check (the commit's, the joiner's) refuses the forgery too
  assert.equal(await cs.signature.verify(identityPoint, new Uint8Array([1, 2, 3]), forged), false);
});

test("an expired key package is refused with KEY_PACKAGE_EXPIRED", async () => {
  const dave = generateIdentity();
  const cs = await getSuite(DEFAULT_MLS_CIPHERSUITE as "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
  const { publicPackage } = await generateKeyPackageWithKey(
    { credentialType: "basic", identity: dave.publicKey },
    defaultCapabilities(),
    { notBefore: 0n, notAfter: 1000n },
    [],
    { signKey: dave.secretKey, publicKey: dave.publicKey },
    cs,
  );
  const bytes = encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage: publicPackage });
  assert.equal(keyPackageInfo(bytes).notAfter, 1000n);
  const state = await createGroup({ identity: generateIdentity(), groupId: newGroupId(), ciphersuite: "PANDA10_AES128GCM" });
  await rejectsWith(() => addMembers(state, [bytes]), "KEY_PACKAGE_EXPIRED");
});

test("key packages: credential and signature key are the identity; KeyPackageRef matches ts-mls", async () => {
  const id = generateIdentity();
  const { keyPackage } = await createKeyPackage(id);
  const kp = decodeKeyPackageBytes(keyPackage);
  assert.equal(kp.cipherSuite, DEFAULT_MLS_CIPHERSUITE);
  assert.deepEqual(kp.leafNode.signaturePublicKey, id.publicKey);
  assert.equal(kp.leafNode.credential.credentialType, "basic");
  const cs = await getSuite(kp.cipherSuite);
  assert.deepEqual(keyPackageRef(kp), await makeKeyPackageRef(kp, cs.hash));
  assert.deepEqual(summarizeKeyPackage(keyPackage).ref, keyPackageInfo(keyPackage).ref);
  const short = await createKeyPackage(id, { lifetimeSeconds: 60 });
  const info = keyPackageInfo(short.keyPackage);
  assert.ok(info.notAfter - info.notBefore <= 3600n + 60n);
  await rejectsWith(() => createKeyPackage(id, { ciphersuite: "MLS_256_DHKEMP521_AES256GCM_SHA512_P521" }), "UNSUPPORTED_CIPHERSUITE");
  await rejectsWith(() => createKeyPackage({ publicKey: id.publicKey, secretKey: generateIdentity().secretKey }), "INVALID_ARGUMENT");
});

test("client config: retention from constants, re-attached after decoding", async () => {
  assert.equal(clientConfig.keyRetentionConfig.retainKeysForEpochs, RETAIN_EPOCHS);
  assert.equal(clientConfig.keyRetentionConfig.retainKeysForGenerations, RETAIN_GENERATIONS);
  assert.equal(clientConfig.keyRetentionConfig.maximumForwardRatchetSteps, MAX_FORWARD_RATCHET_STEPS);
  const id = generateIdentity();
  const mls = await mlsCreateGroup(newGroupId(), id, "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", "default");
  assert.equal(mls.clientConfig, clientConfig);
  const back = decodeMlsState(encodeMlsState(mls));
  assert.equal(back.clientConfig, clientConfig);
  assert.deepEqual(back.keySchedule.epochAuthenticator, mls.keySchedule.epochAuthenticator);
});

test("ts-mls faults are mapped to typed errors; suites are cached", async () => {
  const replay = mapMlsError(new MlsValidationError("Desired gen in the past"), "DECRYPTION_FAILED", "x");
  assert.ok(replay instanceof SecretGroupError);
  assert.equal(replay.code, "REPLAY");
  const generic = mapMlsError(new Error("OperationError"), "DECRYPTION_FAILED", "x");
  assert.equal(generic.code, "DECRYPTION_FAILED");
  assert.equal(generic.source, "crypto");
  assert.equal(mapMlsError(new MlsValidationError("Current time not within Lifetime"), "INVALID_KEY_PACKAGE", "x").code, "KEY_PACKAGE_EXPIRED");
  const a = await getSuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
  const b = await getSuite(mlsCiphersuiteNameFromId(1));
  assert.equal(a, b);
  await rejectsWith(() => getSuite("NOPE" as "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"), "UNSUPPORTED_CIPHERSUITE");
  assert.throws(() => mlsCiphersuiteNameFromId(9999), (e: unknown) => e instanceof SecretGroupError && e.code === "UNSUPPORTED_CIPHERSUITE");
});
