/**
 * The engine checks key package documents before an add with `checkAddableKeyPackage`, which
 * skips the KeyPackageRef hash `keyPackageInfo` computes: over every single-byte change of a key
 * package, and for each one in a document its author signed, both must reach the same verdict
 * (the same error code, or the same facts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkKeyPackageDocument, keyPackageDocument } from "../src/documents/index.js";
import { keyPackagesFromDocuments } from "../src/engine/keyPackages.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage, keyPackageInfo } from "../src/keyPackage.js";
import { checkKeyPackageLifetime } from "../src/lifetime.js";
import { checkAddableKeyPackage } from "../src/mls/keyPackage.js";
import { toHex } from "../src/bytes.js";

const verdict = (f: () => { publicKey: Uint8Array; notBefore: bigint; notAfter: bigint }): string => {
  try {
    const { publicKey, notBefore, notAfter } = f();
    return `ok ${toHex(publicKey)} ${notBefore} ${notAfter}`;
  } catch (e) {
    return `error ${(e as { code?: string }).code ?? String(e)}`;
  }
};

async function verdictAsync(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
    return "accepted";
  } catch (e) {
    return `error ${(e as { code?: string }).code ?? String(e)}`;
  }
}

test("checkAddableKeyPackage and keyPackagesFromDocuments reach keyPackageInfo's verdicts on every single-byte change", async () => {
  const author = generateIdentity();
  const { keyPackage } = await createKeyPackage(author);
  let refused = 0;
  // every byte position, with a fixed non-zero change (positions, not values, decide which field breaks)
  for (let i = 0; i < keyPackage.length; i++) {
    const changed = Uint8Array.from(keyPackage);
    changed[i]! ^= i === 6 || i === 7 ? 0x40 : 0x01; // bytes 6-7: the ciphersuite, to an unknown number
    const expected = verdict(() => keyPackageInfo(changed));
    assert.equal(verdict(() => checkAddableKeyPackage(changed)), expected, `byte ${i}`);
    if (expected.startsWith("error")) refused++;
    // the engine's check of a document its author signed: what keyPackageInfo and the rules say
    if (i % 4 !== 0 && i !== 7) continue;
    const doc = keyPackageDocument(author, { keyPackage: changed });
    const reference = await verdictAsync(async () => {
      const info = keyPackageInfo(changed);
      checkKeyPackageDocument(doc, info);
      checkKeyPackageLifetime(info);
    });
    assert.equal(await verdictAsync(() => keyPackagesFromDocuments([doc.bytes])), reference, `document, byte ${i}`);
  }
  assert.ok(refused > 0, "some changes are refused");
  assert.equal(verdict(() => checkAddableKeyPackage(keyPackage)), verdict(() => keyPackageInfo(keyPackage)));
});
