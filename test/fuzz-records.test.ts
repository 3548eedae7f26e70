/**
 * Fuzzing of the decoders behind the public ones: the engine's stored records (group record
 * halves, commit and key package records), the member list a pool worker hands back, the incremental MLS state (src/mls/storage.ts parts
 * through src/engine/store/stateCodec.ts, the state head's secrets), the materialisation index
 * records, the MLS wire codecs (src/mls/codec.ts), the key package secret, canonical CBOR and
 * field plaintexts, the command line's document stream, the engine's message header peek and
 * the TLS reader itself. Each case is accepted or refused with a typed error (nothing else may
 * be thrown). Counts scale with FUZZ_SCALE (fuzz-support.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { encrypt, updateGroup } from "../src/group/index.js";
import { decodeSecretGroupMessage, peekMlsPrivateMessage } from "../src/message.js";
import { decodeSecretGroupCommit } from "../src/commit.js";
import { decodeCanonical } from "../src/documents/cbor.js";
import { decodeVerifiedDocument, signDocument } from "../src/documents/document.js";
import { decodeFieldPlaintext, encodeFieldPlaintext } from "../src/documents/fields.js";
import { createKeyPackage, decodeKeyPackageSecret } from "../src/keyPackage.js";
import { generateIdentity } from "../src/identity.js";
import { Writer, decodeAll } from "../src/codec/tls.js";
import { decodeKeyPackageBytes, decodeMlsMessageBytes, decodeMlsState, decodePrivateMessageBytes, decodePublicMessageBytes, decodeWelcomeBytes, encodeMlsState } from "../src/mls/codec.js";
import { parseMlsCommit } from "../src/mls/commit.js";
import { readDocumentStream, writeDocumentStream } from "../src/cli/documentStream.js";
import { peekHeader } from "../src/engine/decrypt.js";
import { decodeCommitRecord, decodeGroupRecord, decodeKeyPackageRecord, encodeColdRecord, encodeCommitRecord, encodeHotRecord, encodeKeyPackageRecord } from "../src/engine/store/records.js";
import type { GroupRecord } from "../src/engine/store/records.js";
import { STATE_HEAD_PART, loadGroupState, secretsOfStateHead, stageGroupState } from "../src/engine/store/stateCodec.js";
import { EventKind, decodeEventRecord, decodeKeyPackageIndexRecord, encodeEventRecord, encodeKeyPackageIndexRecord } from "../src/materialise/keyRecords.js";
import { decodeGroupIndexRecord, decodeGroupIndexValue, decodeHistoryRecord, decodeLeafChunk, decodeSeqRecord, encodeGroupIndexHead, encodeGroupIndexRecord, encodeHistoryRecord, encodeLeafChunk, encodeSeqRecord } from "../src/materialise/chainRecords.js";
import { decodePendingRecord, encodePendingRecord } from "../src/materialise/pendingRecord.js";
import { decodeMemberList, encodeMemberList } from "../src/engine/worker/memberList.js";
import { makeGroup, text } from "./group-fixtures.js";
import { FUZZ_SEED, Outcomes, cases, mutate, prng, typedOutcome } from "./fuzz-support.js";

const id = (b: number): Uint8Array => new Uint8Array(32).fill(b);

interface Target {
  readonly name: string;
  readonly inputs: Uint8Array[];
  readonly decode: (b: Uint8Array) => unknown;
  readonly runs: number;
}

/** Runs every target and prints its count and outcomes; returns the total. */
async function runTargets(seed: number, label: string, targets: readonly Target[]): Promise<void> {
  const r = prng(seed);
  const report: string[] = [];
  let total = 0;
  for (const t of targets) {
    const outcomes = new Outcomes();
    for (let i = 0; i < cases(t.runs); i++) {
      const { kind, bytes } = mutate(r, r.pick(t.inputs), r.pick(t.inputs));
      await typedOutcome(outcomes, `${t.name} case ${i} (${kind})`, () => t.decode(bytes));
    }
    assert.ok(outcomes.total > 0);
    total += outcomes.total;
    report.push(`${t.name} ${outcomes.total} (${outcomes})`);
  }
  console.log(`${label}: ${total} cases: ${report.join("; ")}`);
}

