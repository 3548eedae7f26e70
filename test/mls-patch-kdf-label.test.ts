/**
 * Our ts-mls patch writes ExpandWithLabel's KDFLabel in one buffer, each label's encoding made
 * once (patches/ts-mls+1.6.4.patch, crypto/kdf.js). These tests capture the `info` that reaches
 * the KDF and compare it with the label as RFC 9420 section 8 defines it, built here with
 * ts-mls's generic encoders (1.6.4's own code), for any label, context and length: short and
 * long labels and contexts (one-, two- and four-byte varints), more distinct labels than the
 * patch keeps, and DeriveTreeSecret's uint32 generation. The MLS vectors (key schedule, secret
 * tree, passive clients) check the outputs end to end.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Kdf } from "ts-mls/crypto/kdf.js";
import { deriveSecret, deriveTreeSecret, expandWithLabel } from "ts-mls/crypto/kdf.js";
import { composeBufferEncoders, encode } from "ts-mls/codec/tlsEncoder.js";
import { uint16Encoder, uint32Encoder } from "ts-mls/codec/number.js";
import { varLenDataEncoder } from "ts-mls/codec/variableLength.js";

/** A KDF whose expand returns the info it was given (with the length asked, to check both). */
const recording: Kdf = {
  extract: async () => new Uint8Array(32),
  expand: async (_prk, info, len) => Uint8Array.from([...info, len >> 8, len & 0xff]),
  size: 32,
};

/** KDFLabel { uint16 length; opaque label<V> = "MLS 1.0 " + Label; opaque context<V> }, then the length asked. */
function reference(label: string, context: Uint8Array, length: number): Uint8Array {
  const info = encode(composeBufferEncoders([uint16Encoder, varLenDataEncoder, varLenDataEncoder]))([length, new TextEncoder().encode(`MLS 1.0 ${label}`), context]);
  return Uint8Array.from([...info, length >> 8, length & 0xff]);
}

const secret = new Uint8Array(32).fill(7);

test("KDFLabel: the bytes of RFC 9420's struct for any label, context and length", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.constantFrom("key", "nonce", "secret", "sender data key", "welcome", "exporter"), fc.string({ maxLength: 80 }), fc.string({ minLength: 60, maxLength: 70 })),
      fc.oneof(fc.uint8Array({ maxLength: 70 }), fc.uint8Array({ minLength: 16_380, maxLength: 16_400 })),
      fc.integer({ min: 0, max: 0xffff }),
      async (label, context, length) => {
        assert.deepEqual(await expandWithLabel(secret, label, context, length, recording), reference(label, context, length));
      },
    ),
    { numRuns: 300 },
  );
});

test("KDFLabel: more distinct labels than the patch keeps, each encoded right, twice over", async () => {
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 200; i++) {
      const label = `label ${i} ${"x".repeat(i % 70)}`;
      assert.deepEqual(await expandWithLabel(secret, label, Uint8Array.of(i & 0xff), 32, recording), reference(label, Uint8Array.of(i & 0xff), 32));
    }
  }
});

test("DeriveSecret and DeriveTreeSecret: empty context, uint32 generation big-endian", async () => {
  assert.deepEqual(await deriveSecret(secret, "init", recording), reference("init", new Uint8Array(), 32));
  for (const generation of [0, 1, 255, 256, 65_535, 0x01020304, 0xffffffff]) {
    const context = encode(uint32Encoder)(generation);
    assert.deepEqual(await deriveTreeSecret(secret, "nonce", generation, 12, recording), reference("nonce", context, 12));
  }
});
