/**
 * A flood of commits whose predecessor never comes: memory and disk stay bounded by the
 * engine's limits (per group and in total, by count and by bytes), the oldest pending commit
 * goes first and is counted under its limit in `stats().dropped`, the totals survive a
 * restart, and nothing the node has applied is ever dropped.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeDocument } from "../src/documents/document.js";
import { toHex, utf8 } from "../src/bytes.js";
import { groupWithMember, ingestAll, openNode } from "./engine-helpers.js";
import { countDb, dumpDb, strangerCommits } from "./adversarial-support.js";

const idOf = (bytes: Uint8Array): string => toHex(decodeDocument(bytes).id);

test("flood: a stranger's commits for unknown groups stay within the total limits, oldest dropped first, across a restart", async () => {
  const limits = { pendingCommitsTotal: 6 };
  const node = await openNode({ limits });
  let engine = node.engine;
  try {
    const flood = await strangerCommits(15);
    // one at a time, so arrival order is known
    for (const doc of flood.slice(0, 10)) assert.deepEqual(await ingestAll(engine, [doc]), ["pending"]);
    assert.equal(engine.stats().pendingCommits, 6);
    assert.deepEqual(engine.stats().dropped, { pendingCommitsTotal: 4 });
    await engine.close();
    let dump = await dumpDb(node.path);
    assert.equal(countDb(dump, "materialise", "q/"), 6, "follower records on disk");
    assert.equal(countDb(dump, "commits"), 6, "commit records on disk");
    assert.equal(countDb(dump, "docs"), 6, "documents on disk");
    // the newest six are the ones kept
    const keptIds = flood.slice(4, 10).map(idOf).sort();
    assert.deepEqual([...dump.keys()].filter((k) => k.startsWith("!docs!")).map((k) => k.slice("!docs!".length)).sort(), keptIds);

    // the count survives a restart: the next arrivals still drop the oldest
    engine = await node.reopen();
    assert.equal(engine.stats().pendingCommits, 6);
    for (const doc of flood.slice(10)) await ingestAll(engine, [doc]);
    assert.equal(engine.stats().pendingCommits, 6);
    assert.deepEqual(engine.stats().dropped, { pendingCommitsTotal: 5 });
    await engine.close();
    dump = await dumpDb(node.path);
    // every arrival after the restart is kept; of those buffered before it (older, their own
    // order not kept across the restart) one is left
    const docs = [...dump.keys()].filter((k) => k.startsWith("!docs!")).map((k) => k.slice("!docs!".length));
    assert.equal(docs.length, 6);
    for (const id of flood.slice(10).map(idOf)) assert.ok(docs.includes(id), "a new arrival was dropped");
    assert.equal(docs.filter((id) => keptIds.includes(id)).length, 1);

    // bytes: a total byte limit of about three documents keeps three
    const size = Math.max(...flood.map((d) => d.length));
    engine = await node.reopen({ limits: { pendingCommitBytesTotal: size * 3 + 10 } });
    await ingestAll(engine, flood.slice(0, 2)); // dropped before, so new again
    assert.equal(engine.stats().pendingCommits, 3);
    assert.ok(engine.stats().pendingCommitBytes <= size * 3 + 10);
    assert.ok((engine.stats().dropped["pendingCommitBytesTotal"] ?? 0) >= 5, JSON.stringify(engine.stats().dropped));
  } finally {
    await engine.close();
    await node.cleanup();
  }
});

test("flood: the owner's commits with a missing predecessor stay within the group's limits; applied state is never dropped", async () => {
  const owner = await openNode();
  const member = await openNode({ limits: { pendingCommitsPerGroup: 4 } });
  try {
    const { gid } = await groupWithMember(owner.engine, member.engine);
    const commits: Uint8Array[] = [];
    for (let i = 0; i < 9; i++) commits.push(...(await owner.engine.rotate(gid)).documents);
    const epoch = (await member.engine.describe(gid)).mlsEpoch;
    // commits 1..8 arrive, commit 0 (their predecessor) does not
    for (const doc of commits.slice(1)) assert.deepEqual(await ingestAll(member.engine, [doc]), ["pending"]);
    assert.equal(member.engine.stats().pendingCommits, 4);
    assert.deepEqual(member.engine.stats().dropped, { pendingCommitsPerGroup: 4 });
    assert.equal((await member.engine.describe(gid)).mlsEpoch, epoch, "nothing applied, nothing lost");
    // the gap closes: commit 0 applies; 1..4 were dropped, so the member waits there, a member still
    assert.deepEqual(await ingestAll(member.engine, [commits[0] as Uint8Array]), ["applied"]);
    assert.equal((await member.engine.describe(gid)).mlsEpoch, epoch + 1n);
    assert.equal(await member.engine.status(gid), "member");
    // redelivering the dropped ones completes the chain: the kept ones were the newest
    await ingestAll(member.engine, commits.slice(1, 5));
    assert.equal((await member.engine.describe(gid)).mlsEpoch, epoch + 9n);
    assert.equal(member.engine.stats().pendingCommits, 0);
    const m = await owner.engine.encrypt(gid, utf8("after the flood"), { scheme: "sender-ratchet" });
    assert.deepEqual((await member.engine.decrypt([m]))[0], utf8("after the flood"));

    // per-group bytes: a limit below two documents keeps one
    const size = Math.max(...commits.map((d) => d.length));
    await member.engine.close();
    const reopened = await member.reopen({ limits: { pendingCommitBytesPerGroup: Math.floor(size * 1.5) } });
    try {
      const more: Uint8Array[] = [];
      for (let i = 0; i < 4; i++) more.push(...(await owner.engine.rotate(gid)).documents);
      for (const doc of more.slice(1)) await ingestAll(reopened, [doc]);
      assert.equal(reopened.stats().pendingCommits, 1);
      assert.deepEqual(reopened.stats().dropped, { pendingCommitBytesPerGroup: 2 });
    } finally {
      await reopened.close();
    }
  } finally {
    await owner.engine.close();
    await owner.cleanup();
    await member.cleanup();
  }
});
