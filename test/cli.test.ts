/**
 * The `secret-group` program as a user runs it: the main job end to end (small sizes), ingest
 * and inspect in an empty folder, and one-line errors with a non-zero exit for bad input.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { toHex } from "../src/bytes.js";
import { StreamFormat, readDocumentStream, writeDocumentStream } from "../src/cli/documentStream.js";
import type { SimulationSummary } from "../src/cli/simulate.js";
import { checkSimulation, emptyReadTally, simulationProblems, tallyRead } from "../src/cli/simulationCheck.js";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { generateIdentity } from "../src/identity.js";
import { readIdentityFile } from "../src/cli/identityFile.js";
import { signDocument } from "../src/documents/index.js";
import { tempDir } from "./engine-helpers.js";

const MAIN = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const run = async (args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};
const oneLineError = (stderr: string): void => {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] as string, /^secret-group: /);
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
};

test("the main job checks itself: every plaintext right, every member reads, no one else does, every node indexed every commit", async () => {
  const dir = await tempDir();
  try {
    // through the command line, as `npm start` runs it
    const r = await run(["simulate", "--data", dir.path, "--identities", "4", "--groups", "2", "--members", "2", "--messages", "2", "--seed", "7", "--threads", "1", "--json"], dir.path);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as SimulationSummary;
    assert.equal(s.mismatched, 0);
    assert.equal(s.refused, 0);
    assert.equal(s.leaked, 0);
    assert.equal(s.indexedCommits, s.commits);
    assert.ok(s.commits >= 2 * 4, "each group: add, late add or remove, update, rotate");
    const lt = s.schemes["long-term"];
    const sr = s.schemes["sender-ratchet"];
    // nobody called decrypt: every operation the protocol lets a node read was materialised
    for (const t of [lt, sr]) {
      assert.equal(t.missing, 0, JSON.stringify(t.missingBy));
      assert.equal(t.read, t.readable);
      assert.ok(t.read > 0);
    }
    // late joiners read long-term history but never earlier sender-ratchet operations
    assert.ok((sr.unreadable["joined later"] ?? 0) > 0, JSON.stringify(sr.unreadable));
    assert.equal(lt.unreadable["joined later"] ?? 0, 0);
    // 4 identities, 3 per group: someone is outside each group
    assert.ok((lt.unreadable["not a member"] ?? 0) > 0, JSON.stringify(lt.unreadable));
    assert.deepEqual(Object.keys({ ...lt.unreadable, ...sr.unreadable }).filter((r) => !["not a member", "joined later", "removed"].includes(r)), []);
    const total = (t: typeof lt) => t.read + Object.values(t.unreadable).reduce((a, b) => a + b, 0);
    assert.equal(total(lt) + total(sr), 4 * (s.messages["long-term"] + s.messages["sender-ratchet"]), "every node holds every operation");
  } finally {
    await dir.cleanup();
  }
});

test("the simulation's verdict: a readable operation not read, a read by a non-member, a wrong value fail the run", () => {
  const tally = emptyReadTally();
  const lt = { scheme: "long-term" as const, written: "w" };
  tallyRead(tally, { ...lt, expected: true, read: "w" });
  tallyRead(tally, { ...lt, expected: false, code: "PENDING" }); // outside the group: not a member
  tallyRead(tally, { ...lt, expected: false, code: "NOT_MEMBER" });
  tallyRead(tally, { ...lt, expected: false, code: "UNKNOWN_EPOCH" });
  const passing = { ...tally, commits: 3, indexedCommits: 3 };
  assert.deepEqual(passing.schemes["long-term"].unreadable, { "not a member": 1, removed: 1, "joined later": 1 });
  assert.deepEqual(simulationProblems(passing), []);
  checkSimulation(passing);
  // broken long-term decryption: members get DECRYPTION_FAILED
  const broken = structuredClone(passing);
  tallyRead(broken, { ...lt, expected: true, code: "DECRYPTION_FAILED" });
  assert.deepEqual(broken.schemes["long-term"].missingBy, { DECRYPTION_FAILED: 1 });
  assert.throws(() => checkSimulation(broken), (e: Error & { code?: string }) => e.code === "INTERNAL" && /1 long-term operations readable by the protocol were not read \(DECRYPTION_FAILED 1\)/.test(e.message) && !e.message.includes("\n"));
  const cases: Array<[string, (t: typeof passing) => void, RegExp]> = [
    ["pending member", (t) => tallyRead(t, { ...lt, expected: true, code: "PENDING" }), /were not read \(PENDING 1\)/],
    ["leak", (t) => tallyRead(t, { ...lt, expected: false, read: "w" }), /not members/],
    ["wrong value", (t) => tallyRead(t, { ...lt, expected: true, read: "x" }), /wrong values/],
    ["missed commit", (t) => void (t.indexedCommits = 2), /indexed 2 of 3/],
  ];
  for (const [name, spoil, message] of cases) {
    const t = structuredClone(passing);
    spoil(t);
    assert.throws(() => checkSimulation(t), message, name);
  }
});

test("document streams: CBOR sequence and base64 lines are told apart and round-trip", () => {
  // documents are never empty, so an empty base64 line is just a blank line
  const docs = [new Uint8Array([1, 2, 3]), new Uint8Array(300).fill(9), new Uint8Array(70000).fill(1)];
  for (const format of [StreamFormat.CborSequence, StreamFormat.Base64Lines]) {
    assert.deepEqual(readDocumentStream(writeDocumentStream(docs, format)).map(toHex), docs.map(toHex));
  }
  assert.throws(() => readDocumentStream(new Uint8Array([0xa1, 0x01])), { code: "DECODE_ERROR" });
});

test("ingest and inspect work in an empty folder; bad input is one line and a non-zero exit", async () => {
  const cwd = await mkdtemp(join(tmpdir(), "sg-cli-"));
  const owner = await tempDir();
  try {
    // documents from another node: a group and an operation nobody here can read
    const identity = generateIdentity();
    const engine = await SecretGroupEngine.open({ path: owner.path, identity, threads: 1 });
    const { groupId, documents } = await engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const operation = signDocument(identity, "note_v1", await engine.encryptFields(groupId as Uint8Array, { body: "secret", n: 1 }, { scheme: "long-term", schema: "note_v1", names: ["body"] }));
    await engine.close();
    await writeFile(join(cwd, "docs.b64"), writeDocumentStream([...documents, operation.bytes], StreamFormat.Base64Lines));

    const ingested = await run(["ingest", "docs.b64", "--json"], cwd);
    assert.equal(ingested.code, 0, ingested.stderr);
    assert.deepEqual(JSON.parse(ingested.stdout), { documents: 2, applied: 1, pending: 1, refused: [] });
    assert.match(await readFile(join(cwd, "data", "identity.json"), "utf8"), /"publicKey"/);
    const again = await run(["ingest", "docs.b64", "--json"], cwd);
    assert.equal(JSON.parse(again.stdout).duplicate, 2);
    const shown = await run(["inspect", "--operation", toHex(operation.id), "--json"], cwd);
    assert.equal(shown.code, 0, shown.stderr);
    const view = JSON.parse(shown.stdout) as { groupId: string; pending: string[]; fields: { n: number } };
    assert.deepEqual([view.groupId, view.pending, view.fields.n], [toHex(groupId as Uint8Array), ["body"], 1], "not a member here: pending, plain fields shown");
    const table = await run(["inspect", "--operation", toHex(operation.id)], cwd);
    assert.match(table.stdout, /field body .*pending/);

    const inspected = await run(["inspect", "--json"], cwd);
    assert.equal(inspected.code, 0, inspected.stderr);
    const groups = JSON.parse(inspected.stdout) as { groupId: string; status: string }[];
    assert.deepEqual(groups.map((g) => [g.groupId, g.status]), [[toHex(groupId as Uint8Array), "awaiting-welcome"]]);

    oneLineError((await run(["ingest", "missing.cbor"], cwd)).stderr);
    await writeFile(join(cwd, "corrupt.cbor"), new Uint8Array([0x59, 0xff, 0xff, 1, 2]));
    const corrupt = await run(["ingest", "corrupt.cbor"], cwd);
    assert.notEqual(corrupt.code, 0);
    oneLineError(corrupt.stderr);
    await writeFile(join(cwd, "bad-identity.json"), "{ not json");
    const badIdentity = await run(["ingest", "docs.b64", "--identity", "bad-identity.json"], cwd);
    assert.notEqual(badIdentity.code, 0);
    oneLineError(badIdentity.stderr);
    const unknownGroup = await run(["inspect", "ab".repeat(32)], cwd);
    assert.notEqual(unknownGroup.code, 0);
    oneLineError(unknownGroup.stderr);

    // what this node created (a key package, by the library on the same folder) waits in the
    // outbox until written out with --acknowledge
    const node = await SecretGroupEngine.open({ path: join(cwd, "data", "db"), identity: await readIdentityFile(join(cwd, "data", "identity.json")), threads: 1 });
    const kp = (await node.publishKeyPackage()).documents;
    await node.close();
    const listed = await run(["outbox", "--json"], cwd);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).documents.map((d: { schema: string }) => d.schema), ["key_package_v1"]);
    const written = await run(["outbox", "--out", "publish.b64", "--acknowledge"], cwd);
    assert.equal(written.code, 0, written.stderr);
    assert.deepEqual(readDocumentStream(await readFile(join(cwd, "publish.b64"))).map(toHex), kp.map(toHex));
    assert.equal((await run(["outbox"], cwd)).stdout, "");

    const keygen = await run(["keygen", "--out", "data/identity.json"], cwd);
    assert.notEqual(keygen.code, 0, "keygen never overwrites an identity");
    oneLineError(keygen.stderr);
  } finally {
    await rm(cwd, { recursive: true, force: true });
    await owner.cleanup();
  }
});
