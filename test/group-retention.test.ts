/**
 * The retention window, pinned at both sides of each boundary (README "Security model": past
 * epochs stay readable for 16 epochs, 1000 generations out of order per sender).
 *
 * ts-mls semantics (keyRetentionConfig, re-attached by src/mls/config.ts): after each commit
 * the epoch just left joins `historicalReceiverData`, which keeps the newest
 * `retainKeysForEpochs` entries, so at epoch E a message of E-16 opens and one of E-17 does not.
 * Stepping a sender's ratchet forward keeps the skipped keys in `unusedGenerations`, newest
 * `retainKeysForGenerations` of them, so after reading generation G a message of G-1000
 * opens and one of G-1001 does not. Long-term secrets are outside both windows: every secret
 * of the group's history stays in the state.
 *
 * The receiver's commits and first reads run on states that went through encode and decode, so
 * the retention settings must come back with a stored state (ts-mls' own default is 4 epochs
 * and 10 generations).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RETAIN_EPOCHS, RETAIN_GENERATIONS } from "../src/constants.js";
import { decodeGroupState, decrypt, encodeGroupState, encrypt, peekMessage, processCommit, updateGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { makeGroup, rejectsWith, text } from "./group-fixtures.js";
import { groupWithMember, ingestAll, openNode } from "./engine-helpers.js";

const reloaded = (s: GroupState): GroupState => decodeGroupState(encodeGroupState(s));
const opens = async (s: GroupState, message: Uint8Array, expected: string): Promise<void> =>
  assert.deepEqual((await decrypt(s, message)).plaintext, text(expected));

test("retention: a sender-ratchet message 16 epochs back opens, 17 back does not; long-term ones always open", async () => {
  assert.equal(RETAIN_EPOCHS, 16);
  const { owner, members } = await makeGroup(2);
  const [bob, carol] = members as [NonNullable<(typeof members)[0]>, NonNullable<(typeof members)[0]>];
  const start = carol.state.mlsEpoch;
  const commit = async (rotate: boolean) => {
    const r = await updateGroup(owner.state, { rotate });
    owner.state = r.state;
    bob.state = await processCommit(bob.state, r.commit);
    // carol works from a stored copy at every step: the retention settings must come back with it
    carol.state = await processCommit(reloaded(carol.state), r.commit);
  };
  // one message of each scheme in epochs start and start + 1
  const sent: Array<{ sr: Uint8Array; lt: Uint8Array }> = [];
  for (let i = 0; i < 2; i++) {
    const sr = await encrypt(bob.state, text(`sender-ratchet ${i}`), { scheme: "sender-ratchet" });
    const lt = await encrypt(sr.state, text(`long-term ${i}`), { scheme: "long-term" });
    bob.state = lt.state;
    sent.push({ sr: sr.message, lt: lt.message });
    assert.equal(peekMessage(sr.message).epoch, start + BigInt(i));
    await commit(i === 0);
  }
  // 16 commits after the first message (every fourth rotates the long-term secret)
  for (let i = 2; i < RETAIN_EPOCHS; i++) await commit(i % 4 === 0);
  let state = reloaded(carol.state);
  assert.equal(state.mlsEpoch, start + 16n);
  await opens(state, sent[0]!.sr, "sender-ratchet 0"); // 16 back: the oldest retained
  await opens(state, sent[1]!.sr, "sender-ratchet 1");
  // the 17th commit: the first message's epoch leaves the window, the second's is now 16 back
  await commit(false);
  state = reloaded(carol.state);
  assert.equal(state.mlsEpoch, start + 17n);
  await rejectsWith(() => decrypt(state, sent[0]!.sr), "UNKNOWN_EPOCH");
  await opens(state, sent[1]!.sr, "sender-ratchet 1");
  // long-term: no window, both still open (under secrets 0 and 1 of the five rotations made)
  assert.deepEqual(state.secrets.map((s) => s.epoch), [0n, 1n, 2n, 3n, 4n]);
  await opens(state, sent[0]!.lt, "long-term 0");
  await opens(state, sent[1]!.lt, "long-term 1");
  // the owner, a sender as well as a receiver here, has the same window
  await rejectsWith(() => decrypt(reloaded(owner.state), sent[0]!.sr), "UNKNOWN_EPOCH");
  await opens(reloaded(owner.state), sent[1]!.sr, "sender-ratchet 1");
});

test("retention: a sender-ratchet message 1000 generations behind the newest read opens, 1001 behind does not", async () => {
  assert.equal(RETAIN_GENERATIONS, 1000);
  const { members } = await makeGroup(2);
  const [bob, carol] = members as [NonNullable<(typeof members)[0]>, NonNullable<(typeof members)[0]>];
  const messages: Uint8Array[] = [];
  for (let i = 0; i < RETAIN_GENERATIONS + 2; i++) {
    const e = await encrypt(bob.state, text(`m${i}`), { scheme: "sender-ratchet" });
    bob.state = e.state;
    messages.push(e.message);
  }
  const last = messages.length - 1; // generation G; messages[1] is G - 1000, messages[0] is G - 1001
  // before the newest is read, the oldest is simply next in line
  await opens(carol.state, messages[0]!, "m0");
  const readLast = await decrypt(reloaded(carol.state), messages[last]!);
  assert.deepEqual(readLast.plaintext, text(`m${last}`));
  const state = reloaded(readLast.state);
  await rejectsWith(() => decrypt(state, messages[0]!), "REPLAY");
  await opens(state, messages[1]!, "m1");
  await opens(state, messages[last - 1]!, `m${last - 1}`);
  // read G - 1 first instead: then messages[0] is exactly 1000 behind and opens
  const readBeforeLast = await decrypt(reloaded(carol.state), messages[last - 1]!);
  await opens(reloaded(readBeforeLast.state), messages[0]!, "m0");
});

test("retention through the engine (state in LevelDB, read back after restarts): 16 epochs back opens, 17 does not", async () => {
  const owner = await openNode();
  const alice = await openNode();
  let aliceEngine = alice.engine;
  const read = async (m: Uint8Array) => (await aliceEngine.decrypt([m]))[0];
  const restart = async () => {
    await aliceEngine.close();
    aliceEngine = await alice.reopen();
  };
  try {
    const { gid } = await groupWithMember(owner.engine, aliceEngine);
    // from here on alice's state comes out of her store: the retention settings must come back with it
    await restart();
    const start = (await aliceEngine.describe(gid)).mlsEpoch;
    // epoch start: two sender-ratchet messages (one read inside the window, one after it) and a long-term one
    const a = await owner.engine.encrypt(gid, text("a"), { scheme: "sender-ratchet" });
    const b = await owner.engine.encrypt(gid, text("b"), { scheme: "sender-ratchet" });
    const lt = await owner.engine.encrypt(gid, text("long-term"), { scheme: "long-term" });
    const commits: Uint8Array[] = [...(await owner.engine.updateGroup(gid)).documents];
    const d = await owner.engine.encrypt(gid, text("d"), { scheme: "sender-ratchet" }); // epoch start + 1
    for (let i = 1; i < RETAIN_EPOCHS; i++) commits.push(...(await owner.engine.updateGroup(gid)).documents);
    await ingestAll(aliceEngine, commits);
    await restart();
    assert.equal((await aliceEngine.describe(gid)).mlsEpoch, start + 16n);
    assert.deepEqual(await read(a), text("a"));
    await ingestAll(aliceEngine, (await owner.engine.rotate(gid)).documents);
    await restart();
    assert.equal((await aliceEngine.describe(gid)).mlsEpoch, start + 17n);
    assert.equal(((await read(b)) as Error & { code?: string }).code, "UNKNOWN_EPOCH");
    assert.deepEqual(await read(d), text("d"));
    assert.deepEqual(await read(lt), text("long-term"));
  } finally {
    await owner.engine.close();
    await aliceEngine.close();
    await owner.cleanup();
    await alice.cleanup();
  }
});
