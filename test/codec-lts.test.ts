/**
 * Codecs of LongTermSecret, `LongTermSecret secrets<V>` and LongTermSecretCiphertext: generic
 * decoder properties (fast-check) plus the specific bounds each decoder enforces.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writer } from "../src/codec/tls.js";
import { DecodeError, ErrorCode, UsageError } from "../src/errors.js";
import { decodeLongTermSecretCiphertext, encodeLongTermSecretCiphertext } from "../src/lts/ciphertext.js";
import type { LongTermSecretCiphertext } from "../src/lts/ciphertext.js";
import {
  asLongTermEpoch, decodeLongTermSecret, decodeLongTermSecrets, encodeLongTermSecret, encodeLongTermSecrets,
} from "../src/lts/secret.js";
import type { LongTermSecret } from "../src/lts/secret.js";
import { decoderProperties } from "./vectors/codec-properties.js";
import { arbCiphertext, arbSecret, arbSecretList, pattern } from "./vectors/helpers.js";

const isDecodeError = (e: unknown): boolean => e instanceof DecodeError;
const isInvalidArgument = (e: unknown): boolean => e instanceof UsageError && e.code === ErrorCode.InvalidArgument;

const secret: LongTermSecret = { groupId: pattern(32), ciphersuite: "PANDA10_AES128GCM", epoch: asLongTermEpoch(3), value: pattern(16) };
const ct: LongTermSecretCiphertext = { groupId: pattern(32), epoch: asLongTermEpoch(3), nonce: pattern(12), ciphertext: pattern(16) };

/** Raw LongTermSecret bytes with free choice of every field (to forge invalid ones). */
function rawSecret(groupId: Uint8Array, suite: number, epoch: bigint, value: Uint8Array): Uint8Array {
  return new Writer().opaque(groupId).u8(suite).u64(epoch).opaque(value).finish();
}
function rawCiphertext(groupId: Uint8Array, epoch: bigint, nonce: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return new Writer().opaque(groupId).u64(epoch).opaque(nonce).opaque(ciphertext).finish();
}

describe("LongTermSecret codec", () => {
  decoderProperties({ name: "LongTermSecret", arb: arbSecret, encode: encodeLongTermSecret, decode: decodeLongTermSecret });

  it("rejects unknown ciphersuites, wrong value sizes and oversized group ids", () => {
    assert.deepEqual(decodeLongTermSecret(rawSecret(pattern(256), 1, 0n, pattern(16))).groupId, pattern(256));
    for (const suite of [0, 4, 0x80, 0xff]) assert.throws(() => decodeLongTermSecret(rawSecret(pattern(32), suite, 0n, pattern(16))), isDecodeError);
    for (const [suite, n] of [[1, 32], [1, 15], [2, 16], [3, 31], [3, 0], [2, 64], [2, 65]] as const) {
      assert.throws(() => decodeLongTermSecret(rawSecret(pattern(32), suite, 0n, pattern(n))), isDecodeError, `${suite} ${n}`);
    }
    assert.throws(() => decodeLongTermSecret(rawSecret(pattern(257), 1, 0n, pattern(16))), isDecodeError);
    // a non-minimal varint length is not canonical
    const nonMinimal = Uint8Array.from([0x40, 0x20, ...pattern(32), 1, ...new Uint8Array(8), 16, ...pattern(16)]);
    assert.throws(() => decodeLongTermSecret(nonMinimal), isDecodeError);
  });

  it("refuses to encode invalid secrets (usage error)", () => {
    assert.throws(() => encodeLongTermSecret({ ...secret, value: pattern(32) }), isInvalidArgument);
    assert.throws(() => encodeLongTermSecret({ ...secret, groupId: pattern(257) }), isInvalidArgument);
    assert.throws(() => encodeLongTermSecret({ ...secret, ciphersuite: "X" as never }), isInvalidArgument);
    assert.throws(() => encodeLongTermSecret({ ...secret, epoch: -1n as never }), isInvalidArgument);
    assert.throws(() => encodeLongTermSecret({ ...secret, epoch: (1n << 64n) as never }), isInvalidArgument);
    assert.throws(() => encodeLongTermSecret(null as never), isInvalidArgument);
  });
});

