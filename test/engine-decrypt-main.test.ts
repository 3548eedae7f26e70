/**
 * Long-term decryption on the main thread from the group's held secrets: no worker task, after
 * a restart and after actor eviction (secrets read from the stored state head), right after the
 * ingest of a rotation, for a removed member, and with the errors a worker would give.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex, utf8 } from "../src/bytes.js";
import { encodeSecretGroupCommit } from "../src/commit.js";
import { decodeDocument, keyPackageDocument, readSecretGroupCommit, SchemaId } from "../src/documents/index.js";
import { ErrorCode, errorFromData, toErrorData } from "../src/errors.js";
import { createGroup, decrypt, encrypt, joinGroup, rotateLongTermSecret } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { sealLongTerm } from "../src/lts/encrypt.js";
import { encodeSecretGroupMessage } from "../src/message.js";
import { peekAll } from "../src/engine/decrypt.js";
import { emptyStats } from "../src/engine/context.js";
import type { EngineContext } from "../src/engine/context.js";
import { emptyGroupRecord } from "../src/engine/store/records.js";
import type { GroupRecord } from "../src/engine/store/records.js";
import { executeStep } from "../src/engine/steps.js";
import type { GroupJob } from "../src/engine/jobs.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import { groupWithMember, ingestAll, openNode } from "./engine-helpers.js";

const SUITE = "PANDA10_AES256GCM" as const;
const text = (b: Uint8Array | Error | undefined): string => {
  if (!(b instanceof Uint8Array)) throw b ?? new Error("missing result");
  return new TextDecoder().decode(b);
};
const codeOf = (r: Uint8Array | Error | undefined): string | undefined => (r instanceof Error ? (r as Error & { code?: string }).code : undefined);

/** Runs `fn` and returns how the engine's counters moved. */
async function counted<T>(engine: SecretGroupEngine, fn: () => Promise<T>): Promise<{ value: T; tasks: number; loads: number; main: number }> {
  const before = engine.stats();
  const value = await fn();
  const after = engine.stats();
  return { value, tasks: after.stateTasks - before.stateTasks, loads: after.secretLoads - before.secretLoads, main: after.mainDecrypts - before.mainDecrypts };
}

function commitOf(documents: readonly Uint8Array[]): Uint8Array {
  const doc = documents.map((b) => decodeDocument(b)).find((d) => d.schema === SchemaId.SecretGroupCommit);
  assert.ok(doc !== undefined, "no commit document");
  return encodeSecretGroupCommit(readSecretGroupCommit(doc).commit);
}

test("long-term messages decrypt with no worker task, also after a restart", async () => {
  const owner = await openNode();
  const alice = await openNode();
  let aliceEngine = alice.engine;
  try {
    const { gid } = await groupWithMember(owner.engine, aliceEngine, SUITE);
    const messages: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) messages.push(await owner.engine.encrypt(gid, utf8(`lt ${i}`), { scheme: "long-term" }));

    const first = await counted(aliceEngine, () => aliceEngine.decrypt(messages));
    assert.deepEqual(first.value.map(text), ["lt 0", "lt 1", "lt 2", "lt 3", "lt 4"]);
    assert.equal(first.tasks, 0, "no worker task for long-term messages");
    assert.equal(first.main, 5);
    assert.equal(first.loads, 0, "the secrets of the join were held, not read again");

    await aliceEngine.close();
    aliceEngine = await alice.reopen();
    const again = await counted(aliceEngine, () => aliceEngine.decrypt([messages[3] as Uint8Array, { message: messages[1] as Uint8Array }]));
    assert.deepEqual(again.value.map(text), ["lt 3", "lt 1"]);
    assert.equal(aliceEngine.stats().stateTasks, 0, "a fresh engine read them without any worker task");
    assert.equal(again.loads, 1, "secrets read once from the stored state head");
    const third = await counted(aliceEngine, () => aliceEngine.decrypt(messages));
    assert.deepEqual([third.tasks, third.loads, third.main], [0, 0, 5]);

    // sender-ratchet still goes to the worker, and leaves the held secrets usable
    const sr = await owner.engine.encrypt(gid, utf8("ratchet"), { scheme: "sender-ratchet" });
    const mixed = await counted(aliceEngine, () => aliceEngine.decrypt([sr, messages[0] as Uint8Array]));
    assert.deepEqual(mixed.value.map(text), ["ratchet", "lt 0"]);
    assert.equal(mixed.tasks, 1);
    const after = await counted(aliceEngine, () => aliceEngine.decrypt([messages[2] as Uint8Array]));
    assert.deepEqual([text(after.value[0]), after.tasks, after.loads], ["lt 2", 0, 0]);

    // after another restart, one call that reads the secrets and changes the state (sender-ratchet)
    const sr2 = await owner.engine.encrypt(gid, utf8("ratchet 2"), { scheme: "sender-ratchet" });
    await aliceEngine.close();
    aliceEngine = await alice.reopen();
    const both = await counted(aliceEngine, () => aliceEngine.decrypt([messages[4] as Uint8Array, sr2]));
    assert.deepEqual([...both.value.map(text), both.tasks, both.loads], ["lt 4", "ratchet 2", 1, 1]);
    const last = await counted(aliceEngine, () => aliceEngine.decrypt([messages[0] as Uint8Array]));
    assert.deepEqual([text(last.value[0]), last.tasks, last.loads], ["lt 0", 0, 0], "secrets carried to the new state");
  } finally {
    await owner.engine.close();
    await aliceEngine.close();
    await owner.cleanup();
    await alice.cleanup();
  }
});

