import { test } from "node:test";
import assert from "node:assert/strict";
import { SecretGroupError } from "../src/errors.js";
import { decodeSecretGroupCommit } from "../src/commit.js";
import {
  addMembers,
  decodeGroupState,
  decrypt,
  encodeGroupState,
  encrypt,
  inspectCommit,
  joinGroup,
  peekMessage,
  processCommit,
  rotateLongTermSecret,
} from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage, keyPackageInfo } from "../src/keyPackage.js";
import { makeGroup, rejectsWith, text } from "./group-fixtures.js";

const TYPED_REJECTIONS = new Set([
  "DECODE_ERROR",
  "WRONG_GROUP",
  "UNKNOWN_EPOCH",
  "FORGED_SENDER",
  "REPLAY",
  "INVALID_COMMIT",
  "INVALID_WELCOME",
  "INVALID_KEY_PACKAGE",
  "DECRYPTION_FAILED",
  "MLS_FAILURE",
  "UNSUPPORTED_CIPHERSUITE",
]);

async function assertTypedRejection(what: string, fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof SecretGroupError, `${what}: untyped error ${String(e)}`);
    assert.ok(TYPED_REJECTIONS.has(e.code), `${what}: unexpected code ${e.code}: ${e.message}`);
    return e.code;
  }
  assert.fail(`${what}: accepted`);
}

function flip(bytes: Uint8Array, index: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[index] = (out[index] as number) ^ (1 << (index % 8));
  return out;
}

function extend(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

test("truncated, extended and bit-flipped commits give typed errors and change no state", async () => {
  const { owner, members } = await makeGroup(1);
  const bob = members[0]!;
  const r = await rotateLongTermSecret(owner.state);
  const before = encodeGroupState(bob.state);
  const codes = new Map<string, number>();
  for (let n = 0; n < r.commit.length; n++) {
    await rejectsWith(() => processCommit(bob.state, r.commit.subarray(0, n)), "DECODE_ERROR");
  }
  await rejectsWith(() => processCommit(bob.state, extend(r.commit)), "DECODE_ERROR");
  for (let i = 0; i < r.commit.length; i++) {
    const code = await assertTypedRejection(`flip ${i}`, () => processCommit(bob.state, flip(r.commit, i)));
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  assert.deepEqual(encodeGroupState(bob.state), before);
  // every code seen is one that names the fault; the genuine commit still applies afterwards
  assert.ok(codes.has("DECODE_ERROR") && codes.has("MLS_FAILURE"), JSON.stringify([...codes]));
  const next = await processCommit(bob.state, r.commit);
  assert.equal(next.secrets.length, 2);
  // inspectCommit is strict too
  assert.throws(() => inspectCommit(r.commit.subarray(0, r.commit.length - 1)), (e: unknown) => e instanceof SecretGroupError && e.code === "DECODE_ERROR");
});

test("bit-flipped Welcomes and secret lists are refused by a joiner", async () => {
  const { owner } = await makeGroup(0);
  const dave = generateIdentity();
  const kp = await createKeyPackage(dave);
  const r = await addMembers(owner.state, [kp.keyPackage]);
  const parts = decodeSecretGroupCommit(r.commit);
  const commitPartEnd = 1 + 2 + parts.mlsCommit.length; // version, varint length (2 bytes here), commit
  assert.ok(parts.mlsCommit.length >= 64 && parts.mlsCommit.length < 16384);
  const join = (commit: Uint8Array): Promise<GroupState> =>
    joinGroup({ identity: dave, secret: kp.secret, owner: owner.identity.publicKey, commit });
  // A joiner cannot verify the MLS commit itself (no previous epoch): it checks the Welcome
  // and the owner-signed secret list, so every byte after the commit must be covered.
  for (let i = commitPartEnd; i < r.commit.length; i += 3) {
    await assertTypedRejection(`flip ${i}`, () => join(flip(r.commit, i)));
  }
  for (let n = 0; n < r.commit.length; n += 7) await rejectsWith(() => join(r.commit.subarray(0, n)), "DECODE_ERROR");
  await rejectsWith(() => join(extend(r.commit)), "DECODE_ERROR");
  await rejectsWith(() => joinGroup({ identity: dave, secret: kp.secret.subarray(0, 20), owner: owner.identity.publicKey, commit: r.commit }), "DECODE_ERROR");
  const joined = await join(r.commit);
  assert.equal(joined.status, "member");
});

test("truncated, extended and bit-flipped messages of both schemes give typed errors", async () => {
  const { owner, members } = await makeGroup(1);
  const bob = members[0]!;
  const lt = await encrypt(owner.state, text("long-term value"), { scheme: "long-term" });
  owner.state = lt.state;
  const sr = await encrypt(owner.state, text("ratchet value"), { scheme: "sender-ratchet" });
  owner.state = sr.state;
  for (const [name, message] of [
    ["long-term", lt.message],
    ["sender-ratchet", sr.message],
  ] as const) {
    for (let n = 0; n < message.length; n++) await rejectsWith(() => decrypt(bob.state, message.subarray(0, n)), "DECODE_ERROR");
    await rejectsWith(() => decrypt(bob.state, extend(message)), "DECODE_ERROR");
    assert.throws(() => peekMessage(extend(message)), (e: unknown) => e instanceof SecretGroupError && e.code === "DECODE_ERROR");
    for (let i = 0; i < message.length; i++) {
      await assertTypedRejection(`${name} flip ${i}`, () => decrypt(bob.state, flip(message, i)));
    }
    // nothing was consumed by the failures
    assert.ok((await decrypt(bob.state, message)).plaintext.length > 0);
  }
});

test("truncated group states, key package secrets and key packages give DECODE_ERROR", async () => {
  const { members } = await makeGroup(1);
  const bytes = encodeGroupState(members[0]!.state);
  for (let n = 1; n < bytes.length; n += Math.max(1, Math.floor(bytes.length / 300))) {
    await rejectsWith(() => decodeGroupState(bytes.subarray(0, n)), "DECODE_ERROR");
  }
  await rejectsWith(() => decodeGroupState(extend(bytes)), "DECODE_ERROR");
  await rejectsWith(() => decodeGroupState(new Uint8Array(0)), "DECODE_ERROR");
  const kp = await createKeyPackage(generateIdentity());
  for (let n = 0; n < kp.keyPackage.length; n += 5) await rejectsWith(() => keyPackageInfo(kp.keyPackage.subarray(0, n)), "DECODE_ERROR");
  await rejectsWith(() => keyPackageInfo(extend(kp.keyPackage)), "DECODE_ERROR");
});
