/**
 * One-off generator of the frozen storage fixtures read by test/storage-fixture.test.ts. Run by
 * hand only, never by a test:
 *   npx tsc -p . && node dist/test/vectors/generate-storage.js [--force]
 * It writes the fixture of the current format: test/vectors/storage-v6.json (sealed sublevels,
 * with each engine's keyring file; MLS states in the parts of storage format 3: chunked
 * manifests `m/` + `k/`, compact secret trees `l/`; since format 4 the materialisation index's
 * leaf map in chunks `materialise/l/<gid>/<chunk>` beside a small head `materialise/g/<gid>`;
 * since format 5 group records whose chain head is in the hot half `groups/<gid>/hot`, tag 0x81,
 * beside a cold half without it, tag 0x81; since format 6 ratchet-tree chunks `k/` that hold their
 * nodes, format byte 2, and no `n/` node parts). test/vectors/storage-v5.json (chunks naming `n/`
 * parts; its history ends with the remove) was written by this generator as of commit 1dd5c4d,
 * test/vectors/storage-v4.json (cold halves with the head, tag 0x80) as of commit 90e33ac.
 * test/vectors/storage-v3.json (the same with whole `g/` index records) was written by this
 * generator as of commit 3285491, test/vectors/storage-v2.json (the same, with
 * the state parts of before: `t/` and `s/`) was written by this generator as of commit fb0740d,
 * and test/vectors/storage-v1.json (everything in the clear) as of commit a735e3d (release
 * 0.1.0's format); neither can be written again by today's engine. It refuses to overwrite a committed file without --force: later
 * versions must keep reading it, so it is never regenerated to make a failing test pass.
 *
 * Scenario (real engines, one worker thread each, fixed identities from fixed seeds):
 * owner creates a PANDA10_AES256GCM group and adds member, carol and dave (epoch 1; dave never
 * joins, his leaf only makes the tree big enough for secret-tree override parts); owner and member
 * write long-term and sender-ratchet messages, some read during generation (so their
 * sender-ratchet keys are consumed), some left unread; owner commits an update (epoch 2) and
 * removes carol (epoch 3, long-term epoch 1); more messages; since format 6 an update commit
 * last (epoch 4, which member and indexer ingest), so the member's cold half is older than its hot
 * half, and one more message; an indexer engine only ingests the public documents. Then every raw key/value of each engine's LevelDB is dumped, and the
 * expected reads are checked on a restored copy before anything is written.
 *
 * @module
 */
import { existsSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { strict as assert } from "node:assert";
import { SecretGroupEngine } from "../../src/engine/engine.js";
import { identityFromSecretKey } from "../../src/identity.js";
import type { Identity } from "../../src/identity.js";
import { KEYRING_FILE, SEALED_STORAGE_VERSION, STORAGE_VERSION } from "../../src/constants.js";
import { isSealed, Sublevel } from "../../src/engine/store/sublevels.js";
import type { SchemeName } from "../../src/constants.js";
import { plain, rawDb } from "../storage-support.js";
import type { EngineFixture, EngineName, Expectation, StorageFixture } from "../storage-support.js";

const out = fileURLToPath(new URL("../../../test/vectors/storage-v6.json", import.meta.url));
if (existsSync(out) && !process.argv.includes("--force")) {
  console.error(`${out} exists; the frozen storage fixture is never regenerated silently (pass --force on purpose)`);
  process.exit(1);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const te = new TextEncoder();
const td = new TextDecoder();
const SEEDS: Record<EngineName, Uint8Array> = {
  owner: new Uint8Array(32).fill(0x11),
  member: new Uint8Array(32).fill(0x22),
  carol: new Uint8Array(32).fill(0x33),
  indexer: new Uint8Array(32).fill(0x44),
};
const NAMES = Object.keys(SEEDS) as EngineName[];


async function dump(path: string): Promise<Array<[string, string]>> {
  const db = rawDb(path);
  await db.open();
  const entries: Array<[string, string]> = [];
  for await (const [key, value] of db.iterator()) {
    assert.ok(/^[\x21-\x7e]+$/.test(key), `printable ASCII key: ${JSON.stringify(key)}`);
    const sub = Object.values(Sublevel).find((s) => key.startsWith(`!${s}!`));
    assert.ok(sub !== undefined, `key ${key} is in a known sublevel`);
    const sealed = isSealed(sub) || key === `!${Sublevel.Meta}!keycheck`;
    assert.equal(value[0], sealed ? SEALED_STORAGE_VERSION : STORAGE_VERSION, `value of ${key} starts with the storage version`);
    entries.push([key, hex(value)]);
  }
  await db.close();
  return entries;
}

async function restore(path: string, entries: ReadonlyArray<readonly [string, string]>, keyring: string | undefined): Promise<void> {
  const db = rawDb(path);
  await db.open();
  await db.batch(entries.map(([key, value]) => ({ type: "put" as const, key, value: new Uint8Array(Buffer.from(value, "hex")) })));
  await db.close();
  if (keyring !== undefined) await writeFile(join(path, KEYRING_FILE), Buffer.from(keyring, "hex"));
}

async function keyringOf(path: string): Promise<string | undefined> {
  try {
    return hex(await readFile(join(path, KEYRING_FILE)));
  } catch {
    return undefined;
  }
}

async function ingest(engine: SecretGroupEngine, docs: readonly Uint8Array[]): Promise<void> {
  const report = await engine.ingest(docs);
  assert.ok(report.outcomes.every((o) => o !== "refused"), `outcomes ${report.outcomes}`);
}

const root = await mkdtemp(join(tmpdir(), "sg-storage-gen-"));
try {
  const ids = Object.fromEntries(NAMES.map((n) => [n, identityFromSecretKey(SEEDS[n])])) as Record<EngineName, Identity>;
  const engines = {} as Record<EngineName, SecretGroupEngine>;
  for (const n of NAMES) engines[n] = await SecretGroupEngine.open({ path: join(root, n), identity: ids[n], threads: 1 });
  const { owner, member, carol, indexer } = engines;
  const messages: StorageFixture["messages"] = [];
  const publicDocs: Uint8Array[] = [];
  const send = async (from: EngineName, name: string, scheme: SchemeName, gid: Uint8Array): Promise<Uint8Array> => {
    const plaintext = `${name}: ${from} ${scheme}`;
    const message = await engines[from].encrypt(gid, te.encode(plaintext), { scheme });
    messages.push({ name, author: from, scheme, message: hex(message), plaintext });
    return message;
  };
  const read = async (engine: SecretGroupEngine, list: Uint8Array[]): Promise<void> => {
    for (const r of await engine.decrypt(list)) if (r instanceof Error) throw r;
  };

  const kpMember = (await member.publishKeyPackage()).documents;
  const kpCarol = (await carol.publishKeyPackage()).documents;
  // dave only publishes a key package and never joins: four leaves make the secret tree large
  // enough (7 nodes) that a consumed key is stored as an `o/` override part, not a new blob
  const dave = await SecretGroupEngine.open({ path: join(root, "dave"), identity: identityFromSecretKey(new Uint8Array(32).fill(0x55)), threads: 1 });
  const kpDave = (await dave.publishKeyPackage()).documents;
  await dave.close();
  const created = await owner.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
  const gid = created.groupId as Uint8Array;
  const c1 = await owner.addMembers(gid, [...kpMember, ...kpCarol, ...kpDave]);
  publicDocs.push(...created.documents, ...kpMember, ...kpCarol, ...kpDave, ...c1.documents);
  await ingest(member, publicDocs);
  await ingest(carol, publicDocs);

  // epoch 1, long-term epoch 0
  await send("owner", "lt1", "long-term", gid);
  const sr1 = await send("owner", "sr1", "sender-ratchet", gid);
  await send("owner", "sr2", "sender-ratchet", gid); // read by nobody during generation
  const mlt1 = await send("member", "mlt1", "long-term", gid);
  const msr1 = await send("member", "msr1", "sender-ratchet", gid);
  await read(member, [sr1]); // consumed at member
  await read(carol, [sr1, msr1]); // consumed at carol
  await read(owner, [mlt1]);
  // a second, unused key package: its private part stays in the member's store
  const kpMember2 = (await member.publishKeyPackage()).documents;
  const kpIndexer = (await indexer.publishKeyPackage()).documents;
  publicDocs.push(...kpMember2, ...kpIndexer);

  const c2 = await owner.updateGroup(gid); // epoch 2
  const c3 = await owner.removeMembers(gid, [ids.carol.publicKey]); // epoch 3, long-term epoch 1
  publicDocs.push(...c2.documents, ...c3.documents);
  await ingest(member, [...c2.documents, ...c3.documents]);
  await ingest(carol, [...c2.documents, ...c3.documents]);
  await ingest(indexer, publicDocs);

  await send("owner", "lt2", "long-term", gid);
  const sr3 = await send("owner", "sr3", "sender-ratchet", gid);
  await send("owner", "sr4", "sender-ratchet", gid); // unread
  await read(member, [sr3]); // consumed at member

  // an update commit last: the member's hot half moves on, its cold half (members) stays as of c3
  const c4 = await owner.updateGroup(gid); // epoch 4
  publicDocs.push(...c4.documents);
  await ingest(member, c4.documents);
  await ingest(indexer, c4.documents);
  await send("owner", "sr5", "sender-ratchet", gid); // unread

  const fixtureEngines = {} as Record<EngineName, EngineFixture>;
  const snapshot = async (n: EngineName): Promise<Omit<EngineFixture, "entries" | "decrypt">> => {
    const e = engines[n];
    return {
      seed: hex(SEEDS[n]),
      publicKey: hex(ids[n].publicKey),
      describe: plain(await e.describe(gid)) as EngineFixture["describe"],
      members: (await e.members(gid)).map(hex).sort(),
      groups: (await e.groups()).length,
      history: plain(await e.history(gid)) as unknown[],
    };
  };
  const partial = {} as Record<EngineName, Omit<EngineFixture, "entries" | "decrypt">>;
  for (const n of NAMES) partial[n] = await snapshot(n);
  for (const n of NAMES) await engines[n].close();

  // What each engine must read after a restore (and why): sender-ratchet keys consumed during
  // generation are REPLAY; a sender reads its own sender-ratchet messages from its kept
  // plaintexts; the removed member cannot read what came after its removal; the indexer reads nothing.
  const ok: Expectation = { ok: true };
  const code = (c: string): Expectation => ({ code: c });
  const intended: Record<EngineName, Record<string, Expectation>> = {
    owner: { lt1: ok, sr1: ok, sr2: ok, mlt1: ok, msr1: ok, lt2: ok, sr3: ok, sr4: ok, sr5: ok },
    member: { lt1: ok, sr1: code("REPLAY"), sr2: ok, mlt1: ok, msr1: ok, lt2: ok, sr3: code("REPLAY"), sr4: ok, sr5: ok },
    carol: { lt1: ok, sr1: code("REPLAY"), sr2: ok, mlt1: ok, msr1: code("REPLAY"), lt2: code("NOT_MEMBER"), sr3: code("NOT_MEMBER"), sr4: code("NOT_MEMBER"), sr5: code("NOT_MEMBER") },
    indexer: Object.fromEntries(messages.map((m) => [m.name, code("PENDING")])),
  };

  for (const n of NAMES) {
    const entries = await dump(join(root, n));
    const keyring = await keyringOf(join(root, n));
    // check the intended reads on a restored copy (the store itself must stay as written)
    const copy = join(root, `${n}-check`);
    await restore(copy, entries, keyring);
    const e = await SecretGroupEngine.open({ path: copy, identity: ids[n], threads: 1 });
    const results = await e.decrypt(messages.map((m) => new Uint8Array(Buffer.from(m.message, "hex"))));
    await e.close();
    const decrypt: Record<string, Expectation> = {};
    results.forEach((r, i) => {
      const m = messages[i] as StorageFixture["messages"][number];
      if (r instanceof Error) decrypt[m.name] = code((r as Error & { code?: string }).code ?? "(none)");
      else {
        assert.equal(td.decode(r), m.plaintext, `${n} reads ${m.name}`);
        decrypt[m.name] = ok;
      }
    });
    assert.deepEqual(decrypt, intended[n], `${n}: reads after restore`);
    fixtureEngines[n] = { ...partial[n], decrypt, entries, ...(keyring === undefined ? {} : { keyring }) };
  }

  const fixture: StorageFixture = {
    description:
      "Frozen LevelDB contents (and keyring files) of four engines written by storage format 6: sealed sublevels, " +
      "MLS state parts m/ k/ l/ (chunked ratchet-tree manifests, chunks holding their nodes (format byte 2, no n/ parts), compact secret trees), " +
      "materialisation leaf maps in chunks (materialise l/<gid>/<chunk>, head g/<gid>), " +
      "group records with the chain head in the hot half (groups <gid>/hot, tag 0x81; cold <gid>, tag 0x81) " +
      "(test/vectors/generate-storage.ts); the storage key of each is derived from its seed. " +
      "Never regenerate to make a test pass: later versions must read this data or migrate it.",
    storageVersion: SEALED_STORAGE_VERSION,
    ciphersuite: "PANDA10_AES256GCM",
    groupId: hex(gid),
    messages,
    indexerKeyPackage: hex(kpIndexer[0] as Uint8Array),
    engines: fixtureEngines,
  };
  const text = JSON.stringify(fixture, null, 1) + "\n";
  writeFileSync(out, text);
  const counts = NAMES.map((n) => `${n} ${fixtureEngines[n].entries.length} entries`).join(", ");
  console.log(`wrote ${out}: ${text.length} bytes; ${counts}; ${messages.length} messages`);
} finally {
  await rm(root, { recursive: true, force: true });
}
