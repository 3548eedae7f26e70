/**
 * Documents a node stored after verifying them are read back without a second signature
 * check (`decodeVerifiedDocument`, used by the engine's drain); every other rule still holds.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { toHex } from "../src/bytes.js";
import { decodeDocument, decodeVerifiedDocument, signDocument } from "../src/documents/document.js";
import { DecodeError, ErrorCode, UsageError, ValidationError } from "../src/errors.js";
import { identityFromByte, payloadOf, rawDocument } from "./documents-support.js";

test("a stored document decodes without its signature check, and only that check is skipped", () => {
  const alice = identityFromByte(1);
  const mallory = identityFromByte(2);
  const good = signDocument(alice, "post_v1", { title: "hi" });
  assert.equal(toHex(decodeVerifiedDocument(good.bytes).id), toHex(good.id));
  // signed by someone else than its author: refused from the network, read as is from our store
  const forged = rawDocument(alice, payloadOf(alice, "post_v1", { title: "hi" }), mallory);
  assert.throws(() => decodeDocument(forged), (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.InvalidSignature);
  assert.equal(decodeVerifiedDocument(forged).fields["title"], "hi");
  // the other rules still apply
  assert.throws(() => decodeVerifiedDocument(new Uint8Array([1, 2, 3])), DecodeError);
  const badFields = rawDocument(alice, payloadOf(alice, "secret_group_v1", { lts_ciphersuite: "NOPE" }));
  assert.throws(() => decodeVerifiedDocument(badFields), (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.InvalidDocument);
});

test("a stored document decoded with the id it is stored under takes that id (not hashed again); the rules still apply", () => {
  const alice = identityFromByte(1);
  const good = signDocument(alice, "post_v1", { title: "hi" });
  const given = Uint8Array.from(good.id);
  const doc = decodeVerifiedDocument(good.bytes, given);
  assert.equal(toHex(doc.id), toHex(good.id));
  given.fill(0); // the document keeps its own copy
  assert.equal(toHex(doc.id), toHex(good.id));
  // the id is the store's word: what it is given is what the document carries
  assert.equal(toHex(decodeVerifiedDocument(good.bytes, new Uint8Array(32).fill(7)).id), "07".repeat(32));
  assert.throws(() => decodeVerifiedDocument(good.bytes, new Uint8Array(31)), (e: unknown) => e instanceof UsageError && e.code === ErrorCode.InvalidArgument);
  const badFields = rawDocument(alice, payloadOf(alice, "secret_group_v1", { lts_ciphersuite: "NOPE" }));
  assert.throws(() => decodeVerifiedDocument(badFields, good.id), (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.InvalidDocument);
});
