/**
 * The canonical-form check reads the bytes (src/documents/cborCanonical.ts) instead of encoding
 * the decoded value again. The re-encoding stays here as the oracle: on random CBOR, canonical
 * and not (heads longer than needed, every float width, keys in any order and repeated, text
 * that is not UTF-8 or starts with a byte order mark, `__proto__` keys, tags, indefinite
 * lengths, integers at the edges of the safe range), decodeCanonical accepts exactly what the
 * oracle accepts, and refuses only with DecodeError. A string starting with U+FEFF round-trips
 * (our cborg patch: its decoder dropped it as a byte order mark).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decode, encode, rfc8949EncodeOptions } from "cborg";
import fc from "fast-check";
import { fromHex } from "../src/bytes.js";
import { DECODE_OPTIONS, decodeCanonical, encodeCanonical } from "../src/documents/cbor.js";
import { decodeDocument, signDocument } from "../src/documents/document.js";
import { decodeFieldPlaintext, encodeFieldPlaintext } from "../src/documents/fields.js";
import { generateIdentity } from "../src/identity.js";
import { assertCanonicalCbor } from "../src/documents/cborCanonical.js";
import { DecodeError } from "../src/errors.js";


/**
 * The check as it was: a strict decode, then the value encoded again must give the same bytes
 * (a value that cannot be encoded again was refused too: `{"__proto__": h''}` decodes to an
 * object whose prototype is a Uint8Array).
 */
function oracleAccepts(bytes: Uint8Array): boolean {
  try {
    return Buffer.from(encode(decode(bytes, DECODE_OPTIONS), rfc8949EncodeOptions)).equals(bytes);
  } catch {
    return false;
  }
}

function weAccept(bytes: Uint8Array): boolean {
  try {
    decodeCanonical(bytes);
    return true;
  } catch (e) {
    if (e instanceof DecodeError) return false;
    throw e;
  }
}

const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** A head: `width` 0 is the shortest form, 1/2/4/8 force that many argument bytes (possibly longer than needed). */
function encodeHead(major: number, value: bigint, width: number): Uint8Array {
  const shortest = value < 24n ? 0 : value < 0x100n ? 1 : value < 0x10000n ? 2 : value < 0x1_0000_0000n ? 4 : 8;
  const w = Math.max(width, shortest);
  if (w === 0) return Uint8Array.of((major << 5) | Number(value));
  const out = new Uint8Array(1 + w);
  out[0] = (major << 5) | { 1: 24, 2: 25, 4: 26, 8: 27 }[w]!;
  for (let i = 0; i < w; i++) out[w - i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

const width = fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 2, 4, 8) });
const edgeInt = fc.oneof(
  fc.bigInt({ min: 0n, max: 30n }),
  fc.constantFrom(23n, 24n, 255n, 256n, 65535n, 65536n, 0xffff_ffffn, 0x1_0000_0000n, 2n ** 53n - 2n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);
const BOM = Uint8Array.of(0xef, 0xbb, 0xbf);
const PROTO_KEY = cat(Uint8Array.of(0x69), new Uint8Array(Buffer.from("__proto__")));
const textBytes = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }).map((s) => new Uint8Array(Buffer.from(s, "utf8"))) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }).map((s) => new Uint8Array(Buffer.from(s, "utf8"))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }).map((s) => cat(BOM, new Uint8Array(Buffer.from(s, "utf8")))) },
  { weight: 1, arbitrary: fc.constantFrom("__proto__", "constructor", "toString").map((s) => new Uint8Array(Buffer.from(s))) },
);
const text = fc.tuple(textBytes, width).map(([b, w]) => cat(encodeHead(3, BigInt(b.length), w), b));
const float = fc
  .oneof(fc.double(), fc.integer(), fc.constantFrom(-0, 0.5, 1.5, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), 1e300, 65504, 3.4e38))
  .chain((x) =>
    fc.constantFrom(2, 4, 8).map((bytes) => {
      const out = new Uint8Array(1 + bytes);
      const view = new DataView(out.buffer);
      if (bytes === 8) view.setFloat64(1, x);
      else if (bytes === 4) view.setFloat32(1, x);
      else view.setUint16(1, Math.abs(Math.round(x)) & 0xffff); // some float16 bit pattern
      out[0] = 0xf9 + [2, 4, 8].indexOf(bytes);
      return out;
    }),
  );

