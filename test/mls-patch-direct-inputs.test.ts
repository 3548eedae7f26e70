/**
 * Our ts-mls patch writes two hot inputs straight into one buffer instead of through the generic
 * TLS encoders: SignContent (RFC 9420 5.1.2, crypto/signature.js `signContent`, what every
 * signature signs and every verification checks) and ParentNodeHashInput (7.8, treeHash.js
 * `parentHashInput`, hashed for every parent of a tree). Their bytes must be 1.6.4's for every
 * input, across each length prefix's width (1, 2 and 4 bytes: lengths 63/64 and 16383/16384),
 * blank and present parents, and unmerged leaves up to 2^32 - 1; and a signature made through
 * the patched path must verify through 1.6.4's and back.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { signContent, signWithLabel, verifyWithLabel } from "ts-mls/crypto/signature.js";
import { parentHashInput } from "ts-mls/treeHash.js";
import { composeBufferEncoders, encode } from "ts-mls-bare/codec/tlsEncoder.js";
import { varLenDataEncoder } from "ts-mls-bare/codec/variableLength.js";
import { parentNodeHashInputEncoder } from "ts-mls-bare/treeHash.js";
import { signWithLabel as bareSign, verifyWithLabel as bareVerify } from "ts-mls-bare/crypto/signature.js";
import type { ParentNode } from "ts-mls/parentNode.js";
import { getSuite } from "../src/mls/suite.js";
import { rng } from "./prng.js";

const EDGES = [0, 1, 63, 64, 65, 16383, 16384, 16385];
const LABELS = ["LeafNodeTBS", "KeyPackageTBS", "GroupInfoTBS", "FramedContentTBS", ""];

function bareSignContent(label: string, content: Uint8Array): Uint8Array {
  return encode(composeBufferEncoders([varLenDataEncoder, varLenDataEncoder]))([new TextEncoder().encode(`MLS 1.0 ${label}`), content]);
}

test("signContent: 1.6.4's SignContent bytes for every label and each length prefix's width", () => {
  const r = rng(5101);
  const lengths = [...EDGES, 70_000, ...Array.from({ length: 40 }, () => r.int(1000))];
  for (const label of LABELS) {
    for (const n of lengths) {
      const content = r.bytes(n);
      assert.deepEqual(signContent(label, content), bareSignContent(label, content), `label ${label}, ${n} bytes`);
    }
  }
  // a label longer than 63 bytes takes a 2-byte prefix too
  const long = "L".repeat(80);
  const content = r.bytes(5);
  assert.deepEqual(signContent(long, content), bareSignContent(long, content));
});

test("signContent: a view into a larger buffer is written with its own bytes only", () => {
  const whole = rng(5102).bytes(500);
  const view = whole.subarray(100, 300);
  assert.deepEqual(signContent("LeafNodeTBS", view), bareSignContent("LeafNodeTBS", Uint8Array.from(view)));
});

function randomParent(r: ReturnType<typeof rng>): ParentNode {
  const unmerged = r.pick([0, 1, 3, 15, 16, 17, 4200]);
  return {
    hpkePublicKey: r.bytes(r.pick([0, 32, 63, 64, 200])),
    parentHash: r.bytes(r.pick([0, 32, 64])),
    unmergedLeaves: Array.from({ length: unmerged }, () => r.pick([0, 1, 255, 256, 65535, 65536, 0x7fffffff, 0xffffffff, r.int(2 ** 32)])),
  };
}

test("parentHashInput: 1.6.4's ParentNodeHashInput bytes for blank and present parents", () => {
  const r = rng(5103);
  for (let i = 0; i < 300; i++) {
    const parentNode = r.int(4) === 0 ? undefined : randomParent(r);
    const leftHash = r.bytes(r.pick([0, 32, 48, 64, 100]));
    const rightHash = r.bytes(r.pick([0, 32, 48, 64, 100]));
    const expected = encode(parentNodeHashInputEncoder)({ nodeType: "parent", parentNode, leftHash, rightHash });
    assert.deepEqual(parentHashInput(parentNode, leftHash, rightHash), expected, `case ${i}`);
  }
});

test("signatures made through the patched SignContent verify through 1.6.4's, and back", async () => {
  const cs = await getSuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
  const { signKey, publicKey } = await cs.signature.keygen();
  const r = rng(5104);
  for (const n of [0, 64, 16384]) {
    const content = r.bytes(n);
    const ours = await signWithLabel(signKey, "LeafNodeTBS", content, cs.signature);
    assert.equal(await bareVerify(publicKey, "LeafNodeTBS", content, ours, cs.signature), true);
    const bare = await bareSign(signKey, "LeafNodeTBS", content, cs.signature);
    assert.equal(await verifyWithLabel(publicKey, "LeafNodeTBS", content, bare, cs.signature), true);
    // another label is another message: the cached label encodings must not mix labels up
    assert.equal(await verifyWithLabel(publicKey, "KeyPackageTBS", content, bare, cs.signature), false);
  }
});
