/**
 * The materialisation index on real commits, as a node that is not a member sees them: the
 * replayed leaf map matches the owner's true membership at every epoch, in any arrival order,
 * with key package documents arriving before or after; the queries' shapes; refusals.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { equalBytes, toHex } from "../src/bytes.js";
import { ValidationError } from "../src/errors.js";
import { secretGroupCommitDocument } from "../src/documents/system.js";
import { readSecretGroupCommit } from "../src/documents/system.js";
import type { SignedDocument } from "../src/documents/document.js";
import type { Identity } from "../src/identity.js";
import { groupsOf, history, indexCommit, indexGroup, indexKeyPackage, indexedGroup, welcomeFor } from "../src/materialise/index.js";
import type { HistoryEntry, IndexReader } from "../src/materialise/index.js";
import { buildScenario, openTempIndex, shuffled } from "./materialise-support.js";
import type { Scenario, TempIndex } from "./materialise-support.js";

let s: Scenario;
const open: TempIndex[] = [];
before(async () => {
  s = await buildScenario();
});
after(async () => {
  for (const idx of open) await idx.close();
});

async function fresh(): Promise<TempIndex> {
  const idx = await openTempIndex();
  open.push(idx);
  return idx;
}
const hexes = (list: readonly Uint8Array[]): string[] => list.map(toHex);
const key = (n: string): Uint8Array => (s.people[n] as Identity).publicKey;

async function membersOf(reader: IndexReader): Promise<string[]> {
  const g = await indexedGroup(reader, s.groupDoc.id);
  assert.ok(g !== undefined);
  return g.members.map((m) => (m.publicKey === undefined ? `ref:${toHex(m.ref as Uint8Array)}` : toHex(m.publicKey)));
}

/** Feeds a commit; `refsOnly` hides the Add proposals' keys, as from a commit inspector that reads only the Welcome. */
async function feedCommit(idx: TempIndex, doc: SignedDocument, refsOnly = false): Promise<string> {
  const c = s.commits.find((x) => equalBytes(x.doc.id, doc.id));
  assert.ok(c !== undefined);
  const { addedPublicKeys, ...withoutKeys } = c.facts;
  assert.equal(addedPublicKeys?.length, c.facts.addedKeyPackageRefs.length, "inspectCommit reads the added keys");
  const r = await indexCommit(idx.reader, doc, refsOnly ? withoutKeys : c.facts);
  await idx.apply(r.ops);
  return r.outcome;
}

test("in chain order the replayed membership equals groupMembers at every epoch", async () => {
  const idx = await fresh();
  for (const d of Object.values(s.keyPackageDocs)) await idx.apply(indexKeyPackage(d));
  await idx.apply((await indexGroup(idx.reader, s.groupDoc)).ops);
  assert.deepEqual(await membersOf(idx.reader), [toHex(s.owner.publicKey)]);
  for (const c of s.commits) {
    const r = await indexCommit(idx.reader, c.doc, c.facts);
    assert.equal(r.outcome, "indexed", c.label);
    assert.equal(r.indexed.length, 1);
    if (c.label === "add d") assert.deepEqual(r.indexed[0]?.added.map((a) => a.leaf), [2], "d reuses b's middle leaf");
    if (c.label === "add e f") assert.deepEqual(r.indexed[0]?.added.map((a) => a.leaf), [1, 2]);
    await idx.apply(r.ops);
    assert.deepEqual(await membersOf(idx.reader), hexes(c.members), `members after ${c.label}`);
    const g = await indexedGroup(idx.reader, s.groupDoc.id);
    assert.equal(g?.epoch, c.epoch, `epoch after ${c.label}`);
    assert.ok(g?.head !== undefined && equalBytes(g.head, c.doc.id));
  }
  // the middle leaf freed by b is reused by d
  const removeB = s.commits[2]?.facts;
  const addD = (await history(idx.reader, s.groupDoc.id))[3];
  assert.deepEqual(removeB?.removedLeaves, [2]);
  assert.deepEqual(hexes(addD?.added ?? []), [toHex(key("d"))]);
  assert.equal(s.commits[3]?.members.findIndex((m) => equalBytes(m, key("d"))), 2);
  // a duplicate changes nothing
  const again = await indexCommit(idx.reader, s.commits[0]!.doc, s.commits[0]!.facts);
  assert.equal(again.outcome, "duplicate");
  assert.deepEqual(again.ops, []);
});

function expectedHistory(): Array<Pick<HistoryEntry, "kind" | "epoch" | "added" | "removed">> {
  const k = (...n: string[]): Uint8Array[] => n.map(key);
  return [
    { kind: "add", epoch: 1n, added: k("a", "b", "c"), removed: [] },
    { kind: "update", epoch: 2n, added: [], removed: [] },
    { kind: "remove", epoch: 3n, added: [], removed: k("b") },
    { kind: "add", epoch: 4n, added: k("d"), removed: [] },
    { kind: "remove", epoch: 5n, added: [], removed: k("a", "d") },
    { kind: "add", epoch: 6n, added: k("e", "f"), removed: [] },
    { kind: "update", epoch: 7n, added: [], removed: [] },
    { kind: "remove", epoch: 8n, added: [], removed: k("c") },
    { kind: "add", epoch: 9n, added: k("b"), removed: [] },
  ];
}