test("with one live actor and several groups, evicted groups decrypt from their stored secrets", async () => {
  const owner = await openNode();
  const alice = await openNode({ liveActors: 1 });
  try {
    const groups: Uint8Array[] = [];
    const byGroup: Uint8Array[][] = [];
    for (let g = 0; g < 3; g++) {
      const { gid } = await groupWithMember(owner.engine, alice.engine, g === 1 ? "PANDA10_CHACHA20POLY1305" : SUITE);
      groups.push(gid);
      byGroup.push([await owner.engine.encrypt(gid, utf8(`g${g} a`), { scheme: "long-term" }), await owner.engine.encrypt(gid, utf8(`g${g} b`), { scheme: "long-term" })]);
    }
    // one call over all groups, interleaved
    const interleaved = [0, 1, 2, 0, 1, 2].map((k, i) => (byGroup[k] as Uint8Array[])[i < 3 ? 0 : 1] as Uint8Array);
    const all = await counted(alice.engine, () => alice.engine.decrypt(interleaved));
    assert.deepEqual(all.value.map(text), ["g0 a", "g1 a", "g2 a", "g0 b", "g1 b", "g2 b"]);
    assert.equal(all.tasks, 0);
    // which actor outlived that concurrent call depends on which job ended last: make it g2's
    await alice.engine.describe(groups[2] as Uint8Array);
    // one call per group, round robin: every call hydrates an evicted actor
    for (let round = 0; round < 2; round++) {
      for (let g = 0; g < 3; g++) {
        const hydrations = alice.engine.stats().hydrations;
        const r = await counted(alice.engine, () => alice.engine.decrypt(byGroup[g] as Uint8Array[]));
        assert.deepEqual(r.value.map(text), [`g${g} a`, `g${g} b`]);
        assert.equal(r.tasks, 0, "no worker task after eviction");
        assert.equal(alice.engine.stats().hydrations, hydrations + 1, "the actor was evicted and hydrated again");
        assert.equal(r.loads, 1);
      }
    }
    assert.ok(alice.engine.liveGroups <= 1);
  } finally {
    await owner.engine.close();
    await alice.engine.close();
    await owner.cleanup();
    await alice.cleanup();
  }
});

