/**
 * Index record codecs (round trips; truncation, extension and garbage give only DecodeError, a wrong version byte STORAGE_VERSION;
 * every stored value starts with the storage version) and the keyless membership replay rules.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { toHex } from "../src/bytes.js";
import { STORAGE_VERSION } from "../src/constants.js";
import { DecodeError, ErrorCode, StorageError } from "../src/errors.js";
import {
  addedMembers,
  applyMembershipChange,
  commitKindOf,
  decodeEventRecord,
  decodeGroupIndexRecord,
  decodeGroupIndexValue,
  decodeHistoryRecord,
  decodeLeafChunk,
  decodeKeyPackageIndexRecord,
  decodePendingRecord,
  decodeSeqRecord,
  encodeEventRecord,
  encodeGroupIndexHead,
  encodeGroupIndexRecord,
  encodeHistoryRecord,
  encodeLeafChunk,
  encodeKeyPackageIndexRecord,
  encodePendingRecord,
  encodeSeqRecord,
} from "../src/materialise/index.js";
import type { Member, MembershipChange } from "../src/materialise/index.js";

const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });
const ref = fc.uint8Array({ minLength: 1, maxLength: 64 });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const member: fc.Arbitrary<Member> = fc
  .record({ publicKey: fc.option(bytes(32), { nil: undefined }), ref: fc.option(ref, { nil: undefined }) })
  .filter((m) => m.publicKey !== undefined || m.ref !== undefined)
  .map((m) => ({ ...(m.publicKey === undefined ? {} : { publicKey: m.publicKey }), ...(m.ref === undefined ? {} : { ref: m.ref }) }));
const leafMember = fc.record({ leaf: fc.integer({ min: 0, max: 1 << 19 }), member });
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
const clean = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

interface Codec {
  readonly name: string;
  readonly arb: fc.Arbitrary<unknown>;
  readonly encode: (v: never) => Uint8Array;
  readonly decode: (b: Uint8Array) => unknown;
}
const codecs: Codec[] = [
  {
    name: "group index",
    arb: fc.record({ owner: opt(bytes(32)), head: opt(bytes(32)), nextEpoch: u64, count: u64, leaves: fc.array(opt(member), { maxLength: 6 }) }).map(clean),
    encode: encodeGroupIndexRecord,
    decode: decodeGroupIndexRecord,
  },
  {
    name: "group index head (format 4)",
    arb: fc.record({ owner: opt(bytes(32)), head: opt(bytes(32)), nextEpoch: u64, count: u64, leafCount: fc.integer({ min: 0, max: 1 << 20 }) }).map(clean),
    encode: encodeGroupIndexHead,
    decode: (b) => {
      const value = decodeGroupIndexValue(b);
      if (!("split" in value)) throw new DecodeError("not a split head");
      return value.split;
    },
  },
  {
    name: "leaf chunk",
    arb: fc.array(opt(member), { maxLength: 64 }),
    encode: encodeLeafChunk,
    decode: decodeLeafChunk,
  },
  {
    name: "history",
    arb: fc
      .record({
        commitId: bytes(32),
        previousCommit: opt(bytes(32)),
        epoch: u64,
        kind: fc.constantFrom("add", "remove", "update"),
        welcome: fc.boolean(),
        added: fc.array(leafMember, { maxLength: 4 }),
        removed: fc.array(leafMember, { maxLength: 4 }),
      })
      .map(clean),
    encode: encodeHistoryRecord,
    decode: decodeHistoryRecord,
  },
  { name: "seq", arb: u64, encode: encodeSeqRecord, decode: decodeSeqRecord },
  {
    name: "pending",
    arb: fc
      .record({
        author: bytes(32),
        previousCommit: opt(bytes(32)),
        mlsEpoch: u64,
        welcome: fc.boolean(),
        senderLeaf: fc.integer({ min: -1, max: 1000 }),
        refs: fc.array(ref, { maxLength: 3 }),
        addedPublicKeys: fc.array(bytes(32), { maxLength: 3 }),
        removedLeaves: fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 3 }),
      })
      .map(clean),
    encode: encodePendingRecord,
    decode: decodePendingRecord,
  },
  {
    name: "event",
    arb: fc.oneof(
      fc.record({ kind: fc.constant("owner" as const), welcome: fc.boolean() }),
      fc.record({ kind: fc.constantFrom("added" as const, "removed" as const), commitId: bytes(32), welcome: fc.boolean() }),
    ),
    encode: encodeEventRecord,
    decode: decodeEventRecord,
  },
  { name: "key package", arb: fc.record({ publicKey: bytes(32), documentId: bytes(32) }), encode: encodeKeyPackageIndexRecord, decode: decodeKeyPackageIndexRecord },
];

function onlyDecodeError(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
    return;
  }
  assert.fail("expected a DecodeError");
}

for (const c of codecs) {
  test(`${c.name} record: round trip, version byte, truncation and extension refused`, () => {
    fc.assert(
      fc.property(c.arb, fc.uint8Array({ minLength: 1, maxLength: 4 }), (value, extra) => {
        const enc = c.encode(value as never);
        assert.equal(enc[0], STORAGE_VERSION);
        assert.deepEqual(c.decode(enc), structuredClone(value)); // plain prototypes (fc.record gives null ones)
        for (let n = 0; n < enc.length; n++) onlyDecodeError(() => c.decode(enc.subarray(0, n)));
        onlyDecodeError(() => c.decode(Uint8Array.from([...enc, ...extra])));
        // a record of another format version is a storage error, not malformed bytes
        assert.throws(() => c.decode(Uint8Array.from([STORAGE_VERSION + 1, ...enc.subarray(1)])), (e: unknown) => e instanceof StorageError && e.code === ErrorCode.StorageVersion);
      }),
      { numRuns: 150 },
    );
  });

  test(`${c.name} record: garbage decodes canonically, or gives DecodeError (STORAGE_VERSION for a wrong version byte)`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), (raw, versioned) => {
        const b = versioned ? Uint8Array.from([STORAGE_VERSION, ...raw]) : raw;
        let decoded: unknown;
        try {
          decoded = c.decode(b);
        } catch (e) {
          const wrongVersion = b.length > 0 && b[0] !== STORAGE_VERSION;
          if (wrongVersion) assert.ok(e instanceof StorageError && e.code === ErrorCode.StorageVersion, `expected STORAGE_VERSION, got ${String(e)}`);
          else assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
          return;
        }
        assert.deepEqual(toHex(c.encode(decoded as never)), toHex(b));
      }),
      { numRuns: 1500 },
    );
  });
}

test("commit kinds: an add-and-remove commit is an add that lists its removals", () => {
  assert.equal(commitKindOf(1, 1), "add");
  assert.equal(commitKindOf(0, 2), "remove");
  assert.equal(commitKindOf(0, 0), "update");
  const owner = new Uint8Array(32).fill(1);
  const x = new Uint8Array(32).fill(2);
  const y = new Uint8Array(32).fill(3);
  const leaves = [{ publicKey: owner }, { publicKey: x }, { ref: new Uint8Array([9]) }];
  const change: MembershipChange = { refs: [new Uint8Array([7])], addedPublicKeys: [y], removedLeaves: [1], senderLeaf: 0 };
  const r = applyMembershipChange(leaves, owner, change, addedMembers(change, new Map()));
  assert.ok(typeof r !== "string");
  // RFC 9420 12.3: the remove happens first, so the add reuses leaf 1
  assert.deepEqual(r.added, [{ leaf: 1, member: { publicKey: y, ref: new Uint8Array([7]) } }]);
  assert.deepEqual(r.removed, [{ leaf: 1, member: { publicKey: x } }]);
});

test("membership replay refuses impossible commits", () => {
  const owner = new Uint8Array(32).fill(1);
  const leaves = [{ publicKey: owner }, undefined, { publicKey: new Uint8Array(32).fill(2) }];
  const change = (removedLeaves: number[], senderLeaf = 0): MembershipChange => ({ refs: [], addedPublicKeys: [], removedLeaves, senderLeaf });
  assert.match(applyMembershipChange(leaves, owner, change([1]), []) as string, /blank/);
  assert.match(applyMembershipChange(leaves, owner, change([7]), []) as string, /blank/);
  assert.match(applyMembershipChange(leaves, owner, change([2, 2]), []) as string, /blank/);
  assert.match(applyMembershipChange(leaves, owner, change([0]), []) as string, /owner/);
  assert.match(applyMembershipChange(leaves, owner, change([], 2), []) as string, /sender/);
  // refs resolve through known key packages; unequal lists are not paired
  const known = new Map([["07", new Uint8Array(32).fill(5)]]);
  assert.deepEqual(addedMembers({ ...change([]), refs: [new Uint8Array([7])] }, known), [{ publicKey: new Uint8Array(32).fill(5), ref: new Uint8Array([7]) }]);
  assert.deepEqual(addedMembers({ ...change([]), refs: [new Uint8Array([7]), new Uint8Array([8])], addedPublicKeys: [owner] }, known), [{ publicKey: owner }]);
});

test("membership replay never moves a member and fills the lowest blank leaf (property)", () => {
  const owner = new Uint8Array(32).fill(0xff);
  const step = fc.record({ removes: fc.array(fc.nat({ max: 12 }), { maxLength: 3 }), adds: fc.nat({ max: 3 }) });
  fc.assert(
    fc.property(fc.array(step, { maxLength: 20 }), (steps) => {
      let leaves: ReadonlyArray<Member | undefined> = [{ publicKey: owner }];
      let n = 0;
      for (const st of steps) {
        const removable = [...new Set(st.removes)].filter((l) => l > 0 && leaves[l] !== undefined);
        const adds: Member[] = Array.from({ length: st.adds }, () => ({ publicKey: new Uint8Array(32).fill(n++ % 250) }));
        const r = applyMembershipChange(leaves, owner, { refs: [], addedPublicKeys: [], removedLeaves: removable, senderLeaf: 0 }, adds);
        assert.ok(typeof r !== "string");
        leaves.forEach((m, i) => {
          if (m !== undefined && !removable.includes(i)) assert.equal(r.leaves[i], m);
        });
        const blanks = [...leaves.keys(), leaves.length, leaves.length + 1, leaves.length + 2]
          .filter((i) => leaves[i] === undefined || removable.includes(i))
          .filter((v, i, a) => a.indexOf(v) === i)
          .sort((a, b) => a - b);
        assert.deepEqual(r.added.map((a) => a.leaf), blanks.slice(0, st.adds));
        leaves = r.leaves;
      }
    }),
    { numRuns: 300 },
  );
});
