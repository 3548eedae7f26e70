import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Reader, Writer, decodeAll, MAX_VARINT } from "../src/codec/tls.js";
import {
  DecodeError,
  ErrorCode,
  SecretGroupError,
  ValidationError,
  CryptoError,
  UsageError,
  InternalError,
  StorageError,
  errorFromData,
  toErrorData,
} from "../src/errors.js";
import { equalBytes, fromHex, toHex, toId32 } from "../src/bytes.js";
import { assertIdentity } from "../src/identity.js";

const hex = (b: Uint8Array) => toHex(b);

test("varint uses the minimal RFC 9000 form at every boundary", () => {
  const cases: [number, string][] = [
    [0, "00"],
    [63, "3f"],
    [64, "4040"],
    [16383, "7fff"],
    [16384, "80004000"],
    [MAX_VARINT, "bfffffff"],
  ];
  for (const [value, expected] of cases) {
    const bytes = new Writer().varint(value).finish();
    assert.equal(hex(bytes), expected);
    assert.equal(decodeAll(bytes, "v", (r) => r.varint()), value);
  }
  assert.throws(() => new Writer().varint(MAX_VARINT + 1), RangeError);
});

test("varint decoder refuses non-minimal and 8-byte forms", () => {
  for (const h of ["4001", "80000001", "80003fff", "c000000000000001"]) {
    assert.throws(() => decodeAll(fromHex(h), "v", (r) => r.varint()), DecodeError, h);
  }
});

test("opaque, u64, optional round-trip and reject truncation and trailing bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.option(fc.uint8Array()), (data, n, opt) => {
      const bytes = new Writer().opaque(data).u64(n).optional(opt ?? undefined, (w, v) => w.opaque(v)).finish();
      const read = (r: Reader) => ({ data: r.opaque(), n: r.u64(), opt: r.optional((x) => x.opaque()) });
      const back = decodeAll(bytes, "t", read);
      assert.deepEqual(back.data, data);
      assert.equal(back.n, n);
      assert.deepEqual(back.opt, opt ?? undefined);
      for (let cut = 0; cut < bytes.length; cut++) {
        assert.throws(() => decodeAll(bytes.subarray(0, cut), "t", read), DecodeError);
      }
      const extended = new Uint8Array(bytes.length + 1);
      extended.set(bytes);
      assert.throws(() => decodeAll(extended, "t", read), DecodeError);
    }),
    { numRuns: 100 },
  );
});

test("vector writes its items in place behind a minimal length, at every boundary; opaqueUtf8 as opaque(utf8)", () => {
  // the reference: each item's bytes written alone, then opaque() over them (an inner writer)
  const reference = (items: Uint8Array[]): Uint8Array => {
    const inner = new Writer(4);
    for (const item of items) inner.opaque(item);
    return new Writer().u8(7).opaque(inner.finish()).u32(0xdeadbeef).finish();
  };
  const sizes = [0, 1, 61, 62, 63, 64, 65, 100, 16_379, 16_380, 16_381, 16_382, 16_383, 16_384, 20_000];
  for (const size of sizes) {
    const items = [new Uint8Array(size).fill(3)];
    const bytes = new Writer(4).u8(7).vector(items, (w, item) => w.opaque(item)).u32(0xdeadbeef).finish();
    assert.deepEqual(bytes, reference(items), `one item of ${size} bytes`);
  }
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 12 }), fc.string({ unit: "binary", maxLength: 40 }), (items, text) => {
      const nested = new Writer(1).u8(7).vector([items], (w, list) => w.vector(list, (x, item) => x.opaque(item))).u32(0xdeadbeef).finish();
      const inner = new Writer(4);
      for (const item of items) inner.opaque(item);
      assert.deepEqual(nested, reference([inner.finish()]));
      assert.deepEqual(new Writer(2).opaqueUtf8(text).u8(1).finish(), new Writer().opaque(new TextEncoder().encode(text)).u8(1).finish());
      const back = decodeAll(nested, "t", (r) => (r.u8(), { lists: r.vector((x) => x.vector((y) => y.opaque())), tail: r.u32() }));
      assert.deepEqual(back.lists, [items]);
      assert.equal(back.tail, 0xdeadbeef);
    }),
    { numRuns: 200 },
  );
});

