import assert from "node:assert/strict";
import { test } from "node:test";
import type { SecretGroupCommit } from "../src/commit.js";
import { decodeDocument, signDocument } from "../src/documents/document.js";
import type { SignedDocument } from "../src/documents/document.js";
import {
  checkCommitAuthor, checkCommitChain, checkCommitDocument, checkCommitSender, checkKeyPackageDocument,
} from "../src/documents/rules.js";
import { MAX_KEY_PACKAGE_SIZE, SchemaId, isSystemSchema } from "../src/documents/schema.js";
import {
  keyPackageDeletionDocument, keyPackageDocument, readKeyPackage, readKeyPackageDeletion, readSecretGroup,
  readSecretGroupCommit, secretGroupCommitDocument, secretGroupDocument,
} from "../src/documents/system.js";
import { ErrorCode, UsageError, ValidationError } from "../src/errors.js";
import { idOf, identityFromByte, payloadOf, rawDocument } from "./documents-support.js";

const owner = identityFromByte(1);
const member = identityFromByte(2);
const stranger = identityFromByte(3);

const commitValue: SecretGroupCommit = {
  mlsCommit: new Uint8Array([0, 1, 0, 1, 9, 9, 9]),
  mlsWelcome: new Uint8Array([0, 1, 0, 3, 7]),
  encryptedSecrets: new Uint8Array([1, 0, 1, 0, 2, 5, 5]),
};

function expectCode(fn: () => unknown, code: string, message?: string): void {
  assert.throws(fn, (e: unknown) => e instanceof ValidationError && e.code === code, message ?? `expected ${code}`);
}

function roundTrip(doc: SignedDocument): SignedDocument {
  const back = decodeDocument(doc.bytes);
  assert.deepEqual(back.id, doc.id);
  assert.equal(back.schema, doc.schema);
  return back;
}

test("schema names: the four system schemas, everything else is an application schema", () => {
  assert.deepEqual(Object.values(SchemaId).sort(), ["key_package_deletion_v1", "key_package_v1", "secret_group_commit_v1", "secret_group_v1"]);
  for (const s of Object.values(SchemaId)) assert.ok(isSystemSchema(s));
  assert.equal(isSystemSchema("secret_group_v2"), false);
});

test("secret_group_v1 round trip for every ciphersuite", () => {
  for (const ciphersuite of ["PANDA10_AES128GCM", "PANDA10_AES256GCM", "PANDA10_CHACHA20POLY1305"] as const) {
    const back = roundTrip(secretGroupDocument(owner, { ciphersuite }));
    assert.deepEqual(readSecretGroup(back), { ciphersuite });
  }
});

test("key_package_v1 round trip with and without previous", () => {
  const first = roundTrip(keyPackageDocument(member, { keyPackage: new Uint8Array([1, 2, 3]) }));
  assert.deepEqual(readKeyPackage(first), { keyPackage: new Uint8Array([1, 2, 3]) });
  assert.equal("previousKeyPackage" in readKeyPackage(first), false);
  const second = roundTrip(keyPackageDocument(member, { keyPackage: new Uint8Array([4]), previousKeyPackage: first.id }));
  assert.deepEqual(readKeyPackage(second), { keyPackage: new Uint8Array([4]), previousKeyPackage: first.id });
});

test("key_package_deletion_v1 round trip", () => {
  const back = roundTrip(keyPackageDeletionDocument(member, { keyPackage: idOf(9) }));
  assert.deepEqual(readKeyPackageDeletion(back), { keyPackage: idOf(9) });
});

test("secret_group_commit_v1 round trip with and without welcome and previous commit", () => {
  const group = secretGroupDocument(owner, { ciphersuite: "PANDA10_AES128GCM" });
  const first = roundTrip(secretGroupCommitDocument(owner, { secretGroup: group.id, commit: commitValue }));
  assert.deepEqual(readSecretGroupCommit(first), { secretGroup: group.id, commit: commitValue });
  const noWelcome: SecretGroupCommit = { mlsCommit: commitValue.mlsCommit, encryptedSecrets: commitValue.encryptedSecrets };
  const second = roundTrip(secretGroupCommitDocument(owner, { secretGroup: group.id, previousCommit: first.id, commit: noWelcome }));
  const read = readSecretGroupCommit(second);
  assert.deepEqual(read, { secretGroup: group.id, previousCommit: first.id, commit: noWelcome });
  assert.equal("mlsWelcome" in read.commit, false);
});

test("readers refuse documents of another schema", () => {
  const group = secretGroupDocument(owner, { ciphersuite: "PANDA10_AES128GCM" });
  const app = signDocument(owner, "chat_v1", { lts_ciphersuite: "PANDA10_AES128GCM" });
  expectCode(() => readSecretGroup(app), ErrorCode.InvalidDocument);
  expectCode(() => readKeyPackage(group), ErrorCode.InvalidDocument);
  expectCode(() => readKeyPackageDeletion(group), ErrorCode.InvalidDocument);
  expectCode(() => readSecretGroupCommit(group), ErrorCode.InvalidDocument);
});

