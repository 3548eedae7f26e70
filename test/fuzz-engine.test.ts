/**
 * Fuzzing of the engine's ingest and decrypt with a stranger's documents: mutated bytes
 * (truncated, extended, bit-flipped, spliced, random) and documents re-signed by their real
 * author after a field was mutated, so they pass the signature check and reach the protocol.
 * Each case is refused with a typed error or accepted; a chunk of cases that were all refused
 * leaves the whole database byte-for-byte as it was, and no case changes the group's state
 * records (the member still decrypts and follows the group afterwards).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SecretGroupError } from "../src/errors.js";
import { decodeDocument, signDocument } from "../src/documents/document.js";
import type { FieldValue } from "../src/documents/schema.js";
import { equalBytes, toHex } from "../src/bytes.js";
import { groupWithMember, openNode } from "./engine-helpers.js";
import { rawDb } from "./storage-support.js";
import { FUZZ_SEED, Outcomes, cases, mutate, prng } from "./fuzz-support.js";
import type { Identity } from "../src/identity.js";
import { cp, rm } from "node:fs/promises";
import { liveDump } from "./adversarial-support.js";

/** Sublevels that hold a group's state (everything else records documents seen). */
const STATE_SUBLEVELS = ["!groups!", "!state!", "!keypkgs!", "!sent!"];

async function dump(path: string): Promise<Map<string, string>> {
  const db = rawDb(path);
  const out = new Map<string, string>();
  for await (const [k, v] of db.iterator()) out.set(k, toHex(v));
  await db.close();
  return out;
}
function diff(a: Map<string, string>, b: Map<string, string>, only?: readonly string[]): string[] {
  const keep = (k: string): boolean => only === undefined || only.some((p) => k.startsWith(p));
  const out: string[] = [];
  for (const [k, v] of a) if (keep(k) && b.get(k) !== v) out.push(`changed or removed ${k}`);
  for (const k of b.keys()) if (keep(k) && !a.has(k)) out.push(`added ${k}`);
  return out;
}

async function ingestOutcome(ingest: () => Promise<unknown>, what: string, outcomes: Outcomes): Promise<boolean> {
  try {
    await ingest();
    outcomes.add("accepted");
    return true;
  } catch (e) {
    if (!(e instanceof SecretGroupError)) assert.fail(`${what}: untyped error ${String(e)}`);
    outcomes.add(e.code);
    return false;
  }
}

/** A field of `bytes` mutated and the document signed again by `author`. */
function resigned(r: ReturnType<typeof prng>, bytes: Uint8Array, author: Identity): Uint8Array | undefined {
  const doc = decodeDocument(bytes);
  const names = Object.keys(doc.fields).filter((n) => doc.fields[n] instanceof Uint8Array);
  if (names.length === 0) return undefined;
  const name = r.pick(names);
  const value = doc.fields[name] as Uint8Array;
  const fields: Record<string, FieldValue> = { ...doc.fields, [name]: mutate(r, value, value).bytes };
  try {
    return signDocument(author, doc.schema, fields, { timestamp: doc.timestamp }).bytes;
  } catch {
    return undefined; // the mutation broke a rule the signer itself enforces
  }
}

