/**
 * sealLongTerm/openLongTerm (AD = group_id || aad, epoch lookup, typed errors), the secret-list
 * helpers (merge, find, latest), ciphersuite ids and the derivation's argument checks.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { nobleAead, nodeAead } from "../src/lts/aead.js";
import type { AeadBackend } from "../src/lts/aead.js";
import { ciphersuiteFromId, ciphersuiteId, isLongTermCiphersuiteName, longTermKeySize } from "../src/lts/ciphersuite.js";
import { deriveLongTermNonce, deriveLongTermSecret, longTermKeyLabel, longTermNonceLabel } from "../src/lts/derive.js";
import { openLongTerm, sealLongTerm } from "../src/lts/encrypt.js";
import {
  asLongTermEpoch, findLongTermSecret, latestLongTermSecret, mergeLongTermSecrets,
} from "../src/lts/secret.js";
import type { LongTermSecret } from "../src/lts/secret.js";
import { CryptoError, DecodeError, ErrorCode, InternalError, SecretGroupError, UsageError, ValidationError } from "../src/errors.js";
import { KEY_SIZE, SUITES, arbSuite, hkdfExporter, pattern } from "./vectors/helpers.js";

const BACKENDS: readonly AeadBackend[] = [nodeAead, nobleAead];
const code = (c: string) => (e: unknown): boolean => e instanceof SecretGroupError && e.code === c;

function secretsFor(groupId: Uint8Array, suite: (typeof SUITES)[number], epochs: readonly bigint[]): LongTermSecret[] {
  return epochs.map((e) => ({
    groupId,
    ciphersuite: suite,
    epoch: asLongTermEpoch(e),
    value: pattern(KEY_SIZE[suite], Number(e % 251n)),
  }));
}

describe("sealLongTerm / openLongTerm", () => {
  it("round-trip and reject a different epoch, group id or aad (fast-check, both backends)", () => {
    fc.assert(
      fc.property(
        arbSuite,
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 20 }),
        // epochs below 251 give distinct key patterns (secretsFor keys by epoch mod 251)
        fc.uniqueArray(fc.bigInt({ min: 0n, max: 250n }), { minLength: 2, maxLength: 8 }),
        fc.integer({ min: 0, max: 255 }),
        (suite, groupId, plaintext, aad, epochs, extra) => {
          const sorted = [...epochs].sort((a, b) => (a < b ? -1 : 1));
          const secrets = secretsFor(groupId, suite, sorted);
          const used = secrets[epochs.length - 1] as LongTermSecret;
          const other = secrets.find((s) => s.epoch !== used.epoch) as LongTermSecret;
          for (const b of BACKENDS) {
            const ct = sealLongTerm(used, pattern(12, extra), plaintext, aad, b);
            assert.equal(ct.epoch, used.epoch);
            assert.deepEqual(ct.groupId, groupId);
            for (const b2 of BACKENDS) assert.deepEqual(openLongTerm(secrets, groupId, ct, aad, b2), plaintext);
            // another epoch we hold: its key differs, the tag fails
            assert.throws(() => openLongTerm(secrets, groupId, { ...ct, epoch: other.epoch }, aad, b), code(ErrorCode.DecryptionFailed));
            // an epoch we do not hold
            assert.throws(() => openLongTerm(secrets, groupId, { ...ct, epoch: asLongTermEpoch(5000n) }, aad, b), code(ErrorCode.UnknownEpoch));
            // a ciphertext of another group
            const otherGroup = new Uint8Array([...groupId, extra]);
            assert.throws(() => openLongTerm(secrets, otherGroup, ct, aad, b), code(ErrorCode.WrongGroup));
            assert.throws(() => openLongTerm(secrets, groupId, { ...ct, groupId: otherGroup }, aad, b), code(ErrorCode.WrongGroup));
            // the same key under another group id: the group id is in the AD, so the tag fails
            const moved = secrets.map((s) => ({ ...s, groupId: otherGroup }));
            assert.throws(() => openLongTerm(moved, otherGroup, { ...ct, groupId: otherGroup }, aad, b), code(ErrorCode.DecryptionFailed));
            // a different aad
            assert.throws(() => openLongTerm(secrets, groupId, ct, new Uint8Array([...aad, extra]), b), code(ErrorCode.DecryptionFailed));
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("binds AD = group_id || aad exactly (checked against the raw backend)", () => {
    const groupId = pattern(32, 1);
    const [secret] = secretsFor(groupId, "PANDA10_AES256GCM", [3n]) as [LongTermSecret];
    const aad = pattern(7, 200);
    const ct = sealLongTerm(secret, pattern(12), pattern(30), aad);
    assert.deepEqual(nobleAead.open(secret.ciphersuite, secret.value, ct.nonce, ct.ciphertext, new Uint8Array([...groupId, ...aad])), pattern(30));
    // no aad means AD = group_id
    const ct2 = sealLongTerm(secret, pattern(12), pattern(30));
    assert.deepEqual(nobleAead.open(secret.ciphersuite, secret.value, ct2.nonce, ct2.ciphertext, groupId), pattern(30));
  });

  it("finds the epoch among 10,000 secrets and errors are typed", () => {
    const groupId = pattern(32, 9);
    const secrets = secretsFor(groupId, "PANDA10_AES128GCM", Array.from({ length: 10_000 }, (_, i) => BigInt(i * 2)));
    for (const e of [0n, 2n, 9998n, 19998n, 12346n]) {
      const s = findLongTermSecret(secrets, e) as LongTermSecret;
      const ct = sealLongTerm(s, pattern(12), pattern(3));
      assert.deepEqual(openLongTerm(secrets, groupId, ct), pattern(3));
    }
    for (const e of [1n, 19999n, 20000n, 12347n]) {
      assert.equal(findLongTermSecret(secrets, e), undefined);
      const ct = sealLongTerm(secrets[0] as LongTermSecret, pattern(12), pattern(3));
      assert.throws(() => openLongTerm(secrets, groupId, { ...ct, epoch: asLongTermEpoch(e) }), (err: unknown) => err instanceof ValidationError && err.code === ErrorCode.UnknownEpoch);
    }
    assert.throws(() => openLongTerm([], groupId, sealLongTerm(secrets[0] as LongTermSecret, pattern(12), pattern(1))), code(ErrorCode.UnknownEpoch));
    const ct = sealLongTerm(secrets[0] as LongTermSecret, pattern(12), pattern(3));
    ct.ciphertext[0] = (ct.ciphertext[0] as number) ^ 1;
    assert.throws(() => openLongTerm(secrets, groupId, ct), (err: unknown) => err instanceof CryptoError && err.code === ErrorCode.DecryptionFailed);
  });

  it("refuses a secret of another group held under the ciphertext's epoch", () => {
    const groupId = pattern(32, 1);
    const foreign = secretsFor(pattern(32, 2), "PANDA10_AES128GCM", [0n]);
    const ct = sealLongTerm(secretsFor(groupId, "PANDA10_AES128GCM", [0n])[0] as LongTermSecret, pattern(12), pattern(3));
    assert.throws(() => openLongTerm(foreign, groupId, ct), code(ErrorCode.WrongGroup));
  });

  it("returns copies: changing the inputs afterwards does not change the ciphertext", () => {
    const [secret] = secretsFor(pattern(32), "PANDA10_CHACHA20POLY1305", [1n]) as [LongTermSecret];
    const nonce = pattern(12);
    const ct = sealLongTerm(secret, nonce, pattern(4));
    nonce[0] = 99;
    secret.groupId[0] = 99;
    assert.deepEqual(ct.nonce, pattern(12));
    assert.deepEqual(ct.groupId, pattern(32));
  });
});

describe("secret lists", () => {
  it("merge keeps the existing secret of an epoch, dedupes, and sorts", () => {
    const g = pattern(32);
    const a = secretsFor(g, "PANDA10_AES128GCM", [5n, 1n]);
    const b: LongTermSecret[] = [
      { groupId: g, ciphersuite: "PANDA10_AES128GCM", epoch: asLongTermEpoch(5n), value: pattern(16, 0xee) },
      ...secretsFor(g, "PANDA10_AES128GCM", [0n, 9n, 9n]),
    ];
    const merged = mergeLongTermSecrets(a, b);
    assert.deepEqual(merged.map((s) => s.epoch), [0n, 1n, 5n, 9n]);
    assert.equal(merged[2], a[0]);
    assert.deepEqual(mergeLongTermSecrets([], []), []);
    assert.equal(latestLongTermSecret(merged)?.epoch, 9n);
    assert.equal(latestLongTermSecret([]), undefined);
    // inputs are untouched
    assert.deepEqual(a.map((s) => s.epoch), [5n, 1n]);
  });

  it("merge is a sorted, duplicate-free union (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 50n }), { maxLength: 30 }), fc.array(fc.bigInt({ min: 0n, max: 50n }), { maxLength: 30 }), (ea, eb) => {
        const merged = mergeLongTermSecrets(secretsFor(pattern(4), "PANDA10_AES128GCM", ea), secretsFor(pattern(4), "PANDA10_AES128GCM", eb));
        const expected = [...new Set([...ea, ...eb])].sort((x, y) => (x < y ? -1 : 1));
        assert.deepEqual(merged.map((s) => s.epoch), expected);
        for (const e of expected) assert.equal(findLongTermSecret(merged, e)?.epoch, e);
      }),
      { numRuns: 200 },
    );
  });

  it("asLongTermEpoch accepts u64 integers only", () => {
    assert.equal(asLongTermEpoch(0), 0n);
    assert.equal(asLongTermEpoch((1n << 64n) - 1n), (1n << 64n) - 1n);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60, -1n, 1n << 64n, "1" as unknown as number]) {
      assert.throws(() => asLongTermEpoch(bad), code(ErrorCode.InvalidArgument));
    }
  });
});

describe("ciphersuites", () => {
  it("map names and ids both ways; unknown ids are DecodeError", () => {
    assert.deepEqual(SUITES.map(ciphersuiteId), [1, 2, 3]);
    assert.deepEqual([1, 2, 3].map(ciphersuiteFromId), SUITES);
    assert.deepEqual(SUITES.map(longTermKeySize), [16, 32, 32]);
    for (const id of [0, 4, 255, -1, 1.5]) assert.throws(() => ciphersuiteFromId(id), (e: unknown) => e instanceof DecodeError);
    for (const x of ["PANDA10_AES128GCM", "PANDA10_AES256GCM", "PANDA10_CHACHA20POLY1305"]) assert.ok(isLongTermCiphersuiteName(x));
    for (const x of ["toString", "__proto__", "panda10_aes128gcm", 1, null, undefined]) assert.ok(!isLongTermCiphersuiteName(x));
    assert.throws(() => ciphersuiteId("toString" as never), (e: unknown) => e instanceof UsageError);
  });
});

describe("derivation", () => {
  it("labels are prefix || decimal and prefix || hex || decimal", () => {
    assert.equal(longTermKeyLabel(0n), "long_term_secret0");
    assert.equal(longTermKeyLabel(1234n), "long_term_secret1234");
    assert.equal(longTermNonceLabel(new Uint8Array(32).fill(0xab), 7n), `long_term_nonce${"ab".repeat(32)}7`);
    assert.throws(() => longTermKeyLabel(-1n), code(ErrorCode.InvalidArgument));
    assert.throws(() => longTermKeyLabel(1n << 64n), code(ErrorCode.InvalidArgument));
    assert.throws(() => longTermNonceLabel(new Uint8Array(31), 0n), code(ErrorCode.InvalidArgument));
    assert.throws(() => longTermNonceLabel(new Uint8Array(32), -1n), code(ErrorCode.InvalidArgument));
    assert.throws(() => longTermNonceLabel(new Uint8Array(32), 1 as unknown as bigint), code(ErrorCode.InvalidArgument));
  });

  it("derives distinct keys per epoch and distinct nonces per author and counter", async () => {
    const exporter = hkdfExporter(pattern(32));
    const g = pattern(32, 7);
    const k0 = await deriveLongTermSecret(exporter, g, "PANDA10_AES256GCM", 0n);
    const k1 = await deriveLongTermSecret(exporter, g, "PANDA10_AES256GCM", 1n);
    assert.notDeepEqual(k0.value, k1.value);
    const n = await Promise.all([
      deriveLongTermNonce(exporter, pattern(32, 0), 1n),
      deriveLongTermNonce(exporter, pattern(32, 0), 2n),
      deriveLongTermNonce(exporter, pattern(32, 1), 1n),
    ]);
    assert.equal(new Set(n.map((x) => Buffer.from(x).toString("hex"))).size, 3);
    assert.ok(n.every((x) => x.length === 12));
  });

  it("refuses an exporter that returns the wrong length", async () => {
    const short = async (_l: string, len: number) => new Uint8Array(len - 1);
    await assert.rejects(deriveLongTermSecret(short, pattern(32), "PANDA10_AES128GCM", 0n), (e: unknown) => e instanceof InternalError);
    await assert.rejects(deriveLongTermNonce(short, pattern(32), 0n), (e: unknown) => e instanceof InternalError);
    await assert.rejects(deriveLongTermSecret(hkdfExporter(pattern(32)), pattern(32), "NOPE" as never, 0n), code(ErrorCode.InvalidArgument));
  });
});