function checkHistory(h: HistoryEntry[]): void {
  const want = expectedHistory();
  assert.equal(h.length, want.length);
  h.forEach((e, i) => {
    const w = want[i]!;
    const c = s.commits[i]!;
    assert.equal(e.kind, w.kind, c.label);
    assert.equal(e.epoch, w.epoch, c.label);
    assert.deepEqual(hexes(e.added), hexes(w.added), c.label);
    assert.deepEqual(hexes(e.removed), hexes(w.removed), c.label);
    assert.deepEqual(e.unresolved, { added: [], removed: [] });
    assert.ok(equalBytes(e.commitId, c.doc.id));
    assert.equal(e.welcome, w.kind === "add");
    const prev = readSecretGroupCommit(c.doc).previousCommit;
    assert.equal(e.previousCommit === undefined ? undefined : toHex(e.previousCommit), prev === undefined ? undefined : toHex(prev));
  });
}

test("any arrival order (group document last, key packages after the commits) gives the same index", async () => {
  for (const seed of [3, 17, 91]) {
    const idx = await fresh();
    const outcomes: string[] = [];
    for (const c of shuffled(s.commits, seed)) outcomes.push(await feedCommit(idx, c.doc, true));
    assert.ok(outcomes.every((o) => o === "pending"), "nothing indexes before the owner is known");
    assert.deepEqual(await history(idx.reader, s.groupDoc.id), []);
    const g = await indexGroup(idx.reader, s.groupDoc);
    assert.equal(g.indexed.length, s.commits.length);
    await idx.apply(g.ops);
    // before the key packages arrive, added members are known by their KeyPackageRefs only
    const early = await history(idx.reader, s.groupDoc.id);
    assert.equal(early[0]?.added.length, 0);
    assert.equal(early[0]?.unresolved.added.length, 3);
    assert.equal(early[2]?.unresolved.removed.length, 1);
    assert.equal((await membersOf(idx.reader)).filter((m) => m.startsWith("ref:")).length, 3);
    for (const d of shuffled(Object.values(s.keyPackageDocs), seed)) await idx.apply(indexKeyPackage(d));
    checkHistory(await history(idx.reader, s.groupDoc.id));
    assert.deepEqual(await membersOf(idx.reader), hexes(s.commits.at(-1)!.members));
    assert.equal((await indexGroup(idx.reader, s.groupDoc)).outcome, "duplicate");
  }
});

test("with the Add proposals' keys, added members are known before any key package document", async () => {
  const idx = await fresh();
  await idx.apply((await indexGroup(idx.reader, s.groupDoc)).ops);
  for (const c of s.commits) assert.equal(await feedCommit(idx, c.doc), "indexed", c.label);
  checkHistory(await history(idx.reader, s.groupDoc.id));
  assert.deepEqual(await membersOf(idx.reader), hexes(s.commits.at(-1)!.members));
});

test("groupsOf and welcomeFor: added, removed, re-added, owner; documents come from the caller", async () => {
  const idx = await fresh();
  await idx.apply((await indexGroup(idx.reader, s.groupDoc)).ops);
  // b's first key package is known up front, its second only after the commits
  await idx.apply(indexKeyPackage(s.keyPackageDocs["b"]!));
  for (const c of s.commits) await feedCommit(idx, c.doc, true);
  const docs = new Map(s.commits.map((c) => [toHex(c.doc.id), c.doc]));
  const load = (id: Uint8Array): SignedDocument | undefined => docs.get(toHex(id));
  const id = (i: number): string => toHex(s.commits[i]!.doc.id);

  let b = await groupsOf(idx.reader, key("b"));
  assert.equal(b.length, 1);
  assert.deepEqual({ owner: b[0]!.owner, added: hexes(b[0]!.added), removed: hexes(b[0]!.removed) }, { owner: false, added: [id(0)], removed: [id(2)] });
  assert.equal(toHex((await welcomeFor(idx.reader, key("b"), s.groupDoc.id, load))!.commitId), id(0));
  await idx.apply(indexKeyPackage(s.keyPackageDocs["b2"]!));
  b = await groupsOf(idx.reader, key("b"));
  assert.deepEqual(hexes(b[0]!.added), [id(0), id(8)]);
  const w = await welcomeFor(idx.reader, key("b"), s.groupDoc.id, load);
  assert.ok(w !== null && toHex(w.commitId) === id(8) && w.document === docs.get(id(8)));

  const owner = await groupsOf(idx.reader, s.owner.publicKey);
  assert.deepEqual(owner.map((g) => [toHex(g.groupId), g.owner, g.added.length, g.removed.length]), [[toHex(s.groupDoc.id), true, 0, 0]]);
  // a key never added: no groups, no welcome; a welcome whose document is gone is skipped
  assert.deepEqual(await groupsOf(idx.reader, new Uint8Array(32).fill(3)), []);
  assert.equal(await welcomeFor(idx.reader, s.owner.publicKey, s.groupDoc.id, load), null);
  assert.equal(await welcomeFor(idx.reader, key("b"), new Uint8Array(32), load), null);
  const partial = await welcomeFor(idx.reader, key("b"), s.groupDoc.id, (cid) => (toHex(cid) === id(8) ? undefined : load(cid)));
  assert.equal(toHex(partial!.commitId), id(0));
  // c: added at 0, removed at 7 (its ref resolves once its key package arrives)
  assert.deepEqual(await groupsOf(idx.reader, key("c")), []);
  await idx.apply(indexKeyPackage(s.keyPackageDocs["c"]!));
  const c = await groupsOf(idx.reader, key("c"));
  assert.deepEqual([hexes(c[0]!.added), hexes(c[0]!.removed)], [[id(0)], [id(7)]]);
});

