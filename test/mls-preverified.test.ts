/**
 * An owner's worker starts each added key package's two signature checks while it decodes the
 * rest (src/mls/crypto/preverified.ts, src/engine/worker/addDocuments.ts); ts-mls's validation
 * takes those answers. An answer is only ever handed out for exactly the bytes it checked, once,
 * and while its scope lasts; a package whose own or leaf signature is forged (in a document its
 * author signed) is still refused, and the documents' signatures are still awaited.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { keyPackageDocument } from "../src/documents/index.js";
import { SecretGroupError } from "../src/errors.js";
import { createGroup } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { PreverifyScope, takeStarted } from "../src/mls/crypto/preverified.js";
import { addFromDocuments } from "../src/engine/worker/addDocuments.js";

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

test("takeStarted: the started answer only for the same key, message and signature, once, while its scope lasts", async () => {
  const scope = new PreverifyScope();
  const [pk, message, signature] = [bytes(32, 1), bytes(100, 2), bytes(64, 3)];
  scope.start(pk, message, signature, Promise.resolve(true));
  assert.equal(takeStarted(pk, bytes(100, 9), signature), undefined, "another message");
  assert.equal(takeStarted(bytes(32, 9), message, signature), undefined, "another public key");
  assert.equal(takeStarted(pk, message, bytes(64, 9)), undefined, "another signature");
  assert.equal(await takeStarted(pk, message, signature), true);
  assert.equal(takeStarted(pk, message, signature), undefined, "taken twice");
  scope.start(pk, message, signature, Promise.resolve(true));
  scope.end();
  assert.equal(takeStarted(pk, message, signature), undefined, "after its scope ended");
  // a rejected check nobody takes is no unhandled rejection; one taken rejects for its taker
  const failing = new PreverifyScope();
  failing.start(pk, message, signature, Promise.reject(new Error("boom")));
  await assert.rejects(takeStarted(pk, message, signature) as Promise<boolean>, /boom/);
  failing.start(pk, message, signature, Promise.reject(new Error("untaken")));
  failing.end();
});

async function documentsFor(count: number, change?: (keyPackage: Uint8Array) => void): Promise<Uint8Array[]> {
  const docs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const member = generateIdentity();
    const keyPackage = Uint8Array.from((await createKeyPackage(member)).keyPackage);
    if (i === count - 2) change?.(keyPackage);
    // the author signs the changed package: only the package's own signatures are wrong
    docs.push(keyPackageDocument(member, { keyPackage }).bytes);
  }
  return docs;
}

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return "accepted";
  } catch (e) {
    assert.ok(e instanceof SecretGroupError, String(e));
    return `${e.code}: ${e.message}`;
  }
}

test("addFromDocuments: forged key package or leaf signatures refuse the add; good documents make the commit", async () => {
  const state = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(randomBytes(32)), ciphersuite: "PANDA10_AES128GCM" });
  const good = await documentsFor(40);
  const { result, inspection } = await addFromDocuments(state, good);
  assert.equal(inspection.addedPublicKeys.length, 40);
  assert.equal(result.state.mlsEpoch, state.mlsEpoch + 1n);
  // the KeyPackage's signature is its last field; the LeafNode's ends before the package's
  // extensions (empty: one byte) and the package's signature (two length bytes and 64 bytes)
  const forgedPackage = await documentsFor(40, (kp) => void (kp[kp.length - 1]! ^= 1));
  assert.match(await codeOf(() => addFromDocuments(state, forgedPackage)), /^INVALID_KEY_PACKAGE: .*keypackage signature/i);
  const forgedLeaf = await documentsFor(40, (kp) => void (kp[kp.length - 68]! ^= 1));
  assert.match(await codeOf(() => addFromDocuments(state, forgedLeaf)), /^INVALID_KEY_PACKAGE: .*leaf node signature/i);
  // a forged document signature (the envelope's last field) refuses the commit the worker built
  const forgedDocument = good.map((d, i) => (i === 20 ? Uint8Array.from(d, (b, j) => (j === d.length - 1 ? b ^ 1 : b)) : d));
  assert.match(await codeOf(() => addFromDocuments(state, forgedDocument)), /^INVALID_SIGNATURE/);
});
