/**
 * `decodeDocumentAsync` (signature verified on libuv's thread pool, used for an owner's batch of
 * key-package documents) gives exactly `decodeDocument`'s answers: the same document, or the
 * same error class and code, forged documents with bad fields reported as forged; and
 * `keyPackagesFromDocuments` reports the first bad document in order, not the first to finish.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { toHex } from "../src/bytes.js";
import { decodeDocument, decodeDocumentAsync, signDocument } from "../src/documents/document.js";
import { keyPackageDocument } from "../src/documents/index.js";
import { ErrorCode } from "../src/errors.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { keyPackagesFromDocuments } from "../src/engine/keyPackages.js";
import { identityFromByte, payloadOf, rawDocument } from "./documents-support.js";

function verdict(f: () => unknown): string {
  try {
    const doc = f() as { id: Uint8Array; fields: unknown };
    return `ok ${toHex(doc.id)} ${JSON.stringify(doc.fields, (_k, v) => (v instanceof Uint8Array ? toHex(v) : typeof v === "bigint" ? String(v) : v))}`;
  } catch (e) {
    return `${(e as Error).constructor.name} ${(e as { code?: string }).code ?? ""}`;
  }
}

async function verdictAsync(bytes: Uint8Array): Promise<string> {
  try {
    const doc = await decodeDocumentAsync(bytes);
    return verdict(() => doc);
  } catch (e) {
    return verdict(() => {
      throw e;
    });
  }
}

test("decodeDocumentAsync agrees with decodeDocument on good, forged, malformed and rule-breaking documents", async () => {
  const alice = identityFromByte(1);
  const mallory = identityFromByte(2);
  const good = signDocument(alice, "post_v1", { title: "hi" }).bytes;
  const flipped = Uint8Array.from(good);
  flipped[flipped.length - 1]! ^= 1; // the signature is the envelope's last field
  const cases: Record<string, Uint8Array> = {
    good,
    flippedSignature: flipped,
    signedByAnother: rawDocument(alice, payloadOf(alice, "post_v1", { title: "hi" }), mallory),
    badFields: rawDocument(alice, payloadOf(alice, "secret_group_v1", { lts_ciphersuite: "NOPE" })),
    forgedWithBadFields: rawDocument(alice, payloadOf(alice, "secret_group_v1", { lts_ciphersuite: "NOPE" }), mallory),
    notCbor: new Uint8Array([1, 2, 3]),
    truncated: good.subarray(0, good.length - 5),
    unknownVersion: rawDocument(alice, { ...payloadOf(alice, "post_v1", { title: "hi" }), v: 9 }),
  };
  const expected: Record<string, string> = {
    flippedSignature: `ValidationError ${ErrorCode.InvalidSignature}`,
    signedByAnother: `ValidationError ${ErrorCode.InvalidSignature}`,
    badFields: `ValidationError ${ErrorCode.InvalidDocument}`,
    forgedWithBadFields: `ValidationError ${ErrorCode.InvalidSignature}`,
  };
  for (const [name, bytes] of Object.entries(cases)) {
    const sync = verdict(() => decodeDocument(bytes));
    assert.equal(await verdictAsync(bytes), sync, name);
    if (expected[name] !== undefined) assert.equal(sync, expected[name], name);
  }
  assert.match(verdict(() => decodeDocument(good)), /^ok /);
});

test("keyPackagesFromDocuments: every good key package in order, else the first bad document's error in order", async () => {
  const docs: Uint8Array[] = [];
  const expected: string[] = [];
  for (let i = 0; i < 24; i++) {
    const member = generateIdentity();
    const { keyPackage } = await createKeyPackage(member);
    docs.push(keyPackageDocument(member, { keyPackage }).bytes);
    expected.push(toHex(keyPackage));
  }
  assert.deepEqual((await keyPackagesFromDocuments(docs)).map(toHex), expected);
  const forged = Uint8Array.from(docs[15]!);
  forged[forged.length - 1]! ^= 1;
  // a key package in a document signed by someone else than its credential's owner
  const stranger = generateIdentity();
  const misowned = keyPackageDocument(stranger, { keyPackage: (await createKeyPackage(generateIdentity())).keyPackage }).bytes;
  const codeOf = async (batch: Uint8Array[]) => {
    try {
      await keyPackagesFromDocuments(batch);
      return "accepted";
    } catch (e) {
      return (e as { code?: string }).code;
    }
  };
  const withForged = docs.map((d, i) => (i === 15 ? forged : d));
  assert.equal(await codeOf(withForged), ErrorCode.InvalidSignature);
  const misownedCode = await codeOf([misowned]);
  assert.notEqual(misownedCode, "accepted");
  // the misowned one comes first: its error, not the forged one's (whose check fails before any key package is read)
  assert.equal(await codeOf(withForged.map((d, i) => (i === 3 ? misowned : d))), misownedCode);
  assert.equal(await codeOf([...docs.slice(0, 3), forged, misowned]), ErrorCode.InvalidSignature);
});