test("fuzz: the engine's stored records and the materialisation index records", async () => {
  const record: GroupRecord = {
    status: "member",
    owner: id(1),
    ciphersuite: "PANDA10_AES256GCM",
    head: id(2),
    mlsEpoch: 7n,
    ltsEpoch: 3n,
    members: [id(1), id(3), id(4)],
    stateToken: id(5).subarray(0, 16),
    nonceReserved: 2048n,
  };
  const cold = encodeColdRecord(record);
  const hot = encodeHotRecord(record);
  const member = { publicKey: id(3), ref: id(9) };
  await runTargets(FUZZ_SEED + 10, "records", [
    { name: "GroupRecord cold", inputs: [cold, encodeColdRecord({ ...record, owner: id(6), members: [] })], decode: (b) => decodeGroupRecord(b), runs: 2500 },
    { name: "GroupRecord hot", inputs: [hot], decode: (b) => decodeGroupRecord(cold, b), runs: 1500 },
    { name: "MemberList", inputs: [encodeMemberList(record.members), encodeMemberList([]), encodeMemberList([new Uint8Array(100).fill(2), id(3)])], decode: decodeMemberList, runs: 1000 },
    {
      name: "CommitRecord",
      inputs: [encodeCommitRecord({ previous: id(2), epoch: 4n, status: "pending", welcome: true }), encodeCommitRecord({ epoch: 0n, status: "applied", welcome: false })],
      decode: decodeCommitRecord,
      runs: 1500,
    },
    { name: "KeyPackageRecord", inputs: [encodeKeyPackageRecord({ docId: id(7), keyPackage: new Uint8Array(300).fill(8), secret: new Uint8Array(70).fill(9) })], decode: decodeKeyPackageRecord, runs: 1000 },
    {
      name: "GroupIndexRecord",
      inputs: [encodeGroupIndexRecord({ owner: id(1), head: id(2), nextEpoch: 5n, count: 5n, leaves: [{ publicKey: id(1) }, undefined, member, { ref: id(10) }] })],
      decode: decodeGroupIndexRecord,
      runs: 1500,
    },
    { name: "GroupIndexHead", inputs: [encodeGroupIndexHead({ owner: id(1), head: id(2), nextEpoch: 5n, count: 5n, leafCount: 4 })], decode: decodeGroupIndexValue, runs: 800 },
    { name: "LeafChunk", inputs: [encodeLeafChunk([{ publicKey: id(1) }, undefined, member, { ref: id(10) }])], decode: decodeLeafChunk, runs: 800 },
    {
      name: "HistoryRecord",
      inputs: [
        encodeHistoryRecord({ commitId: id(2), previousCommit: id(1), epoch: 3n, kind: "add", welcome: true, added: [{ leaf: 2, member }], removed: [{ leaf: 1, member: { publicKey: id(4) } }] }),
      ],
      decode: decodeHistoryRecord,
      runs: 1500,
    },
    { name: "SeqRecord", inputs: [encodeSeqRecord(12n)], decode: decodeSeqRecord, runs: 500 },
    {
      name: "PendingRecord",
      inputs: [encodePendingRecord({ author: id(1), previousCommit: id(2), mlsEpoch: 9n, welcome: true, senderLeaf: 0, refs: [id(9)], addedPublicKeys: [id(3)], removedLeaves: [4, 5] })],
      decode: decodePendingRecord,
      runs: 1500,
    },
    { name: "EventRecord", inputs: [encodeEventRecord({ kind: EventKind.Added, commitId: id(2), welcome: true }), encodeEventRecord({ kind: EventKind.Owner, welcome: false })], decode: decodeEventRecord, runs: 1000 },
    { name: "KeyPackageIndexRecord", inputs: [encodeKeyPackageIndexRecord({ publicKey: id(3), documentId: id(7) })], decode: decodeKeyPackageIndexRecord, runs: 800 },
  ]);
});