test("fuzz: a stranger's mutated and re-signed documents and messages into a member's engine", { timeout: 300_000 }, async () => {
  const r = prng(FUZZ_SEED + 2);
  const owner = await openNode();
  const member = await openNode();
  let engine = member.engine;
  try {
    const { gid, documents } = await groupWithMember(owner.engine, engine);
    const update = await owner.engine.updateGroup(gid);
    const sent: Array<{ bytes: Uint8Array; plaintext: Uint8Array }> = [];
    for (const scheme of ["long-term", "sender-ratchet"] as const) {
      for (let i = 0; i < 2; i++) {
        const plaintext = new TextEncoder().encode(`${scheme} ${i}`);
        sent.push({ bytes: await owner.engine.encrypt(gid, plaintext, { scheme }), plaintext });
      }
    }
    // the documents the member already has (an identical copy is a duplicate, never a change);
    // the owner's next commit is delivered only after the fuzz
    const valid = [...documents];
    const authorOf = (bytes: Uint8Array): Identity => (equalBytes(decodeDocument(bytes).author, owner.identity.publicKey) ? owner.identity : member.identity);
    const ingestOutcomes = new Outcomes();
    const resignedOutcomes = new Outcomes();
    const decryptOutcomes = new Outcomes();
    let wholeChunks = 0;
    const chunks = Math.max(2, cases(8));
    for (let chunk = 0; chunk < chunks; chunk++) {
      await engine.close();
      const before = await dump(member.path);
      engine = await member.reopen();
      // even chunks: mutated bytes only (anything accepted must be an exact duplicate, which writes
      // nothing), so the whole database is compared; odd chunks: re-signed documents, which may be
      // kept (as pending commits, say) but never change a group's state
      const resignedChunk = chunk % 2 === 1;
      if (!resignedChunk) {
        for (let i = 0; i < cases(300); i++) {
          const input = r.pick(valid);
          const { kind, bytes } = mutate(r, input, r.pick(valid));
          const identical = valid.some((v) => equalBytes(v, bytes));
          const ok = await ingestOutcome(() => engine.ingest([bytes]), `chunk ${chunk} case ${i} (${kind})`, ingestOutcomes);
          if (ok && !identical) assert.fail(`chunk ${chunk} case ${i} (${kind}): altered signed bytes accepted`);
        }
      } else {
        for (let i = 0; i < cases(200); i++) {
          const input = r.pick(valid);
          const bytes = resigned(r, input, authorOf(input));
          if (bytes !== undefined) await ingestOutcome(() => engine.ingest([bytes]), `chunk ${chunk} re-signed case ${i}`, resignedOutcomes);
        }
      }
      for (let i = 0; i < cases(150); i++) {
        const m = r.pick(sent);
        const { kind, bytes } = mutate(r, m.bytes, r.pick(sent).bytes);
        const [result] = await engine.decrypt([bytes]);
        if (result instanceof Error) {
          if (!(result instanceof SecretGroupError)) assert.fail(`decrypt case ${i} (${kind}): untyped ${String(result)}`);
          decryptOutcomes.add(result.code);
        } else {
          decryptOutcomes.add("accepted");
          const plaintext = result as Uint8Array;
          assert.ok(sent.some((s) => equalBytes(s.plaintext, plaintext)), `decrypt case ${i} (${kind}) released a plaintext nobody sent`);
        }
      }
      await engine.close();
      const after = await dump(member.path);
      // refused input writes nothing; accepted input (duplicates, re-signed documents kept as pending) never touches group state
      const changed = diff(before, after, resignedChunk ? STATE_SUBLEVELS : undefined);
      assert.deepEqual(changed, [], `chunk ${chunk}: stored state changed by refused input`);
      if (!resignedChunk) wholeChunks++;
      engine = await member.reopen();
    }
    // the member still follows the group and reads every message
    await engine.ingest(update.documents);
    assert.equal(await engine.status(gid), "member");
    assert.deepEqual(await engine.describe(gid).then((d) => d.mlsEpoch), await owner.engine.describe(gid).then((d) => d.mlsEpoch));
    const fresh = await owner.engine.encrypt(gid, new TextEncoder().encode("after the fuzz"), { scheme: "long-term" });
    const [read] = await engine.decrypt([fresh]);
    assert.deepEqual(read, new TextEncoder().encode("after the fuzz"));
    console.log(`ingest: ${ingestOutcomes.total} cases: ${ingestOutcomes}`);
    console.log(`re-signed ingest: ${resignedOutcomes.total} cases: ${resignedOutcomes}`);
    console.log(`engine decrypt: ${decryptOutcomes.total} cases: ${decryptOutcomes}`);
    console.log(`chunks: ${chunks}, whole database compared after ${wholeChunks}, group state after the others`);
  } finally {
    await engine.close().catch(() => undefined);
    await owner.engine.close();
    await owner.cleanup();
    await member.cleanup();
  }
});

