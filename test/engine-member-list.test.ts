/**
 * The member list a pool worker hands back with a state change (src/engine/worker/memberList.ts):
 * one vector in a buffer of its own, the layout of the cold group record's member list, decoded
 * on the main thread into views that equal the identities listed, in order; anything but such a
 * vector is a DECODE_ERROR.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeMemberList, encodeMemberList } from "../src/engine/worker/memberList.js";
import { emptyGroupRecord, encodeColdRecord } from "../src/engine/store/records.js";
import { ErrorCode } from "../src/errors.js";
import { prng } from "./fuzz-support.js";

test("member lists round-trip in order (none, one, 1000, identities of 0-300 bytes), in the cold record's layout", () => {
  const r = prng(0x6d656d);
  const lists: Uint8Array[][] = [[], [r.bytes(32)], Array.from({ length: 1000 }, () => r.bytes(32))];
  for (let k = 0; k < 40; k++) lists.push(Array.from({ length: r.int(20) }, () => r.bytes(r.int(300))));
  for (const members of lists) {
    const packed = encodeMemberList(members);
    assert.equal(packed.byteOffset, 0);
    assert.equal(packed.buffer.byteLength, packed.length, "a buffer of its own, nothing else behind it");
    const back = decodeMemberList(packed);
    assert.deepEqual(back.map((m) => Uint8Array.from(m)), members);
    // the cold record ends with the same vector (status, no owner, no ciphersuite before it)
    const cold = encodeColdRecord({ ...emptyGroupRecord(), status: "member", members });
    assert.deepEqual(cold.subarray(cold.length - packed.length), packed);
  }
});

test("a member list that is cut short, padded or not a vector is a DECODE_ERROR", () => {
  const packed = encodeMemberList([new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)]);
  for (const bad of [packed.subarray(0, packed.length - 1), Uint8Array.from([...packed, 0]), Uint8Array.from([0x40]), new Uint8Array([3, 5, 1, 2])]) {
    assert.throws(() => decodeMemberList(bad), { code: ErrorCode.Decode });
  }
});