const { item } = fc.letrec<{ item: Uint8Array; leaf: Uint8Array; container: Uint8Array }>((tie) => ({
  item: fc.oneof({ maxDepth: 3, depthIdentifier: "cbor" }, tie("leaf"), tie("container")),
  // weighted toward valid items: one invalid leaf spoils its whole input
  leaf: fc.oneof(
    { weight: 3, arbitrary: fc.tuple(edgeInt, width).map(([v, w]) => encodeHead(0, v, w)) },
    { weight: 3, arbitrary: fc.tuple(edgeInt, width).map(([v, w]) => encodeHead(1, v, w)) },
    { weight: 2, arbitrary: fc.tuple(fc.uint8Array({ maxLength: 10 }), width).map(([b, w]) => cat(encodeHead(2, BigInt(b.length), w), b)) },
    { weight: 3, arbitrary: text },
    { weight: 2, arbitrary: float },
    { weight: 2, arbitrary: fc.constantFrom(0xf4, 0xf5, 0xf6).map((b) => Uint8Array.of(b)) },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom(0xf7, 0xf0, 0xff, 0xfc).map((b) => Uint8Array.of(b)), fc.integer({ min: 0, max: 255 }).map((v) => Uint8Array.of(0xf8, v))) },
  ),
  container: fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.array(tie("item"), { maxLength: 4 }), width, fc.nat(7).map((n) => n === 0)).map(([items, w, indefinite]) =>
      indefinite ? cat(Uint8Array.of(0x9f), ...items, Uint8Array.of(0xff)) : cat(encodeHead(4, BigInt(items.length), w), ...items),
    ) },
    { weight: 4, arbitrary: fc
      .tuple(
        fc.array(fc.tuple(fc.oneof({ weight: 8, arbitrary: text }, { weight: 1, arbitrary: fc.constant(PROTO_KEY) }, { weight: 1, arbitrary: tie("leaf") }), tie("item")), { maxLength: 5 }),
        width,
        fc.constantFrom("sorted", "sorted", "as-is", "repeat"),
      )
      .map(([entries, w, order]) => {
        if (order === "repeat" && entries.length > 0) entries.push(entries[0]!);
        if (order !== "as-is") entries.sort(([a], [b]) => Buffer.compare(a, b));
        return cat(encodeHead(5, BigInt(entries.length), w), ...entries.flat());
      }) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 30 }), tie("item")).map(([tag, inner]) => cat(encodeHead(6, BigInt(tag), 0), inner)) },
  ),
}));

/** An item as generated, or cut short, or with bytes after it. */
const input = fc.oneof(
  { weight: 8, arbitrary: item },
  { weight: 1, arbitrary: fc.tuple(item, fc.nat()).map(([b, n]) => b.subarray(0, b.length === 0 ? 0 : n % b.length)) },
  { weight: 1, arbitrary: fc.tuple(item, fc.uint8Array({ minLength: 1, maxLength: 3 })).map(([b, tail]) => cat(b, tail)) },
);

test("property: decodeCanonical accepts exactly what re-encoding accepts, on random canonical and non-canonical CBOR", () => {
  const seen = { accepted: 0, refused: 0 };
  fc.assert(
    fc.property(input, (bytes) => {
      const expected = oracleAccepts(bytes);
      assert.equal(weAccept(bytes), expected, `input ${Buffer.from(bytes).toString("hex")}: the oracle ${expected ? "accepts" : "refuses"} it`);
      seen[expected ? "accepted" : "refused"]++;
    }),
    { numRuns: 10000, seed: 20261204 },
  );
  // both verdicts exercised in earnest, or the property could pass by refusing everything
  assert.ok(seen.accepted > 2000 && seen.refused > 2000, JSON.stringify(seen));
});

