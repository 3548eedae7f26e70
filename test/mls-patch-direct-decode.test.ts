/**
 * Our ts-mls patch decodes LeafNodes and ParentNodes in one pass (patches/ts-mls+1.6.4.patch,
 * codec/directReader.js, leafNode.js `decodeLeafNodeDirect`, parentNode.js
 * `decodeParentNodeDirect`, ratchetTree.js `decodeNode`): every leaf of a Welcome's tree, of a
 * reloaded state and of an owner's key packages. The direct decoder reads the common form only and
 * leaves anything else to 1.6.4's combinator decoders, so the answers must be 1.6.4's on every
 * input: leaves of every source, credential and extension kind, lengths of every prefix width,
 * views at an offset inside a larger buffer, every truncation and many byte changes, weighted to
 * the values where lengths and enums change meaning. Only a length written in more bytes than
 * needed is refused, as everywhere in the patch (RFC 9420 2.1.2).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import type { LeafNode, Node, ParentNode } from "ts-mls";
import { decodeLeafNode } from "ts-mls/leafNode.js";
import { decodeParentNode } from "ts-mls/parentNode.js";
import { decodeNode } from "ts-mls/ratchetTree.js";
import { decodeLeafNode as bareDecodeLeafNode, encodeLeafNode as bareEncodeLeafNode } from "ts-mls-bare/leafNode.js";
import { decodeParentNode as bareDecodeParentNode, encodeParentNode as bareEncodeParentNode } from "ts-mls-bare/parentNode.js";
import { decodeNode as bareDecodeNode, encodeNode as bareEncodeNode } from "ts-mls-bare/ratchetTree.js";
import { updateGroup } from "../src/group/index.js";
import { cases, NON_MINIMAL, outcome, sameDecodeWith, widenLength } from "./fuzz-support.js";
import { makeGroup } from "./group-fixtures.js";
import { rng } from "./prng.js";

type Random = ReturnType<typeof rng>;

const sameLeaf = sameDecodeWith<LeafNode>(decodeLeafNode, bareDecodeLeafNode, bareEncodeLeafNode);
const sameParent = sameDecodeWith<ParentNode>(decodeParentNode, bareDecodeParentNode, bareEncodeParentNode);
const sameNode = sameDecodeWith<Node>(decodeNode, bareDecodeNode, bareEncodeNode);

/** Byte values where a length prefix changes width or form, or an enum changes meaning. */
const EDGES = [0, 1, 2, 3, 4, 5, 6, 7, 0x3f, 0x40, 0x41, 0x7f, 0x80, 0x81, 0xbf, 0xc0, 0xff];

/** Every cut of `bytes`, the whole at an offset inside a larger buffer, and `n` copies with 1-3 bytes changed. */
function* inputs(bytes: Uint8Array, random: Random, n: number): Generator<[string, Uint8Array, number]> {
  yield ["whole", bytes, 0];
  const framed = new Uint8Array(bytes.length + 9);
  framed.set(bytes, 5);
  yield ["at offset 5 with trailing bytes", framed, 5];
  yield ["at offset 5, cut to its length", framed.subarray(0, 5 + bytes.length), 5];
  for (let end = 0; end < bytes.length; end++) yield [`cut at ${end}`, bytes.subarray(0, end), 0];
  for (let i = 0; i < n; i++) {
    const changed = Uint8Array.from(bytes);
    for (let k = 0; k <= random.int(3); k++) changed[random.int(changed.length)] = random.int(2) === 0 ? random.pick(EDGES) : random.int(256);
    yield [`changed (${i})`, changed, 0];
  }
}

const bytes = (random: Random, n: number): Uint8Array => random.bytes(n);

/** Leaves of every source, credential kind and length width, encoded by 1.6.4. */
function syntheticLeaves(random: Random): Array<[string, LeafNode]> {
  const head = (identity: number): Pick<LeafNode, "hpkePublicKey" | "signaturePublicKey" | "credential" | "capabilities"> => ({
    hpkePublicKey: bytes(random, 32),
    signaturePublicKey: bytes(random, 32),
    credential: { credentialType: "basic", identity: bytes(random, identity) },
    capabilities: {
      versions: ["mls10"],
      ciphersuites: ["MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", "MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448", "4660"],
      extensions: [0x000a, 0xff00],
      proposals: [0x0009],
      credentials: ["basic", "x509", "7"],
    } as unknown as LeafNode["capabilities"], // open enums: 1.6.4 decodes unknown values as their number's string
  });
  const extensions: LeafNode["extensions"] = [
    { extensionType: "application_id", extensionData: bytes(random, 3) },
    { extensionType: 0x0a0a, extensionData: bytes(random, 70) },
  ];
  const lifetime = { notBefore: 0n, notAfter: 2n ** 64n - 1n };
  const signature = bytes(random, 64);
  return [
    ["key_package leaf", { ...head(32), leafNodeSource: "key_package", lifetime, extensions, signature }],
    ["update leaf", { ...head(32), leafNodeSource: "update", extensions: [], signature }],
    ["commit leaf", { ...head(32), leafNodeSource: "commit", parentHash: bytes(random, 32), extensions, signature }],
    ["empty identity and capabilities", { ...head(0), capabilities: { versions: [], ciphersuites: [], extensions: [], proposals: [], credentials: [] }, leafNodeSource: "update", extensions: [], signature }],
    ["2-byte lengths (identity of 64)", { ...head(64), leafNodeSource: "commit", parentHash: new Uint8Array(0), extensions, signature }],
    ["4-byte lengths (extension of 16,384)", { ...head(5), leafNodeSource: "key_package", lifetime, extensions: [{ extensionType: 0x0a0a, extensionData: bytes(random, 16384) }], signature }],
    ["X.509 credential (left to 1.6.4's decoder)", { ...head(1), credential: { credentialType: "x509", certificates: [bytes(random, 10), bytes(random, 70)] }, leafNodeSource: "update", extensions, signature }],
    ["every default extension type", { ...head(8), leafNodeSource: "update", extensions: (["application_id", "ratchet_tree", "required_capabilities", "external_pub", "external_senders"] as const).map((t) => ({ extensionType: t, extensionData: bytes(random, 2) })), signature }],
  ] as Array<[string, LeafNode]>;
}

