/**
 * A scenario for the materialised-operation tests (issue 10): an owner and two members, a late
 * joiner and a member removed halfway, each writing operations in both schemes (creates and
 * updates) between the commits, and one shuffled stream of every document. `expectations` says
 * what each node must read of each operation, or why it cannot.
 *
 * @module
 */
import { toHex } from "../src/bytes.js";
import type { SchemeName } from "../src/constants.js";
import { signDocument } from "../src/documents/index.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import type { Identity } from "../src/identity.js";

/** The application schema of the scenario. */
export const APP_SCHEMA = "chat_message_v1";

/** One written operation. */
export interface WrittenOp {
  readonly id: string;
  readonly bytes: Uint8Array;
  readonly scheme: SchemeName;
  readonly body: string;
  readonly round: 1 | 2;
  readonly author: string;
}

/** A node of the scenario. */
export interface ScenarioNode {
  readonly name: "owner" | "alice" | "bob" | "late" | "removed";
  readonly engine: SecretGroupEngine;
  readonly identity: Identity;
}

/** What a node must see of one operation: its body, or an error code. */
export type Expected = { readonly body: string } | { readonly code: string };

/**
 * Writes `count` operations for each author, alternating schemes; every third one updates the
 * author's previous one (so update ciphertexts are bound to the document they edit).
 */
export async function writeOps(gid: Uint8Array, authors: readonly ScenarioNode[], count: number, round: 1 | 2): Promise<WrittenOp[]> {
  const out: WrittenOp[] = [];
  for (const author of authors) {
    let previous: Uint8Array | undefined;
    for (let k = 0; k < count; k++) {
      const scheme: SchemeName = k % 2 === 0 ? "long-term" : "sender-ratchet";
      const body = `${author.name} round ${round} op ${k} (${scheme})`;
      const update = previous !== undefined && k % 3 === 2 ? { documentId: previous } : {};
      const fields = await author.engine.encryptFields(gid, { body, n: k }, { scheme, schema: APP_SCHEMA, names: ["body"], ...update });
      const doc = signDocument(author.identity, APP_SCHEMA, fields, update);
      previous = doc.documentId ?? doc.id;
      out.push({ id: toHex(doc.id), bytes: doc.bytes, scheme, body, round, author: author.name });
    }
  }
  return out;
}

/**
 * What `node` must read of `op`: members of the round read it; the late joiner reads the
 * long-term ones of round 1 and gets `UNKNOWN_EPOCH` for sender-ratchet ones (keys from before
 * it joined); the removed member gets `NOT_MEMBER` for round 2.
 */
export function expectation(node: ScenarioNode["name"], op: WrittenOp): Expected {
  if (node === "late" && op.round === 1) return op.scheme === "long-term" ? { body: op.body } : { code: "UNKNOWN_EPOCH" };
  if (node === "removed" && op.round === 2) return { code: "NOT_MEMBER" };
  return { body: op.body };
}

/** The scenario's documents: everything published, and the operations among them. */
export interface Scenario {
  readonly gid: Uint8Array;
  /** Every document (group, key packages, commits, operations), in publishing order. */
  readonly documents: Uint8Array[];
  readonly ops: WrittenOp[];
}

/**
 * Plays the scenario: the owner adds alice, bob and `removed`; those four write round 1; the
 * owner adds `late` and removes `removed`; the owner, alice, bob and late write round 2. Writers
 * ingest only the commits they need to write; nobody ingests the operations yet.
 */
export async function playScenario(nodes: Record<ScenarioNode["name"], ScenarioNode>, perAuthor: number): Promise<Scenario> {
  const { owner, alice, bob, late, removed } = nodes;
  const kp = async (n: ScenarioNode) => (await n.engine.publishKeyPackage()).documents;
  const [kpA, kpB, kpR, kpL] = [await kp(alice), await kp(bob), await kp(removed), await kp(late)];
  const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES128GCM" });
  const gid = created.groupId as Uint8Array;
  const first = await owner.engine.addMembers(gid, [...kpA, ...kpB, ...kpR]);
  const setup = [...created.documents, ...kpA, ...kpB, ...kpR, ...first.documents];
  for (const n of [alice, bob, removed]) await n.engine.ingest(setup);
  const round1 = await writeOps(gid, [owner, alice, bob, removed], perAuthor, 1);
  const add = await owner.engine.addMembers(gid, kpL);
  const remove = await owner.engine.removeMembers(gid, [removed.identity.publicKey]);
  const churn = [...add.documents, ...remove.documents];
  for (const n of [alice, bob]) await n.engine.ingest(churn);
  await late.engine.ingest([...setup, ...kpL, ...churn]);
  const round2 = await writeOps(gid, [owner, alice, bob, late], perAuthor, 2);
  const ops = [...round1, ...round2];
  return { gid, documents: [...setup, ...kpL, ...churn, ...ops.map((o) => o.bytes)], ops };
}
