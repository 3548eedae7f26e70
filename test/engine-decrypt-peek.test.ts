/**
 * The engine's header peek (src/engine/decrypt.ts peekHeader) against the codec it shortcuts:
 * on valid, truncated, extended, bit-flipped and random input it must accept and refuse exactly
 * what decodeSecretGroupMessage does, with the same DecodeError messages, return the same header
 * and ciphertext fields, and copy nothing. The decrypt items (decryptItem, whose shortcut reads a
 * long-term message of the usual shape without the decoder) must say the same as the peek.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Writer } from "../src/codec/tls.js";
import { DecodeError } from "../src/errors.js";
import { decodeSecretGroupMessage, encodeSecretGroupMessage } from "../src/message.js";
import type { SecretGroupMessage } from "../src/message.js";
import { peekMessage } from "../src/group/index.js";
import { decryptItem, longTermCiphertextOf, peekAll, peekHeader } from "../src/engine/decrypt.js";
import { arbCiphertext, arbMlsMessage, pattern } from "./vectors/helpers.js";

type Outcome = { ok: true; value: unknown } | { ok: false; error: string };

function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected a DecodeError, got ${String(e)}`);
    return { ok: false, error: e.message };
  }
}

/** What the full decoder says about `bytes`, in the peek's shape. */
function reference(bytes: Uint8Array): Outcome {
  return outcome(() => {
    const decoded = decodeSecretGroupMessage(bytes);
    const peek = peekMessage(bytes);
    return decoded.type === "long-term"
      ? { scheme: peek.scheme, groupId: peek.groupId, epoch: peek.epoch, ciphertext: { ...decoded.ciphertext } }
      : { scheme: peek.scheme, groupId: peek.groupId, epoch: peek.epoch };
  });
}

/** The peek, copied into plain arrays so deepEqual compares contents. */
function peeked(bytes: Uint8Array): Outcome {
  return outcome(() => {
    const h = peekHeader(bytes);
    const base = { scheme: h.scheme, groupId: Uint8Array.from(h.groupId), epoch: h.epoch };
    if (h.scheme !== "long-term") return base;
    const c = h.ciphertext;
    return { ...base, ciphertext: { groupId: Uint8Array.from(c.groupId), epoch: c.epoch, nonce: Uint8Array.from(c.nonce), ciphertext: Uint8Array.from(c.ciphertext) } };
  });
}

const arbMessage: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    arbMlsMessage.map((mlsMessage): SecretGroupMessage => ({ type: "mls", mlsMessage })),
    arbCiphertext.map((ciphertext): SecretGroupMessage => ({ type: "long-term", ciphertext })),
  )
  .map(encodeSecretGroupMessage);

/** A valid message, then damaged in one of several ways (or left alone). */
const arbInput: fc.Arbitrary<Uint8Array> = fc.oneof(
  arbMessage,
  fc.tuple(arbMessage, fc.nat()).map(([m, k]) => m.subarray(0, k % (m.length + 1))),
  fc.tuple(arbMessage, fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([m, extra]) => Uint8Array.from([...m, ...extra])),
  fc.tuple(arbMessage, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([m, k, x]) => {
    const b = Uint8Array.from(m);
    if (b.length > 0) b[k % b.length] = (b[k % b.length] as number) ^ x;
    return b;
  }),
  fc.uint8Array({ maxLength: 120 }),
  fc.uint8Array({ maxLength: 120 }).map((b) => Uint8Array.from([2, ...b])),
);

/** The item decryptItem makes, as the peek's shape (its positions turned back into copies). */
function itemPeeked(bytes: Uint8Array): Outcome {
  return outcome(() => {
    const item = decryptItem(bytes, undefined);
    const base = { scheme: item.scheme, epoch: item.epoch };
    if (item.scheme !== "long-term") return { ...base, positions: [item.groupAt, item.groupLength, item.nonceAt, item.ctAt] };
    const c = longTermCiphertextOf(item);
    for (const part of [c.groupId, c.nonce, c.ciphertext]) assert.equal(part.buffer, bytes.buffer, "views, not copies");
    return { ...base, ciphertext: { groupId: Uint8Array.from(c.groupId), epoch: c.epoch, nonce: Uint8Array.from(c.nonce), ciphertext: Uint8Array.from(c.ciphertext) } };
  });
}

/** What the peek says, in itemPeeked's shape. */
function headerPeeked(bytes: Uint8Array): Outcome {
  const o = peeked(bytes);
  if (!o.ok) return o;
  const { scheme, epoch, ciphertext } = o.value as { scheme: string; epoch: bigint; ciphertext?: unknown };
  return { ok: true, value: ciphertext === undefined ? { scheme, epoch, positions: [-1, 0, -1, -1] } : { scheme, epoch, ciphertext } };
}

/** A long-term message with a hand-made ciphertext length field (`lengthBytes` replaces the minimal varint). */
function withLengthField(ciphertextLength: number, lengthBytes: number[]): Uint8Array {
  const head = new Writer().u8(2).opaque(pattern(32)).u64(5n).opaque(pattern(12)).finish();
  return Uint8Array.from([...head, ...lengthBytes, ...pattern(ciphertextLength)]);
}

