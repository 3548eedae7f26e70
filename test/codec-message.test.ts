/**
 * Codecs of SecretGroupMessage (both types) and SecretGroupCommit: generic decoder properties
 * (fast-check) plus the specific checks on types, MLS framing, versions and optional parts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Writer } from "../src/codec/tls.js";
import { DecodeError, ErrorCode, UsageError } from "../src/errors.js";
import { encodeLongTermSecretCiphertext } from "../src/lts/ciphertext.js";
import { asLongTermEpoch } from "../src/lts/secret.js";
import { decodeSecretGroupMessage, encodeSecretGroupMessage, peekMlsPrivateMessage } from "../src/message.js";
import type { SecretGroupMessage } from "../src/message.js";
import { decodeSecretGroupCommit, encodeSecretGroupCommit } from "../src/commit.js";
import type { SecretGroupCommit } from "../src/commit.js";
import { decoderProperties } from "./vectors/codec-properties.js";
import { arbCiphertext, arbMlsMessage, pattern, privateMessage } from "./vectors/helpers.js";

const isDecodeError = (e: unknown): boolean => e instanceof DecodeError;
const isInvalidArgument = (e: unknown): boolean => e instanceof UsageError && e.code === ErrorCode.InvalidArgument;

const arbMessage: fc.Arbitrary<SecretGroupMessage> = fc.oneof(
  arbMlsMessage.map((mlsMessage): SecretGroupMessage => ({ type: "mls", mlsMessage })),
  arbCiphertext.map((ciphertext): SecretGroupMessage => ({ type: "long-term", ciphertext })),
);

const arbCommit: fc.Arbitrary<SecretGroupCommit> = fc
  .tuple(fc.uint8Array({ minLength: 1, maxLength: 80 }), fc.option(fc.uint8Array({ minLength: 1, maxLength: 80 }), { nil: undefined }), arbMlsMessage)
  .map(([mlsCommit, mlsWelcome, mls]) => {
    const encryptedSecrets = encodeSecretGroupMessage({ type: "mls", mlsMessage: mls });
    return mlsWelcome === undefined ? { mlsCommit, encryptedSecrets } : { mlsCommit, mlsWelcome, encryptedSecrets };
  });

const parts = {
  groupId: pattern(32),
  epoch: 9n,
  contentType: 1,
  authenticatedData: new Uint8Array(0),
  encryptedSenderData: pattern(28),
  ciphertext: pattern(40),
};
const mls = privateMessage(parts);

describe("SecretGroupMessage codec", () => {
  decoderProperties({ name: "SecretGroupMessage", arb: arbMessage, encode: encodeSecretGroupMessage, decode: decodeSecretGroupMessage, runs: 300 });

  it("rejects unknown types and empty input", () => {
    for (const t of [0, 3, 4, 0x80, 0xff]) assert.throws(() => decodeSecretGroupMessage(Uint8Array.from([t, ...mls])), isDecodeError);
    assert.throws(() => decodeSecretGroupMessage(new Uint8Array(0)), isDecodeError);
    assert.throws(() => decodeSecretGroupMessage(Uint8Array.of(1)), isDecodeError);
    assert.throws(() => decodeSecretGroupMessage(Uint8Array.of(2)), isDecodeError);
  });

  it("type 1 must hold exactly one MLSMessage with a PrivateMessage", () => {
    assert.deepEqual(decodeSecretGroupMessage(Uint8Array.from([1, ...mls])), { type: "mls", mlsMessage: mls });
    const bad = (patch: (b: Uint8Array) => void): Uint8Array => {
      const b = Uint8Array.from([1, ...mls]);
      patch(b);
      return b;
    };
    assert.throws(() => decodeSecretGroupMessage(bad((b) => (b[2] = 2))), isDecodeError); // version 2
    assert.throws(() => decodeSecretGroupMessage(bad((b) => (b[4] = 1))), isDecodeError); // PublicMessage
    assert.throws(() => decodeSecretGroupMessage(bad((b) => (b[4] = 3))), isDecodeError); // Welcome
    for (const ct of [0, 4, 255]) {
      assert.throws(() => decodeSecretGroupMessage(Uint8Array.from([1, ...privateMessage({ ...parts, contentType: ct })])), isDecodeError);
    }
    assert.throws(() => decodeSecretGroupMessage(Uint8Array.from([1, ...privateMessage({ ...parts, groupId: pattern(257) })])), isDecodeError);
  });

  it("peekMlsPrivateMessage reads group id, epoch, content type and authenticated data", () => {
    const h = peekMlsPrivateMessage(privateMessage({ ...parts, epoch: (1n << 64n) - 1n, contentType: 3, authenticatedData: pattern(5) }));
    assert.deepEqual(h, { groupId: pattern(32), epoch: (1n << 64n) - 1n, contentType: 3, authenticatedData: pattern(5) });
    assert.throws(() => peekMlsPrivateMessage(mls.subarray(1)), isDecodeError);
  });

  it("type 2 payload is a LongTermSecretCiphertext spanning the rest of the bytes", () => {
    const ct = { groupId: pattern(32), epoch: asLongTermEpoch(4), nonce: pattern(12), ciphertext: pattern(16) };
    const bytes = encodeSecretGroupMessage({ type: "long-term", ciphertext: ct });
    assert.deepEqual(bytes, Uint8Array.from([2, ...encodeLongTermSecretCiphertext(ct)]));
  });

  it("refuses to encode malformed messages (usage error)", () => {
    assert.throws(() => encodeSecretGroupMessage({ type: "mls", mlsMessage: pattern(40) }), isInvalidArgument);
    assert.throws(() => encodeSecretGroupMessage({ type: "mls", mlsMessage: new Uint8Array(0) }), isInvalidArgument);
    assert.throws(() => encodeSecretGroupMessage({ type: "mls", mlsMessage: "x" as never }), isInvalidArgument);
    assert.throws(() => encodeSecretGroupMessage({ type: "other" } as never), isInvalidArgument);
    assert.throws(() => encodeSecretGroupMessage(null as never), isInvalidArgument);
    assert.throws(
      () => encodeSecretGroupMessage({ type: "long-term", ciphertext: { groupId: pattern(1), epoch: asLongTermEpoch(0), nonce: pattern(12), ciphertext: pattern(3) } }),
      isInvalidArgument,
    );
  });
});

describe("SecretGroupCommit codec", () => {
  decoderProperties({ name: "SecretGroupCommit", arb: arbCommit, encode: encodeSecretGroupCommit, decode: decodeSecretGroupCommit, runs: 200 });

  const encryptedSecrets = encodeSecretGroupMessage({ type: "mls", mlsMessage: mls });
  const raw = (version: number, commit: Uint8Array, welcomeFlag: number, welcome: Uint8Array | undefined, secrets: Uint8Array): Uint8Array => {
    const w = new Writer().u8(version).opaque(commit).u8(welcomeFlag);
    if (welcome) w.opaque(welcome);
    return w.opaque(secrets).finish();
  };

  it("decodes with and without a welcome; omits mlsWelcome when absent", () => {
    const a = decodeSecretGroupCommit(raw(1, pattern(5), 0, undefined, encryptedSecrets));
    assert.deepEqual(a, { mlsCommit: pattern(5), encryptedSecrets });
    assert.ok(!("mlsWelcome" in a));
    assert.deepEqual(decodeSecretGroupCommit(raw(1, pattern(5), 1, pattern(6), encryptedSecrets)).mlsWelcome, pattern(6));
  });

  it("rejects unknown versions, empty parts, bad optional flags and a secrets message that is not type 1", () => {
    for (const v of [0, 2, 255]) assert.throws(() => decodeSecretGroupCommit(raw(v, pattern(5), 0, undefined, encryptedSecrets)), isDecodeError);
    assert.throws(() => decodeSecretGroupCommit(raw(1, new Uint8Array(0), 0, undefined, encryptedSecrets)), isDecodeError);
    assert.throws(() => decodeSecretGroupCommit(raw(1, pattern(5), 1, new Uint8Array(0), encryptedSecrets)), isDecodeError);
    assert.throws(() => decodeSecretGroupCommit(raw(1, pattern(5), 2, pattern(6), encryptedSecrets)), isDecodeError);
    assert.throws(() => decodeSecretGroupCommit(raw(1, pattern(5), 0, undefined, new Uint8Array(0))), isDecodeError);
    assert.throws(() => decodeSecretGroupCommit(raw(1, pattern(5), 0, undefined, mls)), isDecodeError);
    const lt = encodeSecretGroupMessage({
      type: "long-term",
      ciphertext: { groupId: pattern(32), epoch: asLongTermEpoch(0), nonce: pattern(12), ciphertext: pattern(16) },
    });
    assert.throws(() => decodeSecretGroupCommit(raw(1, pattern(5), 0, undefined, lt)), isDecodeError);
  });

  it("refuses to encode a commit with missing or empty parts (usage error)", () => {
    assert.throws(() => encodeSecretGroupCommit({ mlsCommit: new Uint8Array(0), encryptedSecrets }), isInvalidArgument);
    assert.throws(() => encodeSecretGroupCommit({ mlsCommit: pattern(3), mlsWelcome: new Uint8Array(0), encryptedSecrets }), isInvalidArgument);
    assert.throws(() => encodeSecretGroupCommit({ mlsCommit: pattern(3), encryptedSecrets: mls }), isInvalidArgument);
    assert.throws(() => encodeSecretGroupCommit({ mlsCommit: pattern(3) } as never), isInvalidArgument);
    assert.throws(() => encodeSecretGroupCommit(undefined as never), isInvalidArgument);
  });
});