test("a rotation's epoch is readable as soon as the ingest carrying it resolves; a removed member keeps its secrets", async () => {
  const owner = await openNode();
  const alice = await openNode();
  let aliceEngine = alice.engine;
  try {
    const { gid } = await groupWithMember(owner.engine, aliceEngine, SUITE);
    const old = await owner.engine.encrypt(gid, utf8("epoch 0"), { scheme: "long-term" });
    assert.equal(text((await aliceEngine.decrypt([old]))[0]), "epoch 0");

    const rotated = await owner.engine.rotate(gid);
    const fresh = await owner.engine.encrypt(gid, utf8("epoch 1"), { scheme: "long-term" });
    assert.equal(codeOf((await aliceEngine.decrypt([fresh]))[0]), ErrorCode.Pending, "not reached before the commit");
    // issued together: the decrypt queues behind the commit on the group's actor
    const together = await counted(aliceEngine, () => Promise.all([aliceEngine.ingest(rotated.documents), aliceEngine.decrypt([fresh, old])]));
    assert.deepEqual(together.value[1].map(text), ["epoch 1", "epoch 0"]);
    assert.equal(together.loads, 0, "the secrets came with the commit's persisted head, not from a store read");
    const after = await counted(aliceEngine, () => aliceEngine.decrypt([fresh]));
    assert.deepEqual([text(after.value[0]), after.tasks, after.loads], ["epoch 1", 0, 0]);

    // a second rotation, ingested then read at once
    const rotated2 = await owner.engine.rotate(gid);
    const third = await owner.engine.encrypt(gid, utf8("epoch 2"), { scheme: "long-term" });
    await aliceEngine.ingest(rotated2.documents);
    assert.equal(text((await aliceEngine.decrypt([third]))[0]), "epoch 2");

    // removal rotates: alice keeps what she had, and is told she left for the new epoch
    const removed = await owner.engine.removeMembers(gid, [alice.identity.publicKey]);
    const secret = await owner.engine.encrypt(gid, utf8("epoch 3"), { scheme: "long-term" });
    await ingestAll(aliceEngine, removed.documents);
    assert.equal(await aliceEngine.status(gid), "removed");
    for (let restart = 0; restart < 2; restart++) {
      const r = await counted(aliceEngine, () => aliceEngine.decrypt([old, fresh, third, secret]));
      assert.deepEqual(r.value.slice(0, 3).map(text), ["epoch 0", "epoch 1", "epoch 2"]);
      assert.equal(codeOf(r.value[3]), ErrorCode.NotMember);
      assert.equal(r.tasks, 0);
      await aliceEngine.close();
      aliceEngine = await alice.reopen();
    }
  } finally {
    await owner.engine.close();
    await aliceEngine.close();
    await owner.cleanup();
    await alice.cleanup();
  }
});

test("engine errors are the library's, as a worker hands them back, for every outcome", async () => {
  // a library member in an engine-built group: its `decrypt` is what the worker used to run
  const owner = await openNode();
  const alice = await openNode();
  try {
    const lib = generateIdentity();
    const libKp = await createKeyPackage(lib);
    const kps = [...(await alice.engine.publishKeyPackage()).documents, keyPackageDocument(lib, { keyPackage: libKp.keyPackage }).bytes];
    const created = await owner.engine.createGroup({ ciphersuite: SUITE });
    const gid = created.groupId as Uint8Array;
    const added = await owner.engine.addMembers(gid, kps);
    await alice.engine.ingest([...created.documents, ...kps, ...added.documents]);
    const state = await joinGroup({ identity: lib, secret: libKp.secret, owner: owner.identity.publicKey, commit: commitOf(added.documents) });
    const aad = utf8("field context");
    const good = (await encrypt(state, utf8("good"), { scheme: "long-term", aad })).message;
    const tampered = Uint8Array.from(good);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    const cases: Array<{ message: Uint8Array; aad?: Uint8Array }> = [
      { message: good, aad },
      { message: good }, // wrong aad
      { message: good, aad: utf8("other field") },
      { message: tampered, aad },
      { message: good.subarray(0, good.length - 1), aad }, // truncated
      { message: Uint8Array.from([...good, 0]), aad }, // trailing byte
    ];
    const expected = await Promise.all(
      cases.map(async (c) => {
        try {
          return (await decrypt(state, c.message, c.aad === undefined ? {} : { aad: c.aad })).plaintext;
        } catch (e) {
          return errorFromData(toErrorData(e));
        }
      }),
    );
    const got = await counted(alice.engine, () => alice.engine.decrypt(cases));
    assert.equal(got.tasks, 0);
    got.value.forEach((r, i) => {
      const want = expected[i];
      if (want instanceof Uint8Array) return assert.deepEqual(r, want);
      assert.ok(r instanceof Error, `case ${i}: expected an error`);
      assert.equal(r.constructor, (want as Error).constructor, `case ${i}: class`);
      assert.deepEqual({ ...r, message: r.message }, { ...(want as Error), message: (want as Error).message }, `case ${i}`);
      assert.equal((r as Error).cause, undefined);
    });
    assert.deepEqual(got.value.map(codeOf), [undefined, "DECRYPTION_FAILED", "DECRYPTION_FAILED", "DECRYPTION_FAILED", "DECODE_ERROR", "DECODE_ERROR"]);
    // a group this node never saw, and an epoch not reached yet: PENDING, as before
    const stranger = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(32).fill(7), ciphersuite: SUITE });
    const unknown = (await encrypt(stranger, utf8("x"), { scheme: "long-term" })).message;
    const ahead = encodeSecretGroupMessage({ type: "long-term", ciphertext: sealLongTerm({ ...(state.secrets.at(-1) as GroupState["secrets"][number]), epoch: 5n as never }, new Uint8Array(12), utf8("later")) });
    assert.deepEqual((await alice.engine.decrypt([unknown, ahead])).map(codeOf), ["PENDING", "PENDING"]);
  } finally {
    await owner.engine.close();
    await alice.engine.close();
    await owner.cleanup();
    await alice.cleanup();
  }
});

