/**
 * Storage format 5: the chain head lives in the hot half of a group record, and the cold half
 * (members) is written only when a cold field changes. A random history of record changes,
 * stored through `recordOps`/`hotOp` into a key-value map that starts from each earlier layout
 * (format 1's one record, formats 2-4's cold half with the head), must read back after every
 * write exactly as the record last written (the whole-record replay), and a commit that changes
 * no member must not write the cold half.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Writer } from "../src/codec/tls.js";
import { utf8 } from "../src/bytes.js";
import { hotOp, recordOps } from "../src/engine/store/groups.js";
import { coldChanged, decodeGroupRecord } from "../src/engine/store/records.js";
import type { GroupRecord } from "../src/engine/store/records.js";
import type { StoreOp } from "../src/engine/store/store.js";

const GID = "ab".repeat(32);
const STATUS = ["awaiting-welcome", "member", "removed"] as const;
const bytesOpt = (w: Writer, b: Uint8Array | undefined): void => void w.optional(b, (w2, x) => void w2.opaque(x));

/** Formats 2-4: cold half with tag 0x80 and the head; hot half without tag or head. */
function formatFourHalves(rec: GroupRecord): [Uint8Array, Uint8Array] {
  const w = new Writer(64).u8(0x80).u8(STATUS.indexOf(rec.status));
  bytesOpt(w, rec.owner);
  bytesOpt(w, rec.ciphersuite === undefined ? undefined : utf8(rec.ciphersuite));
  bytesOpt(w, rec.head);
  w.vector(rec.members, (w2, m) => void w2.opaque(m));
  const hot = new Writer(48);
  bytesOpt(hot, rec.stateToken);
  return [w.finish(), hot.u64(rec.mlsEpoch).u64(rec.ltsEpoch).u64(rec.nonceReserved).finish()];
}

/** Format 1: one record with every field, no hot half. */
function formatOneRecord(rec: GroupRecord): Uint8Array {
  const w = new Writer(64).u8(STATUS.indexOf(rec.status));
  bytesOpt(w, rec.owner);
  bytesOpt(w, rec.ciphersuite === undefined ? undefined : utf8(rec.ciphersuite));
  bytesOpt(w, rec.head);
  w.u64(rec.mlsEpoch).u64(rec.ltsEpoch).vector(rec.members, (w2, m) => void w2.opaque(m));
  bytesOpt(w, rec.stateToken);
  return w.u64(rec.nonceReserved).finish();
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const key = (r: () => number, n = 32): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));

function apply(kv: Map<string, Uint8Array>, ops: readonly StoreOp[]): void {
  for (const op of ops) {
    if (op.value === null) kv.delete(op.key);
    else kv.set(op.key, op.value);
  }
}

const read = (kv: Map<string, Uint8Array>): GroupRecord => decodeGroupRecord(kv.get(GID) as Uint8Array, kv.get(`${GID}/hot`));

/** One random change of the kinds the engine makes: a commit (head, epoch, token; members sometimes), a message (hot only). */
function change(r: () => number, rec: GroupRecord): { next: GroupRecord; kind: "commit" | "message" } {
  const x = r();
  if (x < 0.3) return { next: { ...rec, stateToken: key(r, 16), nonceReserved: rec.nonceReserved + 64n }, kind: "message" };
  let members = rec.members;
  const y = r();
  if (y < 0.15) members = [...members, key(r)];
  else if (y < 0.3 && members.length > 1) members = members.filter((_, i) => i !== Math.floor(r() * members.length));
  // the same list in a fresh array (a worker that sent it anyway): no cold write needed either
  else if (y < 0.4) members = members.map((m) => Uint8Array.from(m));
  const status = r() < 0.05 ? (rec.status === "member" ? "removed" : "member") : rec.status;
  return { next: { ...rec, status, members, head: key(r), mlsEpoch: rec.mlsEpoch + 1n, stateToken: key(r, 16), ltsEpoch: rec.ltsEpoch + (r() < 0.2 ? 1n : 0n) }, kind: "commit" };
}

const START: GroupRecord = {
  status: "member",
  owner: new Uint8Array(32).fill(7),
  ciphersuite: "PANDA10_AES256GCM",
  head: new Uint8Array(32).fill(8),
  mlsEpoch: 3n,
  ltsEpoch: 1n,
  members: [new Uint8Array(32).fill(7), new Uint8Array(32).fill(9)],
  stateToken: new Uint8Array(16).fill(5),
  nonceReserved: 128n,
};

const starts: Array<[string, () => Map<string, Uint8Array>]> = [
  ["format 5", () => new Map(recordOps(GID, START, undefined).map((op) => [op.key, op.value as Uint8Array]))],
  [
    "formats 2-4",
    () => {
      const [cold, hot] = formatFourHalves(START);
      return new Map([[GID, cold], [`${GID}/hot`, hot]]);
    },
  ],
  ["format 1", () => new Map([[GID, formatOneRecord(START)]])],
];

for (const [name, open] of starts) {
  test(`a random history from a ${name} record reads back as the whole-record replay after every write`, () => {
    const runs = Number(process.env.HOT_HEAD_RUNS ?? 40);
    for (let seed = 1; seed <= runs; seed++) {
      const r = rng(seed);
      const kv = open();
      assert.deepEqual(read(kv), START, `${name}: the starting record reads as written`);
      let rec = START;
      let coldWrites = 0;
      let commits = 0;
      for (let step = 0; step < 30; step++) {
        const { next, kind } = change(r, rec);
        const ops = kind === "message" ? [hotOp(GID, next)] : recordOps(GID, next, rec);
        const wroteCold = ops.some((op) => op.key === GID);
        const membersChanged = rec.members.length !== next.members.length || rec.members.some((m, i) => Buffer.compare(m, next.members[i] as Uint8Array) !== 0);
        if (kind === "commit") {
          commits++;
          assert.equal(wroteCold, membersChanged || rec.status !== next.status, `seed ${seed} step ${step}: the cold half is written exactly when a cold field changed`);
        }
        if (wroteCold) coldWrites++;
        apply(kv, ops);
        rec = next;
        assert.deepEqual(read(kv), rec, `${name}, seed ${seed}, step ${step} (${kind})`);
      }
      assert.ok(coldWrites < commits, `seed ${seed}: most commits leave the cold half alone`);
    }
  });
}

test("coldChanged: every cold field counts, hot fields do not", () => {
  const same = { ...START, head: new Uint8Array(32), mlsEpoch: 9n, ltsEpoch: 9n, stateToken: new Uint8Array(16), nonceReserved: 1n };
  assert.equal(coldChanged(START, same), false);
  assert.equal(coldChanged(START, { ...START, members: START.members.map((m) => Uint8Array.from(m)) }), false);
  assert.equal(coldChanged(START, { ...START, status: "removed" }), true);
  assert.equal(coldChanged(START, { ...START, ciphersuite: "PANDA10_CHACHA20POLY1305" }), true);
  assert.equal(coldChanged(START, { ...START, owner: new Uint8Array(32).fill(1) }), true);
  const { owner: _, ...noOwner } = START;
  assert.equal(coldChanged(noOwner, START), true);
  assert.equal(coldChanged(START, { ...START, members: [START.members[0] as Uint8Array, new Uint8Array(32).fill(1)] }), true);
  assert.equal(coldChanged(START, { ...START, members: START.members.slice(1) }), true);
  // without a previous record both halves are written
  assert.deepEqual(recordOps(GID, START, undefined).map((op) => op.key), [GID, `${GID}/hot`]);
  assert.deepEqual(recordOps(GID, same, START).map((op) => op.key), [`${GID}/hot`]);
});
