/**
 * Encapsulations made ahead on the seal helper thread (hpkePrepared.ts prepareSeals, hpkeSealer.ts
 * prepareBatch), used by the next seals to those keys (a Welcome's, made while ts-mls builds
 * the commit): each is the KEM of RFC 9180 (the recipient's Decap gives its shared secret), each
 * is used by one seal only, a released set is never used, and every seal opens.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { getCiphersuiteFromName } from "ts-mls";
import { HPKE_SEAL_OFFLOAD_MIN } from "../src/constants.js";
import { kemSharedSecret, makeHpkeSuite } from "../src/mls/crypto/hpkeCore.js";
import { x25519 } from "../src/mls/crypto/x25519.js";
import { nodeHpkeSealHelper } from "../src/mls/crypto/hpke.js";
import { nodeHpkePreparedSeals } from "../src/mls/crypto/hpkePrepared.js";
import type { PreparesSeals } from "../src/mls/crypto/hpkePrepared.js";
import { ENCAPSULATION_BYTES, prepareBatch } from "../src/mls/crypto/hpkeSealer.js";
import { nodeCryptoProvider } from "../src/mls/crypto/provider.js";
import { rawKey } from "../src/mls/crypto/rawKey.js";

const ALG = { kdf: "HKDF-SHA256", aead: "AES128GCM" } as const;
const INFO = Uint8Array.of(1, 2, 3);
const AAD = Uint8Array.of(4);
const suite = () => nodeCryptoProvider.getCiphersuiteImpl(getCiphersuiteFromName("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

async function recipients(count: number) {
  const { hpke } = await suite();
  return Promise.all(
    Array.from({ length: count }, async () => {
      const pair = await hpke.generateKeyPair();
      return { ...pair, raw: await hpke.exportPublicKey(pair.publicKey), secret: await hpke.exportPrivateKey(pair.privateKey) };
    }),
  );
}

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(done(), what);
}

test("prepareBatch: each encapsulation is the recipient's Decap, a refused key is listed and zero", async () => {
  const pairs = await recipients(3);
  const keys = [pairs[0]!.raw, new Uint8Array(32), pairs[1]!.raw, pairs[2]!.raw]; // the zero point: small order, refused
  const { packed, failed } = prepareBatch({ id: 1, prepare: keys });
  const bytes = new Uint8Array(packed);
  assert.equal(bytes.length, keys.length * ENCAPSULATION_BYTES);
  assert.deepEqual(failed, [1]);
  assert.ok(bytes.subarray(ENCAPSULATION_BYTES, 2 * ENCAPSULATION_BYTES).every((b) => b === 0));
  const s = makeHpkeSuite(ALG);
  for (const [i, k] of [0, 2, 3].entries()) {
    const enc = bytes.subarray(k * ENCAPSULATION_BYTES, k * ENCAPSULATION_BYTES + 32);
    const shared = bytes.subarray(k * ENCAPSULATION_BYTES + 32, (k + 1) * ENCAPSULATION_BYTES);
    const pair = pairs[i]!;
    const decapped = kemSharedSecret(s, x25519(rawKey("X25519", "private", pair.secret), rawKey("X25519", "public", enc)), enc, pair.raw);
    assert.deepEqual(decapped, shared, `recipient ${i}`);
  }
});

test("prepared encapsulations: the next seals use them here, once each, and every seal opens; a released set is dropped", async () => {
  const { hpke } = await suite();
  const prepares = (hpke as unknown as PreparesSeals).prepareSeals;
  assert.equal(typeof prepares, "function");
  const n = HPKE_SEAL_OFFLOAD_MIN + 3;
  const pairs = await recipients(n);
  const sealTo = (list: typeof pairs) => Promise.all(list.map((p, i) => hpke.seal(p.publicKey, Uint8Array.of(i), INFO, AAD)));
  const openAll = async (list: typeof pairs, sealed: Awaited<ReturnType<typeof sealTo>>) => {
    for (const [i, o] of sealed.entries()) assert.deepEqual(await hpke.open(list[i]!.privateKey, o.enc, o.ct, INFO, AAD), Uint8Array.of(i));
  };
  prepares(pairs.map((p) => p.raw))(); // starts the helper (nothing prepared before it is up)
  await until(() => nodeHpkeSealHelper.ready, "the seal helper thread came up");

  // prepared, then sealed: one helper answer (the preparation); the seals, all prepared, stay here
  let answered = nodeHpkeSealHelper.answered;
  const release = prepares(pairs.map((p) => p.raw));
  const first = await sealTo(pairs);
  assert.equal(nodeHpkeSealHelper.answered, answered + 1, "the batch used the prepared encapsulations, not the helper");
  // the same keys again before release: nothing left to use, so fresh encapsulations (half on the helper)
  const again = await sealTo(pairs);
  release();
  assert.equal(nodeHpkeSealHelper.answered, answered + 2, "a prepared encapsulation was used twice");
  await openAll(pairs, first);
  await openAll(pairs, again);
  assert.equal(new Set([...first, ...again].map((o) => hex(o.enc))).size, 2 * n, "an encapsulation was used twice");

  // released before any seal: its zeroed secrets are never used (each seal would not open)
  answered = nodeHpkeSealHelper.answered;
  const dropped = prepares(pairs.map((p) => p.raw));
  await until(() => nodeHpkeSealHelper.answered === answered + 1, "the preparation came back");
  dropped();
  await openAll(pairs, await sealTo(pairs));
});

test("an add of many members with the Welcome's encapsulations prepared: members join from it", async () => {
  const { createGroup, addMembers, joinGroup, groupMembers } = await import("../src/group/index.js");
  const { generateIdentity } = await import("../src/identity.js");
  const { createKeyPackage } = await import("../src/keyPackage.js");
  const owner = generateIdentity();
  const join = async () => {
    const members = await Promise.all(Array.from({ length: HPKE_SEAL_OFFLOAD_MIN + 2 }, async () => {
      const identity = generateIdentity();
      return { identity, kp: await createKeyPackage(identity) };
    }));
    const state = await createGroup({ identity: owner, groupId: new Uint8Array(32).fill(members.length), ciphersuite: "PANDA10_AES128GCM" });
    const used = nodeHpkePreparedSeals();
    const added = await addMembers(state, members.map((m) => m.kp.keyPackage));
    for (const m of [members[0]!, members[40]!, members.at(-1)!]) {
      const joined = await joinGroup({ identity: m.identity, secret: m.kp.secret, owner: owner.publicKey, commit: added.commit });
      assert.equal(groupMembers(joined).length, members.length + 1);
    }
    return nodeHpkePreparedSeals() - used;
  };
  await join(); // may start the helper
  await until(() => nodeHpkeSealHelper.ready, "the seal helper thread came up");
  assert.equal(await join(), HPKE_SEAL_OFFLOAD_MIN + 2, "every Welcome seal used an encapsulation the helper prepared");
});
