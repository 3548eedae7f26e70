/**
 * Secrets at rest (README "Threat model"): no file of a store folder holds the identity's secret
 * key, a key package's private keys (init and encryption key), a long-term secret or a kept
 * plaintext, raw or hex or base64, while the engine runs, after a join consumed a key package,
 * and after close; a database written in the clear by format 1 holds none once opened; a
 * consumed key package's sealed record, still in LevelDB's files as a tombstoned value, can no
 * longer be opened with everything the folder and the storage key yield (crypto-shredding).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "../src/bytes.js";
import { signDocument } from "../src/documents/index.js";
import { decodeKeyPackageSecret } from "../src/keyPackage.js";
import { decodeKeyPackageRecord } from "../src/engine/store/records.js";
import { secretsOfStateHead } from "../src/engine/store/stateCodec.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { Keyring } from "../src/engine/store/keyring.js";
import { deriveStorageKey, Sealer } from "../src/engine/store/seal.js";
import type { Identity } from "../src/identity.js";
import { identityFromSecretKey } from "../src/identity.js";
import { ingestAll, openNode, openStore } from "./engine-helpers.js";
import { fileCount, scanFolder, snapshot } from "./file-scan-support.js";
import type { Needle } from "./file-scan-support.js";
import { loadFixture, rawDb, restored, unhex } from "./storage-support.js";

const text = (r: Uint8Array | Error | undefined): Uint8Array => {
  if (!(r instanceof Uint8Array)) throw r ?? new Error("missing");
  return r;
};

/** Own key package records of a closed store: ref -> { raw sealed value, private keys }. */
async function keyPackagesOf(path: string, identity: Identity): Promise<Map<string, { raw: Uint8Array; init: Uint8Array; hpke: Uint8Array }>> {
  const store = await openStore(path, identity);
  try {
    const raw = new Map(await store.rawScan(Sublevel.KeyPackages, ""));
    const out = new Map<string, { raw: Uint8Array; init: Uint8Array; hpke: Uint8Array }>();
    for (const [ref, value] of await store.scan(Sublevel.KeyPackages, "", "key package record")) {
      const secret = decodeKeyPackageSecret(decodeKeyPackageRecord(value).secret);
      out.set(ref, { raw: raw.get(ref) as Uint8Array, init: secret.initPrivateKey, hpke: secret.hpkePrivateKey });
    }
    return out;
  } finally {
    await store.close();
  }
}

/** The long-term secret values in a closed store's state head of `gid`. */
async function longTermSecretsOf(path: string, identity: Identity, gid: string): Promise<Uint8Array[]> {
  const store = await openStore(path, identity);
  try {
    const head = await store.get(Sublevel.State, `${gid}/h`, "state head");
    assert.ok(head !== undefined);
    return secretsOfStateHead(head).map((s) => s.value);
  } finally {
    await store.close();
  }
}