test("property: every value encodeCanonical gives is accepted, as by the oracle", () => {
  const value = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { maxDepth: 3, depthIdentifier: "value" },
      fc.oneof(fc.string({ unit: "binary" }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.maxSafeInteger(), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 20 })),
      fc.array(tie("v"), { maxLength: 4 }),
      // keys of whole code points: two lone surrogates would both encode to U+FFFD, one key twice
      fc.dictionary(fc.string({ unit: "grapheme" }).filter((k) => k !== "__proto__"), tie("v"), { maxKeys: 5 }),
    ),
  })).v;
  fc.assert(
    fc.property(value, (v) => {
      const bytes = encodeCanonical(v);
      // a string holding a lone surrogate encodes to U+FFFD, which decodes to another value: still canonical bytes
      assert.equal(oracleAccepts(bytes), true);
      assert.equal(weAccept(bytes), true);
    }),
    { numRuns: 2000, seed: 4122026 },
  );
});

test("property: the walk alone refuses arbitrary bytes only with DecodeError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        assertCanonicalCbor(bytes);
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e));
      }
    }),
    { numRuns: 5000, seed: 7 },
  );
});

test("the walk's rules one by one: each refused input differs from a canonical one by that rule alone", () => {
  const accepted = ["a2616102616201", "18ff", "190100", "1a00010000", "1b0000000100000000", "fb3ff8000000000000", "fb4340000000000000", "1b001fffffffffffff", "3b001ffffffffffffe", "63e282ac", "63efbbbf", "a0", "80", "f6"];
  for (const hex of accepted) assert.doesNotThrow(() => assertCanonicalCbor(fromHex(hex)), hex);
  const refused: [string, RegExp][] = [
    ["a2616201616102", /out of order/], // {b: 1, a: 2}
    ["a2616101616102", /out of order or repeated/], // {a: 1, a: 2}
    ["a1695f5f70726f746f5f5f01", /__proto__/],
    ["a10101", /not text/], // {1: 1}
    ["1817", /longer than needed/], // 23 in two bytes
    ["1900ff", /longer than needed/], // 255 in 16 bits
    ["1a0000ffff", /longer than needed/], // 65535 in 32 bits
    ["1b00000000ffffffff", /longer than needed/], // 2^32 - 1 in 64 bits
    ["1b0020000000000000", /safe range/], // 2^53
    ["3b001fffffffffffff", /safe range/], // -2^53
    ["f93e00", /float other than/], // float16 1.5
    ["fa3fc00000", /float other than/], // float32 1.5
    ["fb3ff0000000000000", /integer value/], // 1.0
    ["fb8000000000000000", /integer value/], // -0
    ["fb7ff0000000000000", /NaN or an infinity/],
    ["f7", /simple value/], // undefined
    ["c101", /a tag/],
    ["9f01ff", /indefinite/],
    ["1c", /reserved/],
    ["62c328", /not UTF-8/],
    ["63eda080", /not UTF-8/], // a surrogate, U+D800
    ["820102ff", /bytes after/],
    ["830102", /truncated/],
    ["5a00010000", /truncated/],
  ];
  for (const [hex, why] of refused) assert.throws(() => assertCanonicalCbor(fromHex(hex)), (e: unknown) => e instanceof DecodeError && why.test(e.message), hex);
  // nesting past the stack is malformed, not a crash
  assert.throws(() => assertCanonicalCbor(cat(new Uint8Array(200_000).fill(0x81), Uint8Array.of(0))), DecodeError);
});

test("a string starting with U+FEFF survives decoding, in a document and in an encrypted field's plaintext (the cborg patch)", () => {
  for (const value of ["\uFEFF", "\uFEFFhello, from a file saved with a byte order mark", "\uFEFF\uFEFF", "a\uFEFF"]) {
    const bytes = encodeCanonical({ body: value });
    assert.deepEqual(decodeCanonical(bytes), { body: value }, JSON.stringify(value));
    assert.equal(oracleAccepts(bytes), true);
    const identity = generateIdentity();
    const doc = signDocument(identity, "chat_v1", { body: value });
    assert.equal(decodeDocument(doc.bytes).fields["body"], value);
    assert.equal(decodeFieldPlaintext(encodeFieldPlaintext(value)), value);
  }
  // the decoder itself, as patched: U+FEFF at the start is a character
  assert.equal(decode(fromHex("63efbbbf"), DECODE_OPTIONS), "\uFEFF");
});
