/**
 * One key package lifetime rule (src/lifetime.ts) with one clock allowance
 * (KEY_PACKAGE_CLOCK_SKEW_SECONDS, on the publisher's side), and a default lifetime OpenMLS
 * peers accept (notAfter - notBefore <= 7,261,200 s).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultCapabilities, encodeMlsMessage, generateKeyPackageWithKey } from "ts-mls";
import {
  DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS, DEFAULT_MLS_CIPHERSUITE, KEY_PACKAGE_CLOCK_SKEW_SECONDS, MAX_KEY_PACKAGE_LIFETIME_RANGE_SECONDS,
} from "../src/constants.js";
import { keyPackageDocument } from "../src/documents/index.js";
import { keyPackagesFromDocuments } from "../src/engine/keyPackages.js";
import { SecretGroupError } from "../src/errors.js";
import { addMembers, createGroup } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage, keyPackageInfo } from "../src/keyPackage.js";
import { checkKeyPackageLifetime } from "../src/lifetime.js";
import { mlsCommit } from "../src/mls/commit.js";
import { getSuite } from "../src/mls/suite.js";
import { newGroupId, rejectsWith } from "./group-fixtures.js";
import { openNode } from "./engine-helpers.js";

const codeOf = async (fn: () => unknown): Promise<string> => {
  try {
    await fn();
    return "accepted";
  } catch (e) {
    return e instanceof SecretGroupError ? e.code : `untyped: ${String(e)}`;
  }
};

async function keyPackageWith(identity: Identity, notBefore: bigint, notAfter: bigint): Promise<Uint8Array> {
  const cs = await getSuite(DEFAULT_MLS_CIPHERSUITE as "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
  const { publicPackage } = await generateKeyPackageWithKey(
    { credentialType: "basic", identity: identity.publicKey },
    defaultCapabilities(),
    { notBefore, notAfter },
    [],
    { signKey: identity.secretKey, publicKey: identity.publicKey },
    cs,
  );
  return encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage: publicPackage });
}

test("the lifetime rule: notBefore <= now <= notAfter in whole seconds of this node's clock", () => {
  const lifetime = { notBefore: 1_000n, notAfter: 2_000n };
  checkKeyPackageLifetime(lifetime, 1_000_000); // the first millisecond of notBefore
  checkKeyPackageLifetime(lifetime, 2_000_999); // the last millisecond of notAfter
  assert.throws(() => checkKeyPackageLifetime(lifetime, 999_999), { code: "KEY_PACKAGE_EXPIRED" });
  assert.throws(() => checkKeyPackageLifetime(lifetime, 2_001_000), { code: "KEY_PACKAGE_EXPIRED" });
});

test("the library, the engine and ts-mls' own commit check give the same verdict on every lifetime", async () => {
  const owner = generateIdentity();
  const state = await createGroup({ identity: owner, groupId: newGroupId(), ciphersuite: "PANDA10_AES128GCM" });
  const now = BigInt(Math.floor(Date.now() / 1000));
  const cases: Array<{ name: string; notBefore: bigint; notAfter: bigint; expected: string }> = [
    { name: "valid now", notBefore: now - 30n, notAfter: now + 30n, expected: "accepted" },
    // inside the minute the engine used to tolerate, which ts-mls then refused anyway
    { name: "valid from 30 s on", notBefore: now + 30n, notAfter: now + 3600n, expected: "KEY_PACKAGE_EXPIRED" },
    { name: "ended 30 s ago", notBefore: now - 3600n, notAfter: now - 30n, expected: "KEY_PACKAGE_EXPIRED" },
  ];
  for (const c of cases) {
    const member = generateIdentity();
    const bytes = await keyPackageWith(member, c.notBefore, c.notAfter);
    const document = keyPackageDocument(member, { keyPackage: bytes }).bytes;
    const verdicts = {
      rule: await codeOf(() => checkKeyPackageLifetime(keyPackageInfo(bytes))),
      library: await codeOf(() => addMembers(state, [bytes])),
      engine: await codeOf(() => keyPackagesFromDocuments([document])),
      tsMls: await codeOf(() => mlsCommit(state.mls, state.provider, { add: [bytes] })),
    };
    assert.deepEqual(verdicts, { rule: c.expected, library: c.expected, engine: c.expected, tsMls: c.expected }, c.name);
  }
});

test("our key packages span at most the 7,261,200 s OpenMLS accepts: notBefore an hour back, 84 days ahead", async () => {
  assert.equal(MAX_KEY_PACKAGE_LIFETIME_RANGE_SECONDS, 7_261_200);
  assert.equal(KEY_PACKAGE_CLOCK_SKEW_SECONDS, 3600);
  const id = generateIdentity();
  const before = BigInt(Math.floor(Date.now() / 1000));
  const info = keyPackageInfo((await createKeyPackage(id)).keyPackage);
  const after = BigInt(Math.floor(Date.now() / 1000));
  assert.equal(info.notAfter - info.notBefore, 7_261_200n);
  assert.ok(info.notBefore >= before - 3600n && info.notBefore <= after - 3600n);
  assert.equal(BigInt(DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS), info.notAfter - info.notBefore - 3600n);
  // the longest lifetime asked for explicitly fits too; one second more is refused
  const longest = keyPackageInfo((await createKeyPackage(id, { lifetimeSeconds: DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS })).keyPackage);
  assert.ok(longest.notAfter - longest.notBefore <= 7_261_200n);
  await rejectsWith(() => createKeyPackage(id, { lifetimeSeconds: DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS + 1 }), "INVALID_ARGUMENT");
  // and what the engine publishes
  const node = await openNode();
  try {
    const [doc] = (await node.engine.publishKeyPackage()).documents;
    const [bytes] = await keyPackagesFromDocuments([doc as Uint8Array]);
    const published = keyPackageInfo(bytes as Uint8Array);
    assert.equal(published.notAfter - published.notBefore, 7_261_200n);
  } finally {
    await node.engine.close();
    await node.cleanup();
  }
});