test("writers share the lent build buffer safely: nested, after finish, past its size, and wiped when given back", () => {
  const bufOf = (w: Writer): Uint8Array => (w as unknown as { buf: Uint8Array }).buf;
  const secret = new Uint8Array(300).fill(0xab);
  // the buffer is given back wiped: the next writer that borrows it finds zeros
  const first = new Writer();
  first.opaque(secret);
  assert.deepEqual(first.finish().subarray(2), secret);
  const next = new Writer();
  assert.ok(bufOf(next).length >= 16 * 1024 && bufOf(next).every((b) => b === 0), "lent again, wiped");
  // a writer made while the buffer is out uses its own memory; both encode right
  const inner = new Writer().u8(1).opaque(new Uint8Array(100).fill(2));
  assert.notEqual(bufOf(inner), bufOf(next));
  const innerBytes = inner.finish();
  const outer = next.u8(9).opaque(innerBytes).finish();
  assert.deepEqual(outer, Uint8Array.from([9, 0x40, 103, 1, 0x40, 100, ...new Uint8Array(100).fill(2)]));
  // writes after finish do not touch the bytes handed out; a second finish gives the same bytes
  const w = new Writer().u32(7);
  const once = w.finish();
  assert.deepEqual(w.finish(), once);
  w.u8(5);
  assert.deepEqual(once, Uint8Array.of(0, 0, 0, 7));
  assert.deepEqual(w.finish(), Uint8Array.of(0, 0, 0, 7, 5));
  // growing past the lent buffer gives it back (wiped) and keeps every byte
  const big = new Writer();
  const lent = bufOf(big);
  big.raw(new Uint8Array(10_000).fill(3)).raw(new Uint8Array(10_000).fill(4));
  assert.notEqual(bufOf(big), lent);
  assert.ok(lent.every((b) => b === 0), "the lent buffer, given back at the growth, is wiped");
  assert.equal(bufOf(new Writer()), lent, "and lent to the next writer");
  const bytes = big.finish();
  assert.equal(bytes.length, 20_000);
  assert.ok(bytes.subarray(0, 10_000).every((b) => b === 3) && bytes.subarray(10_000).every((b) => b === 4));
  assert.deepEqual(new Writer(0).u8(1).finish(), Uint8Array.of(1), "a writer of capacity 0 grows");
});

test("a writer left holding the lent buffer (its encoder threw, or kept for later) moves to its own memory once the running code ends", async () => {
  const bufOf = (w: Writer): Uint8Array => (w as unknown as { buf: Uint8Array }).buf;
  await Promise.resolve(); // whatever ran before has given the buffer back
  const kept = new Writer().opaque(new Uint8Array(40).fill(7));
  const lent = bufOf(kept);
  assert.throws(() => new Writer().varint(-1), RangeError); // made while lent: its own memory
  assert.notEqual(bufOf(new Writer()), lent);
  await Promise.resolve();
  assert.notEqual(bufOf(kept), lent, "moved off the lent buffer");
  assert.ok(lent.every((b) => b === 0), "which is wiped");
  assert.equal(bufOf(new Writer()), lent, "and lent again");
  await Promise.resolve();
  assert.deepEqual(kept.u8(1).finish(), Uint8Array.from([40, ...new Uint8Array(40).fill(7), 1]), "the kept writer's bytes are intact");
});