test("no store file holds the identity key, key package private keys, long-term secrets or plaintexts", async () => {
  const scratch = await mkdtemp(join(tmpdir(), "sg-scan-"));
  const alice = await openNode();
  const bob = await openNode();
  let bobEngine = bob.engine;
  try {
    const kp1 = (await bobEngine.publishKeyPackage()).documents;
    await bobEngine.publishKeyPackage(); // never used: stays sealed under its own key
    await bobEngine.close();
    const packages = await keyPackagesOf(bob.path, bob.identity);
    assert.equal(packages.size, 2);
    bobEngine = await bob.reopen();

    const created = await alice.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const gid = created.groupId as Uint8Array;
    const add = await alice.engine.addMembers(gid, kp1);
    await ingestAll(bobEngine, [...created.documents, ...add.documents]);
    assert.equal(await bobEngine.status(gid), "member");
    const plaintexts = Array.from({ length: 4 }, () => new Uint8Array(randomBytes(48)));
    const m1 = await alice.engine.encrypt(gid, plaintexts[0] as Uint8Array, { scheme: "long-term" });
    const m2 = await alice.engine.encrypt(gid, plaintexts[1] as Uint8Array, { scheme: "sender-ratchet" });
    const m3 = await bobEngine.encrypt(gid, plaintexts[2] as Uint8Array, { scheme: "sender-ratchet" });
    const m4 = await bobEngine.encrypt(gid, plaintexts[3] as Uint8Array, { scheme: "long-term" });
    assert.deepEqual((await bobEngine.decrypt([m1, m2, m3])).map(text), plaintexts.slice(0, 3));
    assert.deepEqual((await alice.engine.decrypt([m3, m4])).map(text), plaintexts.slice(2));
    // an operation bob materialises (decrypted values kept in opvalues), in both schemes
    const opValues = [new Uint8Array(randomBytes(48)), new Uint8Array(randomBytes(48))];
    for (const [i, scheme] of (["long-term", "sender-ratchet"] as const).entries()) {
      const fields = await alice.engine.encryptFields(gid, { body: opValues[i] as Uint8Array }, { scheme, schema: "note_v1" });
      const op = signDocument(alice.identity, "note_v1", fields);
      await ingestAll(bobEngine, [op.bytes]);
      assert.deepEqual((await bobEngine.read(op.id))?.fields["body"], opValues[i], `bob materialised the ${scheme} operation`);
    }
    await snapshot(alice.path, join(scratch, "alice-open"));
    await snapshot(bob.path, join(scratch, "bob-open"));
    await alice.engine.close();
    await bobEngine.close();
    await snapshot(alice.path, join(scratch, "alice-closed"));
    await snapshot(bob.path, join(scratch, "bob-closed"));

    const secrets: Needle[] = [
      { name: "alice identity secret key", bytes: alice.identity.secretKey },
      { name: "bob identity secret key", bytes: bob.identity.secretKey },
      ...[...packages.values()].flatMap((p, i) => [
        { name: `bob key package ${i} init private key`, bytes: p.init },
        { name: `bob key package ${i} encryption private key`, bytes: p.hpke },
      ]),
      ...plaintexts.map((bytes, i) => ({ name: `plaintext ${i}`, bytes })),
      ...opValues.map((bytes, i) => ({ name: `materialised operation value ${i}`, bytes })),
      ...(await longTermSecretsOf(alice.path, alice.identity, toHex(gid))).map((bytes, i) => ({ name: `long-term secret ${i}`, bytes })),
    ];
    assert.equal(secrets.length, 2 + 4 + 4 + 2 + 1);
    for (const copy of ["alice-open", "bob-open", "alice-closed", "bob-closed"]) {
      const folder = join(scratch, copy);
      assert.ok((await fileCount(folder)) >= 4, `${copy}: LevelDB files and the keyring`);
      assert.deepEqual(await scanFolder(folder, secrets), [], `${copy}: no secret in any file`);
      // the scan sees the files' content: public values are found
      const pub = await scanFolder(folder, [{ name: "group id", bytes: gid }]);
      assert.ok(pub.some((f) => f.encoding === "raw"), `${copy}: the group id (public) is found`);
    }

    // control: the same secrets written in the clear into a LevelDB are all found by the scan
    const clear = join(scratch, "clear");
    const db = rawDb(clear);
    await db.open();
    await db.batch(secrets.map((s, i) => ({ type: "put" as const, key: `!state!${i}`, value: Uint8Array.from([1, ...s.bytes]) })));
    await db.close();
    const found = new Set((await scanFolder(clear, secrets)).map((f) => f.name));
    assert.equal(found.size, secrets.length, "the scan finds every secret of a store in the clear");

    // crypto-shredding: the consumed key package's sealed record is still in LevelDB's files
    // (a delete is a tombstone), but its key left the keyring, so neither the storage key nor
    // any key the keyring file yields opens it
    const storageKey = deriveStorageKey(bob.identity.secretKey);
    const sealer = new Sealer(new Map([[0, storageKey]]), 0);
    const keyring = await Keyring.load(bob.path, sealer);
    const left = keyring.ids();
    assert.equal(left.length, 1, "one own key left: the unused key package's");
    const [usedRef, used] = [...packages.entries()].find(([ref]) => !left.includes(`${Sublevel.KeyPackages}/${ref}`)) as [string, { raw: Uint8Array }];
    const body = used.raw.subarray(used.raw.length - 40);
    const inFiles = await scanFolder(join(scratch, "bob-closed"), [{ name: "sealed consumed key package", bytes: body }]);
    assert.ok(inFiles.some((f) => f.encoding === "raw"), "the deleted record's sealed bytes are still in LevelDB's files");
    for (const id of left) {
      assert.throws(() => sealer.open(Sublevel.KeyPackages, usedRef, used.raw, () => keyring.get(id)), { code: "STORAGE_INTEGRITY" });
    }
    assert.throws(() => sealer.open(Sublevel.KeyPackages, usedRef, used.raw, () => storageKey), { code: "STORAGE_INTEGRITY" });
    assert.throws(() => sealer.open(Sublevel.KeyPackages, usedRef, used.raw, () => undefined), { code: "STORAGE_INTEGRITY" });
  } finally {
    for (const n of [alice, bob]) await n.cleanup();
    await rm(scratch, { recursive: true, force: true });
  }
});

test("a format 1 database (in the clear) holds no secret in its files once opened", async () => {
  const fixture = loadFixture("storage-v1.json");
  const member = fixture.engines.member;
  const identity = identityFromSecretKey(unhex(member.seed));
  const clearRecord = member.entries.find(([k]) => k.startsWith(`!${Sublevel.KeyPackages}!`));
  assert.ok(clearRecord !== undefined, "the frozen member keeps an unused key package in the clear");
  const secret = decodeKeyPackageSecret(decodeKeyPackageRecord(unhex(clearRecord[1]).subarray(1)).secret);
  const secrets: Needle[] = [
    { name: "identity secret key", bytes: identity.secretKey },
    { name: "key package init private key", bytes: secret.initPrivateKey },
    { name: "key package encryption private key", bytes: secret.hpkePrivateKey },
  ];
  const { engine, path, cleanup } = await restored(fixture, "member");
  try {
    await engine.close();
    assert.deepEqual(await scanFolder(path, secrets), [], "sealed and compacted: no clear copy left in the files");
    const store = await openStore(path, identity);
    try {
      assert.equal((await store.scan(Sublevel.KeyPackages, "", "key package record")).length, 1, "the key package is still there, sealed");
    } finally {
      await store.close();
    }
  } finally {
    await cleanup();
  }
});