describe("engine header peek", () => {
  it("decryptItem (shortcut or not) accepts, refuses and reads exactly what the peek does", () => {
    fc.assert(
      fc.property(arbInput, (bytes) => {
        assert.deepEqual(itemPeeked(bytes), headerPeeked(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it("decryptItem's shortcut: every length form, non-minimal and over-long lengths, epochs that change", () => {
    const cases = [
      withLengthField(20, [20]),
      withLengthField(100, [0x40, 100]),
      withLengthField(20_000, [0x80, 0x00, 0x4e, 0x20]),
      withLengthField(20, [0x40, 20]), // non-minimal 2-byte form
      withLengthField(100, [0x80, 0, 0, 100]), // non-minimal 4-byte form
      withLengthField(20, [0xc0, 0, 0, 0, 0, 0, 0, 20]), // the 8-byte form
      withLengthField(15, [15]), // shorter than the tag
      withLengthField(20, [21]).subarray(0, 60), // truncated
      Uint8Array.from([...withLengthField(20, [20]), 0]), // trailing byte
    ];
    for (const m of cases) assert.deepEqual(itemPeeked(m), headerPeeked(m));
    assert.deepEqual(
      cases.slice(0, 3).map((m) => decryptItem(m, undefined).ctAt),
      [56, 57, 59],
    );
    // the shortcut keeps the last epoch it read: a different one must not reuse it
    const at = (epoch: bigint) => encodeSecretGroupMessage({ type: "long-term", ciphertext: { groupId: pattern(32), epoch: epoch as never, nonce: pattern(12), ciphertext: pattern(20) } });
    const epochs = [0n, 0n, 1n, 2n ** 32n, 2n ** 32n + 1n, 2n ** 64n - 1n, 1n];
    assert.deepEqual(epochs.map((e) => decryptItem(at(e), undefined).epoch), epochs);
  });


  it("accepts and refuses exactly what decodeSecretGroupMessage does, with the same errors", () => {
    fc.assert(
      fc.property(arbInput, (bytes) => {
        assert.deepEqual(peeked(bytes), reference(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it("every truncation of a long-term and an MLS message gives the decoder's error", () => {
    const lt = encodeSecretGroupMessage({ type: "long-term", ciphertext: { groupId: pattern(32), epoch: 7n as never, nonce: pattern(12), ciphertext: pattern(40) } });
    const [mls] = fc.sample(arbMlsMessage, { seed: 7, numRuns: 1 });
    const sr = encodeSecretGroupMessage({ type: "mls", mlsMessage: mls as Uint8Array });
    for (const m of [lt, sr]) {
      for (let k = 0; k <= m.length; k++) assert.deepEqual(peeked(m.subarray(0, k)), reference(m.subarray(0, k)), `cut at ${k}`);
    }
  });

  it("refuses over-long lengths with the decoder's message (group id, nonce, ciphertext)", () => {
    const overlong = [
      new Writer().u8(2).opaque(new Uint8Array(257)).u64(0n).opaque(pattern(12)).opaque(pattern(16)).finish(),
      new Writer().u8(2).opaque(pattern(32)).u64(0n).opaque(pattern(13)).opaque(pattern(16)).finish(),
      new Writer().u8(2).opaque(pattern(32)).u64(0n).opaque(pattern(11)).opaque(pattern(16)).finish(),
      new Writer().u8(2).opaque(pattern(32)).u64(0n).opaque(pattern(12)).opaque(pattern(15)).finish(),
    ];
    for (const m of overlong) {
      const r = reference(m);
      assert.equal(r.ok, false);
      assert.deepEqual(peeked(m), r);
    }
  });

  it("returns views into the message: nothing is copied", () => {
    const m = encodeSecretGroupMessage({ type: "long-term", ciphertext: { groupId: pattern(32), epoch: 3n as never, nonce: pattern(12), ciphertext: pattern(1024) } });
    const h = peekHeader(m);
    assert.equal(h.scheme, "long-term");
    if (h.scheme !== "long-term") return;
    for (const part of [h.groupId, h.ciphertext.nonce, h.ciphertext.ciphertext]) assert.equal(part.buffer, m.buffer);
    assert.equal(h.epoch, 3n);
  });

  it("peekAll batches by group in input order, errors in place, and refuses bad arguments", () => {
    const a = pattern(32, 1);
    const b = pattern(32, 2);
    const lt = (groupId: Uint8Array, epoch: bigint) => encodeSecretGroupMessage({ type: "long-term", ciphertext: { groupId, epoch: epoch as never, nonce: pattern(12), ciphertext: pattern(20) } });
    const shortId = lt(pattern(31), 0n);
    const aad = pattern(5);
    const { results, byGroup } = peekAll([lt(a, 0n), lt(b, 1n), new Uint8Array([9]), { message: lt(a, 2n), aad }, shortId]);
    assert.equal(byGroup.size, 2);
    const shareA = byGroup.get(Buffer.from(a).toString("hex"));
    assert.deepEqual(shareA?.indices, [0, 3]);
    assert.deepEqual(shareA?.items.map((i) => [i.scheme, i.epoch, i.aad]), [["long-term", 0n, undefined], ["long-term", 2n, aad]]);
    assert.deepEqual(byGroup.get(Buffer.from(b).toString("hex"))?.indices, [1]);
    assert.ok(results[2] instanceof DecodeError);
    assert.ok(results[4] instanceof DecodeError);
    assert.match((results[4] as Error).message, /not 32 bytes/);
    assert.throws(() => peekAll("x" as never), /must be an array/);
    assert.throws(() => peekAll([lt(a, 0n), "x" as never]), /message 1 must be a Uint8Array/);
    assert.throws(() => peekAll([{ message: lt(a, 0n), aad: "x" as never }]), /message 0/);
  });
});