test("fuzz: the stored MLS state parts, the MLS wire codecs, key package secrets, CBOR, fields, streams and the TLS reader", async () => {
  const { owner, members } = await makeGroup(2);
  const bob = members[0]!;
  const lt = await encrypt(owner.state, text("long-term"), { scheme: "long-term" });
  const sr = await encrypt(lt.state, text("sender-ratchet"), { scheme: "sender-ratchet" });
  const update = await updateGroup(sr.state, { rotate: true });
  const kp = await createKeyPackage(generateIdentity());
  const added = await (await import("../src/group/index.js")).addMembers(update.state, [kp.keyPackage]);
  const welcome = decodeSecretGroupCommit(added.commit).mlsWelcome as Uint8Array;
  const mlsCommits = [decodeSecretGroupCommit(update.commit).mlsCommit, decodeSecretGroupCommit(added.commit).mlsCommit];
  const srMessage = decodeSecretGroupMessage(sr.message);
  const mlsPrivate = srMessage.type === "mls" ? srMessage.mlsMessage : new Uint8Array(0);
  // the stored state: parts of bob's state; a case mutates one part
  const { parts } = stageGroupState(bob.state, undefined);
  const stored = parts.filter((p): p is readonly [string, Uint8Array] => p[1] !== null);
  const head = stored.find(([k]) => k === STATE_HEAD_PART)?.[1] as Uint8Array;
  let partIndex = 0;
  const partsWith = (bytes: Uint8Array): Array<readonly [string, Uint8Array]> => stored.map((p, i) => (i === partIndex ? ([p[0], bytes] as const) : p));
  const doc = signDocument(generateIdentity(), "chat_v1", { body: "hello", n: 3 });
  const fields = [encodeFieldPlaintext("a field value"), encodeFieldPlaintext(12345), encodeFieldPlaintext(true), encodeFieldPlaintext(new Uint8Array([1, 2, 3]))];
  const streams = [writeDocumentStream([doc.bytes, doc.bytes], "cbor-seq"), writeDocumentStream([doc.bytes], "base64-lines")];
  // a small TLS layout: u8, opaque<V>, vector<V> of u16, optional<opaque<V>>, u64
  const tlsSample = new Writer().u8(1).opaque(new Uint8Array(20).fill(3)).vector([1, 2, 3], (w, x) => void w.u32(x)).optional(new Uint8Array([9]), (w, b) => void w.opaque(b)).u64(77n).bool(true).varint(300).finish();
  const readTls = (b: Uint8Array): unknown =>
    decodeAll(b, "fuzz layout", (r) => ({ a: r.u8(), b: r.opaque(), c: r.vector((x) => x.u32()), d: r.optional((x) => x.opaque()), e: r.u64(), f: r.bool(), g: r.varint() }));
  await runTargets(FUZZ_SEED + 11, "state, MLS and support codecs", [
    {
      name: "stored state part (loadGroupState)",
      inputs: stored.map(([, v]) => v),
      decode: (b) => {
        partIndex = (partIndex + 1) % stored.length;
        return loadGroupState(partsWith(b), 0n);
      },
      runs: 600,
    },
    { name: "state head secrets", inputs: [head], decode: secretsOfStateHead, runs: 1500 },
    { name: "MLS state", inputs: [encodeMlsState(bob.state.mls)], decode: decodeMlsState, runs: 300 },
    { name: "MLSMessage", inputs: [...mlsCommits, welcome, mlsPrivate, kp.keyPackage], decode: (b) => decodeMlsMessageBytes(b, "fuzz"), runs: 2500 },
    { name: "PublicMessage commit facts", inputs: mlsCommits, decode: parseMlsCommit, runs: 1500 },
    { name: "PublicMessage", inputs: mlsCommits, decode: (b) => decodePublicMessageBytes(b, "fuzz"), runs: 1000 },
    { name: "PrivateMessage", inputs: [mlsPrivate], decode: (b) => decodePrivateMessageBytes(b, "fuzz"), runs: 1000 },
    { name: "PrivateMessage header", inputs: [mlsPrivate], decode: peekMlsPrivateMessage, runs: 1000 },
    { name: "Welcome", inputs: [welcome], decode: (b) => decodeWelcomeBytes(b), runs: 800 },
    { name: "KeyPackage (MLS)", inputs: [kp.keyPackage], decode: (b) => decodeKeyPackageBytes(b), runs: 1000 },
    { name: "key package secret", inputs: [kp.secret], decode: decodeKeyPackageSecret, runs: 1500 },
    { name: "engine message header", inputs: [lt.message, sr.message], decode: peekHeader, runs: 1500 },
    { name: "canonical CBOR", inputs: [doc.bytes], decode: decodeCanonical, runs: 2000 },
    { name: "stored document (no signature check)", inputs: [doc.bytes], decode: decodeVerifiedDocument, runs: 1500 },
    { name: "field plaintext", inputs: fields, decode: decodeFieldPlaintext, runs: 1500 },
    { name: "document stream", inputs: streams, decode: readDocumentStream, runs: 1000 },
    { name: "TLS reader", inputs: [tlsSample], decode: readTls, runs: 2000 },
  ]);
});
