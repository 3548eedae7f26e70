/**
 * A group whose members use different crypto providers (ts-mls default vs node:crypto)
 * works both ways: commits (add, update, remove) made by either kind of member are
 * processed by the other kind, welcomes made by either are joined by either, and
 * application messages cross in both directions. Raw ts-mls (through bench/mlsHarness)
 * so that the provider is the only difference.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { CiphersuiteImpl, CiphersuiteName, ClientState } from "ts-mls";
import {
  adds,
  applyCommit,
  commit,
  exporterOf,
  join,
  leafOf,
  newGroup,
  newKeyPackage,
  open,
  removeLeaf,
  seal,
  suiteImpl,
  type ProviderLabel,
} from "../bench/mlsHarness.js";

interface Member {
  readonly name: string;
  readonly cs: CiphersuiteImpl;
  state: ClientState;
}

async function allAgree(members: Member[]): Promise<void> {
  const values = await Promise.all(members.map((m) => exporterOf(m.cs, m.state)));
  for (const [i, v] of values.entries()) assert.deepEqual(v, values[0], `${members[i]!.name} disagrees on the epoch secret`);
  const epochs = new Set(members.map((m) => m.state.groupContext.epoch));
  assert.equal(epochs.size, 1);
}

async function broadcast(members: Member[], from: Member, text: string): Promise<void> {
  const pt = new TextEncoder().encode(text);
  const s = await seal(from.cs, from.state, pt);
  from.state = s.state;
  for (const m of members) {
    if (m === from) continue;
    const r = await open(m.cs, m.state, s.message);
    m.state = r.state;
    assert.deepEqual(r.plaintext, pt, `${m.name} read ${from.name}'s message`);
  }
}

async function commitAndApply(members: Member[], from: Member, c: Awaited<ReturnType<typeof commit>>): Promise<void> {
  from.state = c.state;
  for (const m of members) if (m !== from) m.state = await applyCommit(m.cs, m.state, c.commit);
}

async function scenario(suite: CiphersuiteName, ownerProvider: ProviderLabel): Promise<void> {
  const other: ProviderLabel = ownerProvider === "node" ? "default" : "node";
  const cs = { node: await suiteImpl("node", suite), default: await suiteImpl("default", suite) };
  const owner: Member = { name: `owner(${ownerProvider})`, cs: cs[ownerProvider], state: await newGroup(cs[ownerProvider]) };

  // Owner adds one member of each kind; each generates its key package with its own provider.
  const kpB = await newKeyPackage(cs[other]);
  const kpC = await newKeyPackage(cs[ownerProvider]);
  const add1 = await commit(owner.cs, owner.state, adds([kpB.publicPackage, kpC.publicPackage]));
  owner.state = add1.state;
  const b: Member = { name: `b(${other})`, cs: cs[other], state: await join(cs[other], add1.welcome!, kpB, owner.state.ratchetTree) };
  const c: Member = { name: `c(${ownerProvider})`, cs: cs[ownerProvider], state: await join(cs[ownerProvider], add1.welcome!, kpC, owner.state.ratchetTree) };
  const members = [owner, b, c];
  await allAgree(members);

  // Application messages both ways.
  await broadcast(members, owner, "from owner");
  await broadcast(members, b, "from b");
  await broadcast(members, c, "from c");

  // The other-provider member commits an update (path) and then adds someone of the owner's kind.
  await commitAndApply(members, b, await commit(b.cs, b.state));
  await allAgree(members);
  const kpD = await newKeyPackage(cs[ownerProvider]);
  const add2 = await commit(b.cs, b.state, adds([kpD.publicPackage]));
  await commitAndApply(members, b, add2);
  const d: Member = { name: `d(${ownerProvider})`, cs: cs[ownerProvider], state: await join(cs[ownerProvider], add2.welcome!, kpD, b.state.ratchetTree) };
  members.push(d);
  await allAgree(members);
  await broadcast(members, d, "from d");

  // Owner updates, then removes c; b (other provider) removes d.
  await commitAndApply(members, owner, await commit(owner.cs, owner.state));
  await allAgree(members);
  await commitAndApply(members, owner, await commit(owner.cs, owner.state, [removeLeaf(leafOf(c.state))]));
  members.splice(members.indexOf(c), 1);
  await allAgree(members);
  await commitAndApply(members, b, await commit(b.cs, b.state, [removeLeaf(leafOf(d.state))]));
  members.splice(members.indexOf(d), 1);
  await allAgree(members);
  await broadcast(members, owner, "after removals");
  await broadcast(members, b, "after removals, b");
}

for (const suite of ["MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519"] as const) {
  test(`mixed providers, node owner: ${suite}`, () => scenario(suite, "node"));
  test(`mixed providers, default owner: ${suite}`, () => scenario(suite, "default"));
}
// One suite with delegated HPKE, to cover the delegation path in a live group.
test("mixed providers, node owner: MLS_128_DHKEMP256_AES128GCM_SHA256_P256", () =>
  scenario("MLS_128_DHKEMP256_AES128GCM_SHA256_P256", "node"));