describe("LongTermSecret secrets<V> codec", () => {
  decoderProperties({
    name: "LongTermSecrets",
    arb: arbSecretList,
    encode: encodeLongTermSecrets,
    decode: decodeLongTermSecrets,
    normalize: (list) => [...list].sort((a, b) => (a.epoch < b.epoch ? -1 : a.epoch > b.epoch ? 1 : 0)),
    runs: 200,
  });

  it("rejects unsorted and duplicate epochs", () => {
    const s = (e: bigint) => encodeLongTermSecret({ ...secret, epoch: asLongTermEpoch(e) });
    const list = (...items: Uint8Array[]) => new Writer().opaque(Uint8Array.from(items.flatMap((i) => [...i]))).finish();
    assert.equal(decodeLongTermSecrets(list(s(1n), s(2n), s(9n))).length, 3);
    assert.throws(() => decodeLongTermSecrets(list(s(2n), s(1n))), isDecodeError);
    assert.throws(() => decodeLongTermSecrets(list(s(1n), s(1n))), isDecodeError);
    assert.throws(() => decodeLongTermSecrets(list(s(1n), s(3n), s(2n))), isDecodeError);
    // an item cut short inside the vector
    assert.throws(() => decodeLongTermSecrets(list(s(1n), s(2n).subarray(0, 10))), isDecodeError);
  });

  it("encoder sorts a copy and refuses duplicate epochs", () => {
    const a = { ...secret, epoch: asLongTermEpoch(2) };
    const b = { ...secret, epoch: asLongTermEpoch(1) };
    const input = [a, b];
    assert.deepEqual(decodeLongTermSecrets(encodeLongTermSecrets(input)), [b, a]);
    assert.deepEqual(input, [a, b]);
    assert.throws(() => encodeLongTermSecrets([a, { ...a, value: pattern(16, 1) }]), isInvalidArgument);
    assert.throws(() => encodeLongTermSecrets("x" as never), isInvalidArgument);
  });
});

describe("LongTermSecretCiphertext codec", () => {
  decoderProperties({
    name: "LongTermSecretCiphertext",
    arb: arbCiphertext,
    encode: encodeLongTermSecretCiphertext,
    decode: decodeLongTermSecretCiphertext,
  });

  it("requires a 12-byte nonce, a ciphertext of at least the tag, a group id of at most 256 bytes", () => {
    assert.equal(decodeLongTermSecretCiphertext(rawCiphertext(pattern(32), 0n, pattern(12), pattern(16))).ciphertext.length, 16);
    for (const n of [0, 11, 13, 16]) assert.throws(() => decodeLongTermSecretCiphertext(rawCiphertext(pattern(32), 0n, pattern(n), pattern(16))), isDecodeError);
    for (const n of [0, 1, 15]) assert.throws(() => decodeLongTermSecretCiphertext(rawCiphertext(pattern(32), 0n, pattern(12), pattern(n))), isDecodeError);
    assert.throws(() => decodeLongTermSecretCiphertext(rawCiphertext(pattern(257), 0n, pattern(12), pattern(16))), isDecodeError);
  });

  it("refuses to encode malformed ciphertexts (usage error)", () => {
    assert.throws(() => encodeLongTermSecretCiphertext({ ...ct, nonce: pattern(11) }), isInvalidArgument);
    assert.throws(() => encodeLongTermSecretCiphertext({ ...ct, ciphertext: pattern(15) }), isInvalidArgument);
    assert.throws(() => encodeLongTermSecretCiphertext({ ...ct, groupId: pattern(300) }), isInvalidArgument);
    assert.throws(() => encodeLongTermSecretCiphertext({ ...ct, epoch: -1n as never }), isInvalidArgument);
  });

  it("carries a 1 MiB ciphertext (4-byte varint)", () => {
    const big = { ...ct, ciphertext: pattern(1024 * 1024 + 16) };
    assert.deepEqual(decodeLongTermSecretCiphertext(encodeLongTermSecretCiphertext(big)), big);
  });
});