test("the decrypt step alone: every openLongTerm error, from held secrets, touching neither pool nor store", async () => {
  let state = await createGroup({ identity: generateIdentity(), groupId: new Uint8Array(32).fill(3), ciphersuite: SUITE });
  const messages: Uint8Array[] = [];
  for (let e = 0; e < 3; e++) {
    messages.push((await encrypt(state, utf8(`epoch ${e}`), { scheme: "long-term" })).message);
    if (e < 2) state = (await rotateLongTermSecret(state)).state;
  }
  const gid = toHex(state.groupId);
  const other = encodeSecretGroupMessage({ type: "long-term", ciphertext: sealLongTerm({ ...(state.secrets[0] as GroupState["secrets"][number]), groupId: new Uint8Array(32).fill(4) }, new Uint8Array(12), utf8("x")) });
  // held secrets without epoch 1 (and the library state alike): UNKNOWN_EPOCH
  const held = state.secrets.filter((s) => s.epoch !== 1n);
  const lib: GroupState = { ...state, secrets: held };
  const token = new Uint8Array(16).fill(9);
  const record: GroupRecord = { ...emptyGroupRecord(), status: "member", owner: state.owner, ltsEpoch: 2n, mlsEpoch: state.mlsEpoch, stateToken: token };
  const untouchable = new Proxy({}, { get: () => { throw new Error("the step touched the store or the pool"); } });
  const ctx = { store: untouchable, pool: untouchable, stats: emptyStats() } as unknown as EngineContext;
  const { byGroup } = peekAll(messages);
  // the foreign ciphertext is routed to another group; hand it to this one as a caller bug would
  const items = [...(byGroup.get(gid)?.items ?? []), ...(peekAll([other]).byGroup.values().next().value?.items ?? [])];
  const job: GroupJob = { kind: "decrypt", decrypt: { items }, reply: { resolve() {}, reject() {} } };
  const out = await executeStep(ctx, { groupId: gid, job, step: 0, record, counter: 0n, secrets: { token: toHex(token), secrets: held } });
  const results = out.result as Array<Uint8Array | Error>;
  const expected = await Promise.all(
    [...messages, other].map(async (m) => {
      try {
        return (await decrypt(lib, m)).plaintext;
      } catch (e) {
        return errorFromData(toErrorData(e));
      }
    }),
  );
  assert.deepEqual(results.map(codeOf), [undefined, "UNKNOWN_EPOCH", undefined, "WRONG_GROUP"]);
  assert.deepEqual(
    results.map((r) => (r instanceof Error ? [r.constructor.name, r.message] : text(r))),
    expected.map((r) => (r instanceof Error ? [r.constructor.name, r.message] : text(r))),
  );
  assert.equal(ctx.stats.mainDecrypts, 4);
  assert.equal(out.ops.length, 0);
  assert.equal(out.secrets, undefined, "held secrets were valid: nothing loaded");
});