test("a keyed member's events are stored under its key only (no r/ copy), and every query answers as from its refs", async () => {
  const byKeys = await fresh();
  const byRefs = await fresh();
  for (const idx of [byKeys, byRefs]) await idx.apply((await indexGroup(idx.reader, s.groupDoc)).ops);
  for (const d of Object.values(s.keyPackageDocs)) await byKeys.apply(indexKeyPackage(d));
  for (const c of s.commits) {
    const r = await indexCommit(byKeys.reader, c.doc, c.facts);
    assert.deepEqual(r.ops.filter((op) => op.key.startsWith("r/")), [], c.label);
    await byKeys.apply(r.ops);
    assert.equal(await feedCommit(byRefs, c.doc, true), "indexed", c.label);
  }
  // the other index knows the added members by their refs alone, resolved when reading
  for (const d of Object.values(s.keyPackageDocs)) await byRefs.apply(indexKeyPackage(d));
  const docs = new Map(s.commits.map((c) => [toHex(c.doc.id), c.doc]));
  const load = (id: Uint8Array): SignedDocument | undefined => docs.get(toHex(id));
  for (const [name, person] of Object.entries(s.people)) {
    const [k, r] = await Promise.all([byKeys, byRefs].map((idx) => groupsOf(idx.reader, person.publicKey)));
    assert.deepEqual(k, r, name);
    const [wk, wr] = await Promise.all([byKeys, byRefs].map((idx) => welcomeFor(idx.reader, person.publicKey, s.groupDoc.id, load)));
    assert.deepEqual(wk?.commitId, wr?.commitId, name);
  }
});

test("forged, out-of-epoch and impossible commits are refused; their successors stay pending", async () => {
  const idx = await fresh();
  await idx.apply((await indexGroup(idx.reader, s.groupDoc)).ops);
  const first = s.commits[0]!;
  const forged = secretGroupCommitDocument(s.people["a"]!, { secretGroup: s.groupDoc.id, commit: readSecretGroupCommit(first.doc).commit }, { timestamp: 99 });
  const r1 = await indexCommit(idx.reader, forged, first.facts);
  assert.equal(r1.outcome, "refused");
  assert.match(r1.reason ?? "", /owner/);
  await idx.apply(r1.ops);
  // the same document with facts claiming a later epoch
  const r2 = await indexCommit(idx.reader, first.doc, { ...first.facts, mlsEpoch: 5n });
  assert.equal(r2.outcome, "refused");
  await idx.apply(r2.ops);
  // removing a blank leaf, or a sender leaf that is not the owner's
  const r3 = await indexCommit(idx.reader, first.doc, { ...first.facts, removedLeaves: [4] });
  assert.equal(r3.outcome, "refused");
  const r4 = await indexCommit(idx.reader, first.doc, { ...first.facts, senderLeafIndex: 1 });
  assert.equal(r4.outcome, "refused");
  assert.equal((await indexedGroup(idx.reader, s.groupDoc.id))?.commits, 0n);
  // a successor of a refused commit waits; the genuine commit then lets the chain continue
  assert.equal(await feedCommit(idx, s.commits[1]!.doc), "pending");
  const ok = await indexCommit(idx.reader, first.doc, first.facts);
  assert.deepEqual(ok.indexed.map((h) => toHex(h.commitId)), [toHex(first.doc.id), toHex(s.commits[1]!.doc.id)]);
  await idx.apply(ok.ops);
  assert.equal((await history(idx.reader, s.groupDoc.id)).length, 2);
  // malformed facts and a foreign group are errors of the caller
  await assert.rejects(indexCommit(idx.reader, s.commits[2]!.doc, { ...s.commits[2]!.facts, groupId: new Uint8Array(32) }), ValidationError);
  await assert.rejects(indexCommit(idx.reader, s.commits[2]!.doc, { ...s.commits[2]!.facts, addedKeyPackageRefs: [new Uint8Array(0)] }), ValidationError);
  await assert.rejects(indexGroup(idx.reader, first.doc), ValidationError);
});

test("a key package whose credential is not its author is refused", async () => {
  const kp = s.keyPackageDocs["a"]!;
  assert.throws(() => indexKeyPackage(kp, { publicKey: key("b"), ref: new Uint8Array(32) }), ValidationError);
  assert.equal(indexKeyPackage(kp).length, 2);
});