test("direct LeafNode decoding answers as 1.6.4 on leaves of every kind, every cut and byte changes", () => {
  const random = rng(0x6c656166);
  for (const [what, leaf] of syntheticLeaves(random)) {
    const encoded = bareEncodeLeafNode(leaf);
    const decoded = decodeLeafNode(encoded, 0);
    assert.deepEqual(decoded, [leaf, encoded.length], `${what} decodes to the leaf encoded`);
    // the same properties in the same order as 1.6.4's Object.assign of its parts
    assert.deepEqual(Object.keys(decoded![0]), Object.keys(bareDecodeLeafNode(encoded, 0)![0]), `${what}: property order`);
    // small leaves get every change count; the 16 KiB one (its cuts are many already) fewer
    for (const [label, input, offset] of inputs(encoded, random, cases(encoded.length > 4096 ? 200 : 3000))) sameLeaf(input, `${what} ${label}`, offset);
  }
});

test("direct decoding answers as 1.6.4 on our own key-package and commit leaves", async () => {
  const random = rng(0x6f776e);
  const { owner } = await makeGroup(3);
  const state = (await updateGroup(owner.state)).state;
  const leaves = state.mls.ratchetTree.flatMap((n) => (n?.nodeType === "leaf" ? [n.leaf] : []));
  assert.deepEqual(new Set(leaves.map((l) => l.leafNodeSource)), new Set(["key_package", "commit"]));
  for (const leaf of leaves) {
    const encoded = bareEncodeLeafNode(leaf);
    for (const [label, input, offset] of inputs(encoded, random, cases(1500))) sameLeaf(input, `${leaf.leafNodeSource} leaf ${label}`, offset);
  }
});

test("direct ParentNode and Node decoding answer as 1.6.4, unmerged leaves up to 2^32 - 1 and unknown node types", () => {
  const random = rng(0x706172);
  const parents: ParentNode[] = [
    { hpkePublicKey: bytes(random, 32), parentHash: bytes(random, 32), unmergedLeaves: [] },
    { hpkePublicKey: bytes(random, 32), parentHash: new Uint8Array(0), unmergedLeaves: [0, 5, 2 ** 32 - 1] },
    { hpkePublicKey: bytes(random, 65), parentHash: bytes(random, 64), unmergedLeaves: Array.from({ length: 20 }, (_, i) => i * 7) },
  ];
  for (const parent of parents) {
    const encoded = bareEncodeParentNode(parent);
    assert.deepEqual(decodeParentNode(encoded, 0), [parent, encoded.length]);
    for (const [label, input, offset] of inputs(encoded, random, cases(2000))) sameParent(input, `parent ${label}`, offset);
    const node: Node = { nodeType: "parent", parent };
    for (const [label, input, offset] of inputs(bareEncodeNode(node), random, cases(500))) sameNode(input, `parent node ${label}`, offset);
  }
  const [, leaf] = syntheticLeaves(random)[2]!;
  const leafNode = bareEncodeNode({ nodeType: "leaf", leaf });
  for (const [label, input, offset] of inputs(leafNode, random, cases(1000))) sameNode(input, `leaf node ${label}`, offset);
  for (const type of [0, 3, 255]) sameNode(Uint8Array.from([type, ...leafNode.subarray(1)]), `node type ${type}`);
  sameNode(new Uint8Array(0), "no bytes");
  sameNode(leafNode, "offset at the end", leafNode.length);
});

test("a length written in more bytes than needed inside a leaf is refused (RFC 9420 2.1.2), where 1.6.4 read the same leaf", () => {
  const random = rng(0x77696465);
  for (const [what, leaf] of syntheticLeaves(random).slice(0, 3)) {
    const encoded = bareEncodeLeafNode(leaf);
    let refused = 0;
    for (let at = 0; at < encoded.length; at++) {
      // a 1-byte length in the 2-byte form, or a 1- or 2-byte length in the 4-byte form
      for (const width of [2, 4] as const) {
        const widened = widenLength(encoded, at, width);
        if (widened === undefined) continue;
        // where 1.6.4 read a length there and decoded the same leaf, the patch must refuse it
        const bare = outcome(() => bareDecodeLeafNode(widened, 0));
        const read = "value" in bare ? (bare.value as [LeafNode, number] | undefined) : undefined;
        if (read === undefined || read[1] !== widened.length || !isDeepStrictEqual(read[0], leaf)) continue;
        assert.deepEqual(outcome(() => decodeLeafNode(widened, 0)), { threw: NON_MINIMAL }, `${what}: length at ${at} widened to ${width} bytes`);
        refused++;
      }
    }
    // the keys, identity, five capability vectors, the extensions vector, the signature (and
    // extensions' data), most of them in both wider forms
    assert.ok(refused >= 18, `${what}: ${refused} widened lengths refused`);
  }
});