test("system schema field rules: decode refuses wrong, missing, extra and null fields", () => {
  const commitFields = {
    secret_group: idOf(1), mls_commit_message: new Uint8Array([1]), encrypted_long_term_secrets: new Uint8Array([1, 2]),
  };
  const bad: Array<[string, string, Record<string, unknown>]> = [
    ["unknown ciphersuite", "secret_group_v1", { lts_ciphersuite: "PANDA10_AES512" }],
    ["ciphersuite as number", "secret_group_v1", { lts_ciphersuite: 1 }],
    ["missing ciphersuite", "secret_group_v1", {}],
    ["extra field", "secret_group_v1", { lts_ciphersuite: "PANDA10_AES128GCM", note: "x" }],
    ["inherited name", "secret_group_v1", { lts_ciphersuite: "tostring" }],
    ["missing key package", "key_package_v1", {}],
    ["empty key package", "key_package_v1", { mls_key_package: new Uint8Array(0) }],
    ["key package as string", "key_package_v1", { mls_key_package: "00" }],
    ["huge key package", "key_package_v1", { mls_key_package: new Uint8Array(MAX_KEY_PACKAGE_SIZE + 1) }],
    ["short previous", "key_package_v1", { mls_key_package: new Uint8Array([1]), previous_key_package: new Uint8Array(31) }],
    ["null previous", "key_package_v1", { mls_key_package: new Uint8Array([1]), previous_key_package: null }],
    ["deletion without id", "key_package_deletion_v1", {}],
    ["deletion long id", "key_package_deletion_v1", { key_package: new Uint8Array(33) }],
    ["commit missing group", "secret_group_commit_v1", { ...commitFields, secret_group: undefined }],
    ["commit group as string", "secret_group_commit_v1", { ...commitFields, secret_group: "ab".repeat(32) }],
    ["commit empty mls message", "secret_group_commit_v1", { ...commitFields, mls_commit_message: new Uint8Array(0) }],
    ["commit secrets type 2", "secret_group_commit_v1", { ...commitFields, encrypted_long_term_secrets: new Uint8Array([2, 1]) }],
    ["commit secrets type only", "secret_group_commit_v1", { ...commitFields, encrypted_long_term_secrets: new Uint8Array([1]) }],
    ["commit null welcome", "secret_group_commit_v1", { ...commitFields, mls_welcome_message: null }],
    ["commit welcome as bool", "secret_group_commit_v1", { ...commitFields, mls_welcome_message: true }],
    ["commit short previous", "secret_group_commit_v1", { ...commitFields, previous_commit: new Uint8Array(1) }],
  ];
  for (const [name, schema, fields] of bad) {
    const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    expectCode(() => decodeDocument(rawDocument(owner, payloadOf(owner, schema, clean))), ErrorCode.InvalidDocument, name);
    assert.throws(() => signDocument(owner, schema, clean as never), UsageError, name);
  }
  // The same fields are fine in an application schema (free fields), except value types.
  assert.ok(decodeDocument(rawDocument(owner, payloadOf(owner, "notes_v1", { lts_ciphersuite: "PANDA10_AES512", note: "x" }))));
  assert.ok(decodeDocument(rawDocument(owner, payloadOf(owner, SchemaId.SecretGroupCommit, commitFields))));
});

test("builders refuse bad input with a usage error", () => {
  assert.throws(() => secretGroupDocument(owner, { ciphersuite: "NOPE" as never }), UsageError);
  assert.throws(() => keyPackageDocument(owner, { keyPackage: new Uint8Array(0) }), UsageError);
  assert.throws(() => keyPackageDeletionDocument(owner, { keyPackage: new Uint8Array(5) }), UsageError);
  assert.throws(() => secretGroupCommitDocument(owner, { secretGroup: idOf(1), commit: { ...commitValue, encryptedSecrets: new Uint8Array([2, 0]) } }), UsageError);
});

test("rules: only the group owner's commits for this group pass", () => {
  const group = secretGroupDocument(owner, { ciphersuite: "PANDA10_AES256GCM" });
  const other = secretGroupDocument(owner, { ciphersuite: "PANDA10_AES128GCM" }, { timestamp: 1 });
  const commit = secretGroupCommitDocument(owner, { secretGroup: group.id, commit: commitValue });
  checkCommitDocument(group, commit);
  expectCode(() => checkCommitDocument(other, commit), ErrorCode.WrongGroup);
  const forged = secretGroupCommitDocument(stranger, { secretGroup: group.id, commit: commitValue });
  expectCode(() => checkCommitDocument(group, forged), ErrorCode.ForgedSender);
  expectCode(() => checkCommitDocument(commit, commit), ErrorCode.InvalidDocument);
  checkCommitSender(group, owner.publicKey);
  expectCode(() => checkCommitSender(group, member.publicKey), ErrorCode.ForgedSender);
  expectCode(() => checkCommitSender(group, undefined), ErrorCode.ForgedSender);
  // what a node kept of the group document serves as well
  checkCommitDocument({ id: group.id, author: group.author, schema: group.schema }, commit);
  expectCode(() => checkCommitAuthor(group.author, stranger.publicKey), ErrorCode.ForgedSender);
});

test("rules: commit chain", () => {
  const group = secretGroupDocument(owner, { ciphersuite: "PANDA10_AES256GCM" });
  const first = secretGroupCommitDocument(owner, { secretGroup: group.id, commit: commitValue });
  const second = secretGroupCommitDocument(owner, { secretGroup: group.id, previousCommit: first.id, commit: commitValue });
  checkCommitChain(readSecretGroupCommit(second), first.id);
  checkCommitChain(readSecretGroupCommit(first), undefined);
  expectCode(() => checkCommitChain(readSecretGroupCommit(first), second.id), ErrorCode.InvalidCommit);
  expectCode(() => checkCommitChain(readSecretGroupCommit(second), undefined), ErrorCode.InvalidCommit);
  expectCode(() => checkCommitChain(readSecretGroupCommit(second), second.id), ErrorCode.InvalidCommit);
});

test("rules: key package credential", () => {
  const kp = keyPackageDocument(member, { keyPackage: new Uint8Array([1]) });
  checkKeyPackageDocument(kp, { publicKey: member.publicKey });
  expectCode(() => checkKeyPackageDocument(kp, { publicKey: stranger.publicKey }), ErrorCode.InvalidKeyPackage);
});

