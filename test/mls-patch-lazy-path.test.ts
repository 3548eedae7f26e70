/**
 * Our ts-mls patch decodes an UpdatePathNode's encrypted path secrets lazily and writes them back
 * as received (patches/ts-mls+1.6.4.patch, hpkeCiphertext.js): a receiver decrypts one of the
 * ~N/2 ciphertexts an owner-only commit carries. The lazy vector must read, encode and fail
 * exactly as the eager 1.6.4 decoder does, and a commit with any ciphertext changed, decoded
 * or not, must still be refused.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeMlsMessage, encodeMlsMessage } from "ts-mls";
import { encode } from "ts-mls/codec/tlsEncoder.js";
import { decodeVarLenType, varLenTypeEncoder } from "ts-mls/codec/variableLength.js";
import { decodeHpkeCiphertext, decodeHpkeCiphertextsLazy, hpkeCiphertextEncoder, hpkeCiphertextsLazyEncoder } from "ts-mls/hpkeCiphertext.js";
import type { HPKECiphertext } from "ts-mls/hpkeCiphertext.js";
import { decodeSecretGroupCommit, encodeSecretGroupCommit } from "../src/commit.js";
import { encodeGroupState, processCommit, updateGroup } from "../src/group/index.js";
import { Writer } from "../src/codec/tls.js";
import { makeGroup, rejectsWith } from "./group-fixtures.js";
import { rng } from "./prng.js";

const eagerDecode = decodeVarLenType(decodeHpkeCiphertext);
const eagerEncode = encode(varLenTypeEncoder(hpkeCiphertextEncoder));
const lazyEncode = encode(hpkeCiphertextsLazyEncoder);

/** What a decoder does with `bytes`: its value and length, or the error message it throws. */
function outcome(decode: (b: Uint8Array, o: number) => [HPKECiphertext[], number] | undefined, bytes: Uint8Array): unknown {
  try {
    const r = decode(bytes, 0);
    return r === undefined ? "undefined" : { value: [...r[0]], length: r[1], encoded: r[0] === undefined ? undefined : eagerEncode([...r[0]]) };
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}

function randomVector(prng: ReturnType<typeof rng>): Uint8Array {
  const body = new Writer();
  const count = prng.int(6);
  for (let i = 0; i < count; i++) body.opaque(prng.bytes(prng.int(3) === 0 ? 70 + prng.int(40) : prng.int(40))).opaque(prng.bytes(prng.int(50)));
  return new Writer().opaque(body.finish()).finish();
}

test("lazily decoded path ciphertexts equal the eager decoding, encode to the same bytes, and fail the same way", () => {
  const prng = rng(11);
  for (let round = 0; round < 400; round++) {
    const bytes = randomVector(prng);
    // damage: truncation, a flipped length byte, a non-minimal length prefix
    const variant = prng.int(4);
    let input = bytes;
    if (variant === 1) input = bytes.subarray(0, prng.int(bytes.length + 1));
    else if (variant === 2 && bytes.length > 0) {
      input = Uint8Array.from(bytes);
      const at = prng.int(input.length);
      input[at] = input[at]! ^ (1 << prng.int(8));
    } else if (variant === 3 && bytes.length > 0) {
      // the outer length again in the 4-byte varint form (RFC 9420 2.1.2 wants the shortest)
      const prefix = 1 << (bytes[0]! >> 6);
      let length = bytes[0]! & 0x3f;
      for (let k = 1; k < prefix; k++) length = length * 256 + bytes[k]!;
      input = Uint8Array.from([0x80 | (length >>> 24), (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff, ...bytes.subarray(prefix)]);
    }
    const result = outcome(decodeHpkeCiphertextsLazy, input);
    assert.deepEqual(result, outcome(eagerDecode, input), `round ${round} variant ${variant}`);
    if (typeof result === "string") continue;
    const lazy = decodeHpkeCiphertextsLazy(input, 0);
    if (lazy !== undefined) assert.deepEqual(lazyEncode(lazy[0]), eagerEncode(eagerDecode(input, 0)![0]), `round ${round}: encoding`);
  }
  // a non-minimal element length (2 bytes for 5): refused by both (RFC 9420 2.1.2, our determineLength hunk)
  const body = Uint8Array.from([0x40, 5, 1, 2, 3, 4, 5, 2, 9, 9]);
  const nonMinimal = Uint8Array.from([body.length, ...body]);
  assert.deepEqual(outcome(decodeHpkeCiphertextsLazy, nonMinimal), outcome(eagerDecode, nonMinimal));
  assert.match(String(outcome(decodeHpkeCiphertextsLazy, nonMinimal)), /not minimally encoded/);
});

test("a lazy vector whose elements were replaced or changed encodes what it holds", () => {
  const prng = rng(12);
  let bytes = randomVector(prng);
  while (eagerDecode(bytes, 0)![0].length < 3) bytes = randomVector(prng);
  const replaced = decodeHpkeCiphertextsLazy(bytes, 0)![0];
  replaced[1] = { kemOutput: new Uint8Array([7]), ciphertext: new Uint8Array([8, 8]) };
  assert.deepEqual(lazyEncode(replaced), eagerEncode([...replaced]));
  assert.notDeepEqual(lazyEncode(replaced), bytes);
  const fieldChanged = decodeHpkeCiphertextsLazy(bytes, 0)![0];
  (fieldChanged[2] as HPKECiphertext).kemOutput = new Uint8Array([1, 2, 3]);
  assert.deepEqual(lazyEncode(fieldChanged), eagerEncode([...fieldChanged]));
  const pushed = decodeHpkeCiphertextsLazy(bytes, 0)![0];
  pushed.push({ kemOutput: new Uint8Array([4]), ciphertext: new Uint8Array([5]) });
  assert.deepEqual(lazyEncode(pushed), eagerEncode([...pushed]));
  assert.equal(pushed.length, eagerDecode(bytes, 0)![0].length + 1);
});

test("a commit with any encrypted path secret changed is refused, the member's state unchanged", async () => {
  const { owner, members } = await makeGroup(9);
  const receiver = members[4]!;
  const update = await updateGroup(owner.state);
  const parts = decodeSecretGroupCommit(update.commit);
  const mls = Uint8Array.from(parts.mlsCommit);
  const msg = decodeMlsMessage(mls, 0)![0];
  assert.ok(msg.wireformat === "mls_public_message" && msg.publicMessage.content.contentType === "commit");
  const path = msg.publicMessage.content.commit.path!;
  assert.deepEqual(encodeMlsMessage(msg), mls, "the decoded commit encodes to its bytes");
  // the offset of every ciphertext in the commit's bytes (materialising every element of the copy)
  const offsets: number[] = [];
  for (const node of path.nodes) for (const ct of node.encryptedPathSecret) offsets.push(ct.ciphertext.byteOffset - mls.byteOffset);
  assert.ok(offsets.length >= 8, `${offsets.length} ciphertexts`);
  const before = encodeGroupState(receiver.state);
  for (const at of offsets) {
    const tampered = Uint8Array.from(mls);
    tampered[at]! ^= 1;
    const commit = encodeSecretGroupCommit({ ...parts, mlsCommit: tampered });
    await rejectsWith(() => processCommit(receiver.state, commit), "MLS_FAILURE");
    assert.deepEqual(encodeGroupState(receiver.state), before);
  }
  // control: the commit as sent is applied
  assert.equal((await processCommit(receiver.state, update.commit)).mlsEpoch, receiver.state.mlsEpoch + 1n);
});