test("u32 and u64 are big-endian at any offset", () => {
  fc.assert(
    fc.property(fc.nat({ max: 9 }), fc.nat({ max: 0xffffffff }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (pad, a, b) => {
      const bytes = new Writer(1).raw(new Uint8Array(pad)).u32(a).u64(b).finish();
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      assert.equal(view.getUint32(pad), a);
      assert.equal(view.getBigUint64(pad + 4), b);
    }),
    { numRuns: 300 },
  );
});

test("opaque enforces its length limit and optional its flag", () => {
  const bytes = new Writer().opaque(new Uint8Array(10)).finish();
  assert.throws(() => decodeAll(bytes, "t", (r) => r.opaque(9)), DecodeError);
  assert.throws(() => decodeAll(fromHex("02"), "t", (r) => r.optional((x) => x.u8())), DecodeError);
});

test("decodeAll turns foreign exceptions into DecodeError", () => {
  assert.throws(
    () =>
      decodeAll(new Uint8Array([1]), "t", () => {
        throw new TypeError("boom");
      }),
    (e: unknown) => e instanceof DecodeError && e.code === ErrorCode.Decode && /boom/.test(e.message),
  );
  assert.throws(() => decodeAll("nope" as unknown as Uint8Array, "t", (r) => r.u8()), DecodeError);
});

test("errors keep their code and class across a plain-data boundary", () => {
  const samples: SecretGroupError[] = [
    new DecodeError("short"),
    new ValidationError(ErrorCode.Replay, "again"),
    new CryptoError(ErrorCode.DecryptionFailed, "tag"),
    new UsageError(ErrorCode.NotOwner, "owner only"),
    new InternalError(ErrorCode.WorkerFailed, "crashed"),
  ];
  for (const err of samples) {
    const data = structuredClone(toErrorData(err));
    const back = errorFromData(data);
    assert.equal(back.constructor, err.constructor);
    assert.equal(back.code, err.code);
    assert.equal(back.source, err.source);
    assert.equal(back.message, err.message);
  }
  const unknown = errorFromData({ code: "NO_SUCH_CODE", message: 5 });
  assert.equal(unknown.code, ErrorCode.Internal);
  assert.equal(toErrorData(new Error("x")).code, ErrorCode.Internal);
});

test("byte helpers", () => {
  assert.equal(toHex(fromHex("00ff10")), "00ff10");
  assert.throws(() => fromHex("0g"), UsageError);
  assert.throws(() => fromHex("abc"), UsageError);
  assert.ok(equalBytes(fromHex("0102"), fromHex("0102")));
  assert.ok(!equalBytes(fromHex("0102"), fromHex("0103")));
  assert.ok(!equalBytes(fromHex("01"), fromHex("0102")));
  assert.equal(toId32("ab".repeat(32), "id").length, 32);
  assert.throws(() => toId32("ab", "id"), UsageError);
});

test("equalBytes agrees with Buffer.equals at every length around 64, for equal arrays and any one changed bit; toHex as Buffer's", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 100 }), fc.nat(), fc.nat({ max: 7 }), fc.boolean(), (n, at, bit, change) => {
      const a = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff);
      const b = a.slice();
      if (change && n > 0) b[at % n]! ^= 1 << bit;
      assert.equal(equalBytes(a, b), Buffer.from(a).equals(Buffer.from(b)));
      if (n > 0) assert.equal(equalBytes(a, b.subarray(0, n - 1)), false);
      assert.equal(toHex(a), Buffer.from(a).toString("hex"));
    }),
    { numRuns: 500 },
  );
});

test("bool is strict, and decodeAll lets our typed errors through unchanged", () => {
  assert.equal(decodeAll(fromHex("01"), "b", (r) => r.bool()), true);
  assert.equal(toHex(new Writer().bool(false).bool(true).finish()), "0001");
  assert.throws(() => decodeAll(fromHex("02"), "b", (r) => r.bool()), DecodeError);
  const typed = new StorageError(ErrorCode.StorageVersion, "v9");
  assert.throws(
    () =>
      decodeAll(fromHex("00"), "b", () => {
        throw typed;
      }),
    (e: unknown) => e === typed,
  );
});

test("assertIdentity accepts a key pair and refuses a public key of another seed, over random seeds (noble as the oracle)", async () => {
  const { ed25519 } = await import("@noble/curves/ed25519.js");
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed, other) => {
      const publicKey = ed25519.getPublicKey(seed);
      assertIdentity({ publicKey, secretKey: seed });
      // a fresh copy of the same seed (as a worker receives it) is checked again, not remembered
      if (!equalBytes(seed, other)) {
        assert.throws(() => assertIdentity({ publicKey: ed25519.getPublicKey(other), secretKey: Uint8Array.from(seed) }), (e: unknown) => (e as UsageError).code === ErrorCode.InvalidArgument);
      }
    }),
    { numRuns: 200 },
  );
});
