/**
 * Our ts-mls patch decodes faster (patches/ts-mls+1.6.4.patch, codec/tlsDecoder.js
 * `mapDecoders`, codec/number.js `decodeUint16/32/64`): a loop filling one array instead of a
 * reduce copying the values so far per field, and integers read from the bytes instead of
 * through a new DataView per field. A joiner's engine decodes the commit adding every other
 * member (999 key packages at 1000 members) beside its join. Decoding must answer exactly as
 * unpatched ts-mls 1.6.4 does: the same values for valid messages, the same result (undefined or
 * the same error) for every truncation and for random byte changes of them, except that a length
 * written in more bytes than needed is refused (RFC 9420 2.1.2, codec/variableLength.js).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeMlsMessage } from "ts-mls";
import { decodeMlsMessage as bareDecodeMlsMessage, encodeMlsMessage as bareEncodeMlsMessage } from "ts-mls-bare";
import { decodeUint16, decodeUint32, decodeUint64 } from "ts-mls/codec/number.js";
import { decodeUint16 as bareUint16, decodeUint32 as bareUint32, decodeUint64 as bareUint64 } from "ts-mls-bare/codec/number.js";
import { mapDecoders } from "ts-mls/codec/tlsDecoder.js";
import { decodeRatchetTree, encodeRatchetTree } from "ts-mls/ratchetTree.js";
import { decodeRatchetTree as bareDecodeRatchetTree, encodeRatchetTree as bareEncodeRatchetTree } from "ts-mls-bare/ratchetTree.js";
import { mapDecoders as bareMapDecoders } from "ts-mls-bare/codec/tlsDecoder.js";
import { commitParts } from "../src/commit.js";
import { addMembers, createGroup, removeMembers, updateGroup } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { addNew, makeGroup, newGroupId } from "./group-fixtures.js";
import { decoderInputs, NON_MINIMAL, outcome, sameDecodeWith, widenLength } from "./fuzz-support.js";
import { rng } from "./prng.js";

const sameDecode = sameDecodeWith(decodeMlsMessage, bareDecodeMlsMessage, bareEncodeMlsMessage);
const sameTreeDecode = sameDecodeWith(decodeRatchetTree, bareDecodeRatchetTree, bareEncodeRatchetTree);

/** MLS messages of every kind a node decodes: key packages, add / update / remove commits, a Welcome. */
async function messages(): Promise<Array<[string, Uint8Array]>> {
  const owner = generateIdentity();
  let state = await createGroup({ identity: owner, groupId: newGroupId(), ciphersuite: "PANDA10_AES256GCM" });
  const ids = [0, 1, 2].map(() => generateIdentity());
  const kps = await Promise.all(ids.map((id) => createKeyPackage(id)));
  const added = await addMembers(state, kps.map((k) => k.keyPackage));
  state = added.state;
  const updated = await updateGroup(state);
  const removed = await removeMembers(updated.state, [ids[1]!.publicKey]);
  const parts = commitParts(added.commit);
  return [
    ["key package", kps[0]!.keyPackage],
    ["add commit", parts.mlsCommit],
    ["welcome", parts.mlsWelcome!],
    ["update commit", commitParts(updated.commit).mlsCommit],
    ["remove commit", commitParts(removed.commit).mlsCommit],
  ];
}

test("patched decoding equals 1.6.4's on valid messages, every truncation and random byte changes", async () => {
  const random = rng(0x6a6f696e);
  for (const [what, bytes] of await messages()) {
    const decoded = decodeMlsMessage(bytes, 0);
    assert.ok(decoded !== undefined, `${what} decodes`);
    // also inside a larger buffer (the integer readers must index the view, not its buffer)
    for (const [label, input] of decoderInputs(what, bytes, random, { frame: [3, 7], cuts: 400, changes: 300 })) sameDecode(input, label);
    // a 1- or 2-byte length among the first fields in the 4-byte form: 1.6.4 read it, we refuse it
    let widenedRead = false;
    for (let at = 4; at < 40 && !widenedRead; at++) {
      const widened = widenLength(bytes, at, 4);
      if (widened === undefined) continue;
      sameDecode(widened, `${what} with a length widened at ${at}`);
      const patched = outcome(() => decodeMlsMessage(widened, 0));
      const bare = outcome(() => bareDecodeMlsMessage(widened, 0));
      widenedRead = "threw" in patched && patched.threw === NON_MINIMAL && "value" in bare && bare.value !== undefined;
    }
    assert.ok(widenedRead, `${what}: a widened length that 1.6.4 read is refused`);
  }
});

test("integer readers: the same values and the same undefined past the end, at every offset of a view with a byte offset", () => {
  const random = rng(7);
  const buffer = random.bytes(40);
  for (const view of [buffer, buffer.subarray(5, 29), buffer.subarray(9, 10), buffer.subarray(0, 0)]) {
    for (let offset = 0; offset <= view.length + 9; offset++) {
      assert.deepEqual(decodeUint16(view, offset), bareUint16(view, offset), `u16 at ${offset}`);
      assert.deepEqual(decodeUint32(view, offset), bareUint32(view, offset), `u32 at ${offset}`);
      assert.deepEqual(decodeUint64(view, offset), bareUint64(view, offset), `u64 at ${offset}`);
    }
  }
  const high = new Uint8Array(8).fill(0xff);
  assert.deepEqual(decodeUint32(high, 0), [0xffffffff, 4]);
  assert.deepEqual(decodeUint64(high, 0), [0xffffffffffffffffn, 8]);
});

test("mapDecoders stops at the first decoder that fails, as 1.6.4's did", () => {
  const run = (map: typeof mapDecoders, failAt: number): { result: unknown; calls: number[] } => {
    const calls: number[] = [];
    const decoders = [0, 1, 2, 3].map((i) => (_b: Uint8Array, offset: number): [number, number] | undefined => {
      calls.push(offset);
      return i === failAt ? undefined : [i * 10 + offset, i + 1];
    });
    const result = map(decoders, (...xs: number[]) => xs)(new Uint8Array(0), 5);
    return { result, calls };
  };
  for (const failAt of [-1, 0, 2, 3]) assert.deepEqual(run(mapDecoders, failAt), run(bareMapDecoders as typeof mapDecoders, failAt), `fail at ${failAt}`);
  assert.deepEqual(run(mapDecoders, -1).result, [[5, 16, 28, 41], 10]);
});

test("patched decodeRatchetTree equals 1.6.4's on trees with unmerged leaves, every truncation and random byte changes", async () => {
  const random = rng(0x74726565);
  const { owner, members } = await makeGroup(6);
  owner.state = (await updateGroup(owner.state)).state;
  owner.state = (await removeMembers(owner.state, [members[1]!.identity.publicKey])).state;
  const [joiner] = await addNew(owner, [], 3);
  const tree = joiner!.state.mls.ratchetTree;
  assert.ok(tree.some((n) => n?.nodeType === "parent" && n.parent.unmergedLeaves.length > 0), "unmerged leaves");
  assert.ok(tree.some((n) => n === undefined), "blanks");
  const bytes = encodeRatchetTree(tree);
  assert.deepEqual(decodeRatchetTree(bytes, 0), bareDecodeRatchetTree(bytes, 0));
  for (const [label, input] of decoderInputs("tree", bytes, random, { cuts: 300, changes: 500 })) sameTreeDecode(input, label);
});
