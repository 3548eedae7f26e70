/**
 * Test helpers for the materialisation index: a throw-away LevelDB and a scenario of real
 * commits (made by the library, wrapped into signed documents) with the true membership after
 * each one.
 *
 * @module
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { decodeSecretGroupCommit } from "../src/commit.js";
import { keyPackageDocument, secretGroupCommitDocument, secretGroupDocument } from "../src/documents/system.js";
import type { SignedDocument } from "../src/documents/document.js";
import { addMembers, createGroup, groupMembers, inspectCommit, removeMembers, updateGroup } from "../src/group/index.js";
import type { CommitResult, GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import type { CommitFacts, IndexOp, IndexReader } from "../src/materialise/index.js";

/** A LevelDB in a temp directory with the index sublevel. */
export interface TempIndex {
  readonly reader: IndexReader;
  apply(ops: readonly IndexOp[]): Promise<void>;
  close(): Promise<void>;
}

/** Opens a fresh database in os.tmpdir(); `close` deletes it. @example `const idx = await openTempIndex()` */
export async function openTempIndex(): Promise<TempIndex> {
  const dir = await mkdtemp(join(tmpdir(), "sg-materialise-"));
  const db = new Level<string, Uint8Array>(dir, { keyEncoding: "utf8", valueEncoding: "view" });
  await db.open();
  const sub = db.sublevel<string, Uint8Array>("materialise", { keyEncoding: "utf8", valueEncoding: "view" });
  return {
    reader: sub,
    async apply(ops) {
      if (ops.length > 0) await db.batch(ops.map((op) => ({ ...op, sublevel: sub })));
    },
    async close() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One commit of the scenario and the owner's true membership after it. */
export interface ScenarioCommit {
  readonly label: string;
  readonly doc: SignedDocument;
  readonly facts: CommitFacts;
  /** groupMembers(owner state) after the commit, in leaf order. */
  readonly members: Uint8Array[];
  readonly epoch: bigint;
}

/** A group's documents: SecretGroup, key packages, commits in chain order. */
export interface Scenario {
  readonly owner: Identity;
  readonly people: Record<string, Identity>;
  readonly secrets: Record<string, Uint8Array>;
  readonly groupDoc: SignedDocument;
  readonly keyPackageDocs: Record<string, SignedDocument>;
  readonly commits: ScenarioCommit[];
  readonly state: GroupState;
}

/**
 * Builds: add a,b,c; update; remove b (a middle leaf); add d (reuses b's leaf); remove a and d;
 * add e,f; update with rotation; remove c (the last leaf, the tree shrinks); add b again.
 *
 * @example
 * ```ts
 * const s = await buildScenario()
 * ```
 */
export async function buildScenario(): Promise<Scenario> {
  const owner = generateIdentity();
  const groupDoc = secretGroupDocument(owner, { ciphersuite: "PANDA10_AES256GCM" }, { timestamp: 1 });
  let state = await createGroup({ identity: owner, groupId: groupDoc.id, ciphersuite: "PANDA10_AES256GCM" });
  const names = ["a", "b", "c", "d", "e", "f"];
  const people: Record<string, Identity> = {};
  const keyPackages: Record<string, Uint8Array> = {};
  const secrets: Record<string, Uint8Array> = {};
  const keyPackageDocs: Record<string, SignedDocument> = {};
  for (const n of [...names, "b2"]) {
    const person = n === "b2" ? (people["b"] as Identity) : generateIdentity();
    if (n !== "b2") people[n] = person;
    const kp = await createKeyPackage(person);
    keyPackages[n] = kp.keyPackage;
    secrets[n] = kp.secret;
    keyPackageDocs[n] = keyPackageDocument(person, { keyPackage: kp.keyPackage }, { timestamp: 2 });
  }
  const commits: ScenarioCommit[] = [];
  let previous: Uint8Array | undefined;
  const record = (label: string, r: CommitResult): void => {
    state = r.state;
    const doc = secretGroupCommitDocument(owner, { secretGroup: groupDoc.id, ...(previous === undefined ? {} : { previousCommit: previous }), commit: decodeSecretGroupCommit(r.commit) }, { timestamp: 10 + commits.length });
    previous = doc.id;
    commits.push({ label, doc, facts: inspectCommit(r.commit), members: groupMembers(state), epoch: BigInt(state.mlsEpoch) });
  };
  const kp = (...ns: string[]): Uint8Array[] => ns.map((n) => keyPackages[n] as Uint8Array);
  const pk = (...ns: string[]): Uint8Array[] => ns.map((n) => (people[n] as Identity).publicKey);
  record("add a b c", await addMembers(state, kp("a", "b", "c")));
  record("update", await updateGroup(state));
  record("remove b", await removeMembers(state, pk("b")));
  record("add d", await addMembers(state, kp("d")));
  record("remove a d", await removeMembers(state, pk("a", "d"), { rotate: false }));
  record("add e f", await addMembers(state, kp("e", "f")));
  record("rotate", await updateGroup(state, { rotate: true }));
  record("remove c", await removeMembers(state, pk("c")));
  record("add b again", await addMembers(state, kp("b2")));
  return { owner, people, secrets, groupDoc, keyPackageDocs, commits, state };
}

/** Deterministic shuffle (xorshift). @example `shuffled([1, 2, 3], 7)` */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  let x = seed | 1;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = Math.abs(x) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