test("fuzz: the owner's next commit, mutated and re-signed, and random commit bytes into a member engine's commit processing", { timeout: 300_000 }, async () => {
  const r = prng(FUZZ_SEED + 3);
  const owner = await openNode();
  const member = await openNode();
  try {
    const { gid } = await groupWithMember(owner.engine, member.engine);
    const next = (await owner.engine.rotate(gid)).documents[0] as Uint8Array;
    const real = decodeDocument(next);
    const names = ["mls_commit_message", "encrypted_long_term_secrets", "previous_commit", "secret_group"] as const;
    const outcomes = new Outcomes();
    const randomOutcomes = new Outcomes();
    // a copy of the member's database to return to after an accepted case
    await member.engine.close();
    const snapshot = `${member.path}-snapshot`;
    await cp(member.path, snapshot, { recursive: true });
    member.engine = await member.reopen();
    const before = await liveDump(member.engine);
    const run = async (bytes: Uint8Array, what: string, into: Outcomes): Promise<void> => {
      const accepted = await ingestOutcome(() => member.engine.ingest([bytes]), what, into);
      const after = await liveDump(member.engine);
      // refused: not one entry of the database changed; accepted: only as a commit kept pending,
      // never a change of the group's state
      const changed = diff(before, after, accepted ? ["groups/", "state/", "keypkgs/", "sent/"] : undefined);
      assert.deepEqual(changed, [], `${what}: the database changed (${accepted ? "accepted" : "refused"})`);
      if (accepted) {
        // forget what was kept, so the next case starts from the same database
        await member.engine.close();
        await rm(member.path, { recursive: true, force: true });
        await cp(snapshot, member.path, { recursive: true });
        member.engine = await member.reopen();
      }
    };
    for (let i = 0; i < cases(350); i++) {
      const name = r.pick(names);
      const value = real.fields[name] as Uint8Array;
      const fields: Record<string, FieldValue> = { ...real.fields, [name]: mutate(r, value, r.pick(names.map((n) => real.fields[n] as Uint8Array))).bytes };
      let bytes: Uint8Array;
      try {
        bytes = signDocument(owner.identity, real.schema, fields, { timestamp: real.timestamp }).bytes;
      } catch {
        continue; // the mutation broke a rule the signer itself enforces (an id's length)
      }
      if (equalBytes(bytes, next)) continue;
      await run(bytes, `re-signed ${name} case ${i}`, outcomes);
    }
    for (let i = 0; i < cases(100); i++) {
      const fields: Record<string, FieldValue> = { ...real.fields, mls_commit_message: r.bytes(r.int(600)) };
      await run(signDocument(owner.identity, real.schema, fields, { timestamp: real.timestamp }).bytes, `random commit case ${i}`, randomOutcomes);
    }
    await rm(snapshot, { recursive: true, force: true });
    assert.ok(!outcomes.counts.has("accepted") || (outcomes.counts.get("accepted") ?? 0) < outcomes.total / 4, `${outcomes}`);
    // the real commit still applies
    assert.deepEqual((await member.engine.ingest([next])).outcomes, ["applied"]);
    assert.deepEqual((await member.engine.describe(gid)).mlsEpoch, (await owner.engine.describe(gid)).mlsEpoch);
    console.log(`engine processCommit (owner-signed mutations of the next commit): ${outcomes.total} cases: ${outcomes}`);
    console.log(`engine processCommit (random commit bytes, owner-signed): ${randomOutcomes.total} cases: ${randomOutcomes}`);
  } finally {
    await owner.engine.close();
    await member.engine.close().catch(() => undefined);
    await owner.cleanup();
    await member.cleanup();
  }
});
