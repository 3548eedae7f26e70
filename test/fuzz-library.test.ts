/**
 * Fuzzing of the pure library: random and mutated bytes into every public decoder and into a
 * live group's processCommit and decrypt. Each case is accepted or refused with a typed error;
 * a decrypt that accepts mutated bytes returns one of the plaintexts really sent; the member's
 * state is unchanged by everything it refused and still follows the real group afterwards.
 * Case counts scale with FUZZ_SCALE (see fuzz-support.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeGroupState,
  decrypt,
  encodeGroupState,
  encrypt,
  inspectCommit,
  peekMessage,
  processCommit,
  removeMembers,
  updateGroup,
} from "../src/group/index.js";
import { decodeSecretGroupMessage } from "../src/message.js";
import { decodeSecretGroupCommit } from "../src/commit.js";
import { decodeLongTermSecretCiphertext } from "../src/lts/ciphertext.js";
import { decodeLongTermSecret, decodeLongTermSecrets } from "../src/lts/secret.js";
import { decodeDocument, signDocument } from "../src/documents/document.js";
import { createKeyPackage, keyPackageInfo } from "../src/keyPackage.js";
import { generateIdentity } from "../src/identity.js";
import { equalBytes } from "../src/bytes.js";
import { makeGroup, text } from "./group-fixtures.js";
import { FUZZ_SEED, Outcomes, cases, mutate, prng, typedOutcome } from "./fuzz-support.js";

/** A live group: bob's state one commit behind the owner, messages of both schemes in bob's epoch. */
async function liveGroup() {
  const { owner, members } = await makeGroup(2);
  const [bob, carol] = members as [NonNullable<(typeof members)[0]>, NonNullable<(typeof members)[1]>];
  const sent: Array<{ bytes: Uint8Array; plaintext: Uint8Array }> = [];
  for (const [who, scheme] of [
    [owner, "long-term"],
    [owner, "sender-ratchet"],
    [carol, "sender-ratchet"],
    [carol, "long-term"],
  ] as const) {
    const plaintext = text(`${scheme} ${sent.length}`);
    const e = await encrypt(who.state, plaintext, { scheme });
    who.state = e.state;
    sent.push({ bytes: e.message, plaintext });
  }
  const update = await updateGroup(owner.state, { rotate: true });
  const removal = await removeMembers(update.state, [carol.identity.publicKey]);
  return { owner, bob, sent, commits: [update.commit, removal.commit] };
}

test("fuzz: mutated commits and messages into a live group's processCommit and decrypt", async () => {
  const r = prng(FUZZ_SEED);
  const { bob, sent, commits } = await liveGroup();
  const before = encodeGroupState(bob.state);
  const commitOutcomes = new Outcomes();
  const next = commits[0] as Uint8Array;
  for (let i = 0; i < cases(2500); i++) {
    const { kind, bytes } = mutate(r, next, r.pick(commits));
    const s = await typedOutcome(commitOutcomes, `processCommit case ${i} (${kind})`, () => processCommit(bob.state, bytes));
    // a mutation may only be accepted where it is the same commit (an unauthenticated byte can't exist in a PublicMessage)
    if (s !== undefined) assert.ok(equalBytes(bytes, next), `processCommit case ${i} (${kind}) accepted altered bytes`);
  }
  const messageOutcomes = new Outcomes();
  const plaintexts = sent.map((m) => m.plaintext);
  for (let i = 0; i < cases(5000); i++) {
    const m = r.pick(sent);
    const { kind, bytes } = mutate(r, m.bytes, r.pick(sent).bytes);
    const d = await typedOutcome(messageOutcomes, `decrypt case ${i} (${kind})`, () => decrypt(bob.state, bytes));
    if (d !== undefined) assert.ok(plaintexts.some((p) => equalBytes(p, d.plaintext)), `decrypt case ${i} (${kind}) released a plaintext nobody sent`);
  }
  // refused input left bob's state as it was, and bob still reads and follows the real group
  assert.ok(equalBytes(encodeGroupState(bob.state), before), "bob's state unchanged");
  let state = bob.state;
  for (const m of sent) {
    const d = await decrypt(state, m.bytes);
    state = d.state;
    assert.ok(equalBytes(d.plaintext, m.plaintext));
  }
  state = await processCommit(state, next);
  assert.equal(state.mlsEpoch, bob.state.mlsEpoch + 1n);
  console.log(`processCommit: ${commitOutcomes.total} cases: ${commitOutcomes}`);
  console.log(`decrypt: ${messageOutcomes.total} cases: ${messageOutcomes}`);
});

test("fuzz: random and mutated bytes into every public decoder", async () => {
  const r = prng(FUZZ_SEED + 1);
  const { bob, sent, commits } = await liveGroup();
  const kp = await createKeyPackage(generateIdentity());
  const doc = signDocument(generateIdentity(), "chat_v1", { body: "hello", n: 3, raw: new Uint8Array([1, 2, 3]) });
  const lt = sent.find((m) => peekMessage(m.bytes).scheme === "long-term") as { bytes: Uint8Array };
  const ltCiphertext = lt.bytes.subarray(1); // SecretGroupMessage type byte, then the LongTermSecretCiphertext
  const secrets = bob.state.secrets;
  const { encodeLongTermSecret, encodeLongTermSecrets } = await import("../src/lts/secret.js");
  // signed: accepting altered bytes would mean a forged signature
  const targets: Array<{ name: string; inputs: Uint8Array[]; decode: (b: Uint8Array) => unknown; runs: number; signed?: boolean }> = [
    { name: "SecretGroupMessage", inputs: sent.map((m) => m.bytes), decode: decodeSecretGroupMessage, runs: 12000 },
    { name: "peekMessage", inputs: sent.map((m) => m.bytes), decode: peekMessage, runs: 8000 },
    { name: "SecretGroupCommit", inputs: commits, decode: decodeSecretGroupCommit, runs: 8000 },
    { name: "inspectCommit", inputs: commits, decode: inspectCommit, runs: 3000 },
    { name: "LongTermSecretCiphertext", inputs: [ltCiphertext], decode: decodeLongTermSecretCiphertext, runs: 12000 },
    { name: "LongTermSecret", inputs: secrets.map((s) => encodeLongTermSecret(s)), decode: decodeLongTermSecret, runs: 12000 },
    { name: "LongTermSecret list", inputs: [encodeLongTermSecrets(secrets)], decode: decodeLongTermSecrets, runs: 8000 },
    { name: "KeyPackage", inputs: [kp.keyPackage], decode: keyPackageInfo, runs: 4000 },
    { name: "SignedDocument", inputs: [doc.bytes], decode: decodeDocument, runs: 10000, signed: true },
    { name: "GroupState", inputs: [encodeGroupState(bob.state)], decode: (b) => decodeGroupState(b), runs: 1500 },
  ];
  const report: string[] = [];
  let total = 0;
  for (const t of targets) {
    const outcomes = new Outcomes();
    for (let i = 0; i < cases(t.runs); i++) {
      const input = r.pick(t.inputs);
      const { kind, bytes } = mutate(r, input, r.pick(t.inputs));
      const value = await typedOutcome(outcomes, `${t.name} case ${i} (${kind})`, () => t.decode(bytes));
      if (t.signed && value !== undefined) assert.ok(t.inputs.some((x) => equalBytes(x, bytes)), `${t.name} case ${i} (${kind}) accepted altered bytes`);
    }
    total += outcomes.total;
    report.push(`${t.name} ${outcomes.total} (${outcomes})`);
  }
  console.log(`decoders: ${total} cases: ${report.join("; ")}`);
});
