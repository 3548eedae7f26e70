/**
 * Our ts-mls patch builds decoded leaf nodes and key packages (and the LeafNodeTBS objects a leaf's
 * verification encodes) with `Object.assign` instead of `{ ...a, ...b, c }`
 * (patches/ts-mls+1.6.4.patch, leafNode.js and keyPackage.js). In V8 11 (Node 20) an object made by
 * a spread followed by more properties gets a hidden class (map) of its own once the code that
 * makes it is optimised, so every leaf of a decoded tree (a joiner's 1000, a reloaded state's)
 * had its own: decodeLeafNode took 5.2 us a leaf against 1.6, and every site reading leaves went
 * megamorphic. Each decoder below must hand out objects of one map per shape once optimised.
 * Unpatched, the leaf and key-package checks fail.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { decodeLeafNode, encodeLeafNode } from "ts-mls/leafNode.js";
import { decodeKeyPackage, encodeKeyPackage } from "ts-mls/keyPackage.js";
import { decodeMlsMessage } from "ts-mls/message.js";
import type { KeyPackage, LeafNode } from "ts-mls";
import { createKeyPackage } from "../src/keyPackage.js";
import { generateIdentity } from "../src/identity.js";
import { updateGroup } from "../src/group/index.js";
import { makeGroup } from "./group-fixtures.js";

// %HaveSameMap needs the natives syntax when the function using it is compiled (after this line)
setFlagsFromString("--allow-natives-syntax");
const sameMap = new Function("a", "b", "return %HaveSameMap(a, b)") as (a: object, b: object) => boolean;

/** Decodes `bytes` often enough for V8 to optimise the decoder, then checks the last objects share one map. */
function assertOneMap<T extends object>(what: string, decode: () => T): void {
  const late: T[] = [];
  for (let i = 0; i < 6000; i++) {
    const value = decode();
    if (i >= 5950) late.push(value);
  }
  for (const value of late) assert.ok(sameMap(late[0]!, value), `${what}: decoded objects of one shape share one hidden class`);
}

async function keyPackageOf(): Promise<KeyPackage> {
  const created = await createKeyPackage(generateIdentity());
  const message = decodeMlsMessage(created.keyPackage, 0)?.[0];
  assert.ok(message !== undefined && message.wireformat === "mls_key_package");
  return message.keyPackage;
}

test("decoded key-package leaves and key packages share one hidden class per shape once the decoders are optimised", async () => {
  const kp = await keyPackageOf();
  const leafBytes = encodeLeafNode(kp.leafNode);
  assertOneMap("key_package leaf", () => decodeLeafNode(leafBytes, 0)![0]);
  const kpBytes = encodeKeyPackage(kp);
  assertOneMap("key package", () => decodeKeyPackage(kpBytes, 0)![0]);
});

test("decoded commit leaves share one hidden class once the decoder is optimised, and keep their fields", async () => {
  const { owner } = await makeGroup(3);
  const state = (await updateGroup(owner.state)).state;
  const leaf = state.mls.ratchetTree[0];
  assert.ok(leaf?.nodeType === "leaf" && leaf.leaf.leafNodeSource === "commit", "the committer's leaf is a commit leaf");
  const bytes = encodeLeafNode(leaf.leaf);
  const decoded = decodeLeafNode(bytes, 0)![0] as LeafNode;
  // same properties in the same order as before the patch's Object.assign
  assert.deepEqual(Object.keys(decoded), ["hpkePublicKey", "signaturePublicKey", "credential", "capabilities", "leafNodeSource", "parentHash", "extensions", "signature"]);
  assert.deepEqual(encodeLeafNode(decoded), bytes);
  assertOneMap("commit leaf", () => decodeLeafNode(bytes, 0)![0]);
});
