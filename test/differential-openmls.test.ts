/**
 * Differential test against OpenMLS, through Wire's core-crypto 10.3.0 WASM build (a GPL-3.0
 * dev dependency, see README "Interoperability"). Our members run our MLS adapter (src/mls)
 * over the patched ts-mls; core-crypto clients run OpenMLS. After every epoch both sides must
 * agree on the epoch and on MLS-Exporter("exporter", "", 32), the one label core-crypto
 * exports with; our long-term key and nonce labels are checked against an exporter written
 * from RFC 9420 alone (test/rfc9420-exporter.ts), anchored to OpenMLS by that same label.
 *
 * What does not cross, and why (asserted below where it is a property of core-crypto):
 * - core-crypto credentials are Wire client ids with keys it generates, so our auth service
 *   (credential == Ed25519 signature key) refuses them: our members here use the any-
 *   credential configuration, and the library layer (p2panda key packages only) is not used.
 * - core-crypto decrypts application messages only from senders whose credential is a Wire
 *   client id: from our p2panda-credential members it refuses; from our members with a Wire
 *   client id credential over their Ed25519 key it reads them.
 * - core-crypto removes members only by Wire client id, so its commits never remove our
 *   p2panda-credential members (ours remove anyone).
 * - openmls-wasm 0.1.0 (suite 3 only, any exporter label) cannot take part: its API neither
 *   serialises its KeyPackage nor reads one from bytes, so it can neither be added to our
 *   group nor add our members to its own.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { deriveLongTermNonce, deriveLongTermSecret } from "../src/lts/derive.js";
import type { LongTermCiphersuiteName } from "../src/constants.js";
import { CcMember, loadCoreCrypto } from "./corecrypto-support.js";
import type { SharedSuite } from "./corecrypto-support.js";
import { TsMember, applyAll, assertAgree, hex, identityOf, joinAll } from "./interop-support.js";
import { rng } from "./prng.js";
import type { Member } from "./interop-support.js";
import { rfcExporter } from "./rfc9420-exporter.js";

const loaded = await loadCoreCrypto();
const skip = "skip" in loaded ? loaded.skip : false;
const cc = "cc" in loaded ? loaded.cc : undefined;
const EMPTY = new Uint8Array(0);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

let clientCounter = 0;
async function newCc(suite: SharedSuite): Promise<CcMember> {
  if (cc === undefined) throw new Error("core-crypto not loaded");
  return CcMember.create(cc, suite, ++clientCounter);
}

/** A Wire client id for one of our members (core-crypto decrypts and removes only those). */
function wireIdFor(n: number): Uint8Array {
  if (cc === undefined) throw new Error("core-crypto not loaded");
  const uuid = `11111111-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
  return new cc.ClientId(new cc.Uuid(uuid), new cc.DeviceId(BigInt(n)), "example.org").copyBytes();
}

function clientIdOf(m: Member): InstanceType<NonNullable<typeof cc>["ClientId"]> {
  if (cc === undefined) throw new Error("core-crypto not loaded");
  if (m.kind === "cc") return m.clientId;
  if (m.wireId === undefined) throw new Error("core-crypto cannot name a p2panda-credential member");
  // core-crypto's ClientId parses `<uuid>:<device>@<domain>`: rebuild it from our bytes
  const [user, rest] = new TextDecoder().decode(m.wireId).split(":") as [string, string];
  const [device, domain] = rest.split("@") as [string, string];
  return new cc.ClientId(new cc.Uuid(user), new cc.DeviceId(BigInt(`0x${device}`)), domain);
}

/**
 * Our long-term key and nonce of this epoch equal the RFC 9420 exporter (test-written) over
 * the epoch's exporter_secret, whose "exporter" value must equal OpenMLS's.
 */
async function assertLongTerm(ours: TsMember, openmls: CcMember, ltEpoch: bigint, counter: bigint, author: Uint8Array, suite: LongTermCiphersuiteName): Promise<void> {
  const secret = ours.exporterSecret;
  assert.equal(hex(rfcExporter(secret, "exporter", EMPTY, 32)), hex(await openmls.exporter(32)), "RFC 9420 exporter over our exporter_secret equals OpenMLS's");
  const exporter = (label: string, length: number): Promise<Uint8Array> => ours.export(label, length);
  const groupId = new Uint8Array(32).fill(9);
  const key = await deriveLongTermSecret(exporter, groupId, suite, ltEpoch);
  const size = suite === "PANDA10_AES128GCM" ? 16 : 32;
  assert.equal(hex(key.value), hex(rfcExporter(secret, `long_term_secret${ltEpoch.toString(10)}`, EMPTY, size)), "long-term key");
  const nonce = await deriveLongTermNonce(exporter, author, counter);
  assert.equal(hex(nonce), hex(rfcExporter(secret, `long_term_nonce${hex(author)}${counter.toString(10)}`, EMPTY, 12)), "long-term nonce");
}

test("core-crypto loads, and failing transactions reject (the Error.isError polyfill works)", { skip }, async () => {
  const a = await newCc("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
  await a.createGroup(utf8("polyfill check"));
  // an error of ours inside a transaction: without Error.isError it would resolve to undefined
  await assert.rejects(() => a.client.transaction(async () => { throw new Error("ours"); }), /ours/);
  // an error of core-crypto's
  await assert.rejects(() => a.decrypt(Uint8Array.of(0, 1, 0, 2, 9, 9, 9)), (e: unknown) => cc?.CoreCryptoError.instanceOf(e) === true);
});

test("OpenMLS joins our Welcome and follows our commits (adds, removes, updates), also joins after removals", { skip }, async () => {
  const suite: SharedSuite = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";
  const r = rng(8);
  const owner = TsMember.fromSeed(r, suite);
  await owner.createGroup(r.bytes(32));
  let members: Member[] = [owner];
  let epoch = 0n;
  const commit = async (changes: { add?: Member[]; remove?: Member[] }, where: string): Promise<void> => {
    const add = await Promise.all((changes.add ?? []).map((m) => m.keyPackage()));
    const out = await owner.commit({ add, remove: (changes.remove ?? []).map(identityOf) });
    members = await applyAll(members, owner, out.commit);
    for (const gone of changes.remove ?? []) assert.ok(!members.includes(gone), `${where}: removed member left`);
    if (changes.add !== undefined) {
      assert.ok(out.welcome !== undefined);
      await joinAll(changes.add, out.welcome);
      members.push(...changes.add);
    }
    await assertAgree(members, ++epoch, where);
  };
  // 8 leaves: the owner and 7 members of both implementations, in one commit
  const seven: Member[] = [];
  for (let i = 0; i < 7; i++) seven.push(i % 2 === 0 ? await newCc(suite) : TsMember.fromSeed(r, suite));
  await commit({ add: seven }, "add 7");
  await commit({}, "owner update");
  // the shape ts-mls 1.6.4 refused: remove leaves 1 and 5, then add two (no UpdatePath)
  await commit({ remove: [seven[0] as Member, seven[4] as Member] }, "remove leaves 1 and 5");
  const ccLate = await newCc(suite);
  const tsLate = TsMember.fromSeed(r, suite);
  await commit({ add: [ccLate, tsLate] }, "add 2 after removals");
  assert.equal(tsLate.leaf, 5, "our late joiner sits at leaf 5");
  // one by one, after another removal
  await commit({ remove: [seven[2] as Member] }, "remove leaf 3");
  await commit({ add: [TsMember.fromSeed(r, suite)] }, "add ours after removal");
  await commit({ add: [await newCc(suite)] }, "add OpenMLS after removal");
  await commit({}, "owner update");
  // a removed OpenMLS client saw its removal
  assert.equal(members.length, 9);
});

test("our members join OpenMLS's Welcome and follow its commits (adds, removes, updates)", { skip }, async () => {
  const suite: SharedSuite = "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519";
  const r = rng(9);
  const owner = await newCc(suite);
  await owner.createGroup(r.bytes(32));
  let members: Member[] = [owner];
  let epoch = 0n;
  const step = async (out: { commit: Uint8Array; welcome?: Uint8Array }, added: Member[], where: string): Promise<void> => {
    members = await applyAll(members, owner, out.commit);
    if (added.length > 0) {
      assert.ok(out.welcome !== undefined);
      await joinAll(added, out.welcome);
      members.push(...added);
    }
    await assertAgree(members, ++epoch, where);
  };
  const first: Member[] = [TsMember.fromSeed(r, suite), await newCc(suite), TsMember.fromSeed(r, suite, wireIdFor(1)), TsMember.fromSeed(r, suite), await newCc(suite)];
  await step(await owner.add(await Promise.all(first.map((m) => m.keyPackage()))), first, "OpenMLS adds 5");
  await step({ commit: await owner.update() }, [], "OpenMLS update");
  await step({ commit: await owner.remove([clientIdOf(first[1] as Member), clientIdOf(first[2] as Member)]) }, [], "OpenMLS removes 2");
  assert.ok(!members.includes(first[2] as Member), "our Wire-credential member saw its removal");
  const late: Member[] = [TsMember.fromSeed(r, suite), await newCc(suite)];
  await step(await owner.add(await Promise.all(late.map((m) => m.keyPackage()))), late, "OpenMLS adds 2 after removals");
  await step({ commit: await owner.update() }, [], "OpenMLS update");
  // our member commits in OpenMLS's group, removing an OpenMLS client and adding one in the
  // same commit (the new leaf reuses the removed one: the removed client must still see it).
  // A removed ts-mls 1.6.4 member fails on such a commit (its "removed" check looks at its leaf
  // slot, which the Add refilled); the library never puts adds and removes in one commit.
  const ours = first[0] as TsMember;
  const more = [await newCc(suite)];
  const out = await ours.commit({ add: await Promise.all(more.map((m) => m.keyPackage())), remove: [identityOf(first[4] as Member)] });
  members = await applyAll(members, ours, out.commit);
  assert.ok(!members.includes(first[4] as Member), "the removed OpenMLS client saw its removal");
  await joinAll(more, out.welcome as Uint8Array);
  members.push(...more);
  await assertAgree(members, ++epoch, "our member removes and adds OpenMLS clients in OpenMLS's group");
  await step({ commit: await owner.update() }, [], "OpenMLS update after our commit");
  assert.equal(members.length, 6);
});

test("application messages cross both ways; core-crypto refuses our p2panda-credential senders", { skip }, async () => {
  const suite: SharedSuite = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";
  const r = rng(10);
  const owner = TsMember.fromSeed(r, suite);
  await owner.createGroup(r.bytes(32));
  const wireOurs = TsMember.fromSeed(r, suite, wireIdFor(2));
  const a = await newCc(suite);
  const b = await newCc(suite);
  const joiners: Member[] = [wireOurs, a, b];
  const out = await owner.commit({ add: await Promise.all(joiners.map((m) => m.keyPackage())) });
  await joinAll(joiners, out.welcome as Uint8Array);
  for (let round = 0; round < 3; round++) {
    // OpenMLS -> ours (both credential kinds) and OpenMLS
    const fromCc = utf8(`from OpenMLS ${round}`);
    const c1 = await a.encrypt(fromCc);
    assert.deepEqual(await owner.decrypt(c1), fromCc);
    assert.deepEqual(await wireOurs.decrypt(c1), fromCc);
    assert.deepEqual(await b.decrypt(c1), fromCc);
    // ours with a Wire client id credential -> OpenMLS
    const fromWire = utf8(`from ts-mls, Wire credential ${round}`);
    const c2 = await wireOurs.encrypt(fromWire);
    assert.deepEqual(await a.decrypt(c2), fromWire);
    assert.deepEqual(await b.decrypt(c2), fromWire);
    assert.deepEqual(await owner.decrypt(c2), fromWire);
    // ours with a p2panda credential -> OpenMLS: refused (it maps every sender to a Wire client id)
    const fromP2panda = utf8(`from ts-mls, p2panda credential ${round}`);
    const c3 = await owner.encrypt(fromP2panda);
    await assert.rejects(() => a.decrypt(c3), (e: unknown) => {
      const reason = (e as { inner?: { mlsError?: { inner?: { msg?: string } } } }).inner?.mlsError?.inner?.msg ?? "";
      return /client id was not of the format/.test(reason);
    });
    assert.deepEqual(await wireOurs.decrypt(c3), fromP2panda);
    // the epoch moves on; messages keep crossing
    const u = await owner.commit({});
    for (const m of joiners) assert.ok(m.kind === "cc" ? await m.applyCommit(u.commit) : await m.applyCommit(u.commit, owner.identityBytes));
  }
});

/** Seeds of the random mixed group; DIFF_SEEDS=n runs n seeds. */
const SEEDS = Array.from({ length: Number(process.env.DIFF_SEEDS ?? 3) }, (_, i) => i + 1);
const STEPS = Number(process.env.DIFF_STEPS ?? 24);

test(`random mixed group (seeds ${SEEDS.join(",")}, ${STEPS} commits each): epochs, exporter, long-term key and nonce agree after every epoch`, { skip }, async () => {
  for (const seed of SEEDS) {
    const r = rng(seed);
    const suite: SharedSuite = seed % 2 === 0 ? "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519" : "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";
    const ltSuite: LongTermCiphersuiteName = r.pick(["PANDA10_AES128GCM", "PANDA10_AES256GCM", "PANDA10_CHACHA20POLY1305"] as const);
    let wireN = 100 * seed;
    const fresh = async (): Promise<Member> => {
      const kind = r.int(3);
      if (kind === 0) return newCc(suite);
      return kind === 1 ? TsMember.fromSeed(r, suite) : TsMember.fromSeed(r, suite, wireIdFor(++wireN));
    };
    // anchors, never removed: one creator of each implementation's side
    const tsAnchor = TsMember.fromSeed(r, suite);
    const ccAnchor = await newCc(suite);
    let members: Member[];
    let epoch = 1n;
    if (seed % 2 === 1) {
      await tsAnchor.createGroup(r.bytes(32));
      const out = await tsAnchor.commit({ add: [await ccAnchor.keyPackage()] });
      await ccAnchor.join(out.welcome as Uint8Array);
    } else {
      await ccAnchor.createGroup(r.bytes(32));
      const out = await ccAnchor.add([await tsAnchor.keyPackage()]);
      await tsAnchor.join(out.welcome);
    }
    members = [tsAnchor, ccAnchor];
    const stats = { adds: 0, removes: 0, updates: 0, joins: 0, messages: 0, reads: 0, ccCommits: 0 };
    for (let step = 0; step < STEPS; step++) {
      const where = `seed ${seed} step ${step}`;
      const committer = r.pick(members);
      const op = members.length <= 3 ? 0 : r.int(3);
      let out: { commit: Uint8Array; welcome?: Uint8Array };
      let added: Member[] = [];
      if (op === 0) {
        added = [];
        for (let i = 1 + r.int(3); i > 0; i--) added.push(await fresh());
        const kps = await Promise.all(added.map((m) => m.keyPackage()));
        out = committer.kind === "cc" ? await committer.add(kps) : await committer.commit({ add: kps });
        stats.adds += added.length;
      } else if (op === 1) {
        // OpenMLS names members by Wire client id only: it removes Wire-credential members
        const removable = members.filter((m) => m !== committer && m !== tsAnchor && m !== ccAnchor && (committer.kind === "ts" || m.kind === "cc" || m.wireId !== undefined));
        const gone: Member[] = [];
        for (let i = 1 + r.int(2); i > 0 && removable.length > 0; i--) gone.push(...removable.splice(r.int(removable.length), 1));
        out = gone.length === 0 ? { commit: committer.kind === "cc" ? await committer.update() : (await committer.commit({})).commit } : committer.kind === "cc" ? { commit: await committer.remove(gone.map(clientIdOf)) } : await committer.commit({ remove: gone.map(identityOf) });
        stats.removes += gone.length;
        members = await applyAll(members, committer, out.commit);
        for (const g of gone) assert.ok(!members.includes(g), `${where}: removed member still active`);
      } else {
        out = { commit: committer.kind === "cc" ? await committer.update() : (await committer.commit({})).commit };
        stats.updates++;
      }
      if (committer.kind === "cc") stats.ccCommits++;
      if (op !== 1) members = await applyAll(members, committer, out.commit);
      if (added.length > 0) {
        await joinAll(added, out.welcome as Uint8Array);
        members.push(...added);
        stats.joins += added.length;
      }
      epoch++;
      await assertAgree(members, epoch, where);
      await assertLongTerm(tsAnchor, ccAnchor, BigInt(r.int(1000)), BigInt(r.int(1 << 30)), r.pick(members.filter((m): m is TsMember => m.kind === "ts")).identity.publicKey, ltSuite);
      // one application message from a random member, read by every member able to
      const sender = r.pick(members);
      const plaintext = r.bytes(1 + r.int(64));
      const message = await sender.encrypt(plaintext);
      stats.messages++;
      for (const m of members) {
        if (m === sender) continue;
        if (m.kind === "cc" && sender.kind === "ts" && sender.wireId === undefined) continue; // core-crypto refuses these senders
        assert.deepEqual(await m.decrypt(message), plaintext, `${where}: ${m.kind} reads ${sender.kind}`);
        stats.reads++;
      }
    }
    assert.ok(stats.joins > 0 && stats.removes > 0 && stats.ccCommits > 0, `seed ${seed}: workload mixes joins, removals, OpenMLS commits`);
    console.log(`differential seed ${seed} (${suite}): ${JSON.stringify(stats)}, final members ${members.length}`);
  }
});
