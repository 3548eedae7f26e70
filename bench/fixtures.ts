/**
 * Groups the scenarios start from, built outside every timed region: a bare ts-mls group
 * (ts-mls 1.6.4 API, key packages and setup commits made with the node provider for speed, the
 * baseline then runs on ts-mls's default provider; above 1000 members built by the patched
 * library, see patchedFixture.ts), a library group (src/group: an owner, a
 * library receiver, fillers) and engines on temporary LevelDB folders that can be reopened
 * (a reopened engine has an empty worker cache and no live actor: the cold path).
 *
 * @module
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Piscina } from "piscina";
import type { ClientState } from "ts-mls-bare";
import { decodeSecretGroupCommit } from "../src/commit.js";
import type { LongTermCiphersuiteName } from "../src/constants.js";
import { decodeDocument, keyPackageDocument, readKeyPackage, secretGroupCommitDocument, secretGroupDocument } from "../src/documents/index.js";
import type { SignedDocument } from "../src/documents/index.js";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { createPool } from "../src/engine/pool.js";
import { addMembers, createGroup, joinGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity, type Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { adds, commit, exporterOf, join as bareJoin, newGroup, newKeyPackage, suiteImpl, type KeyPackagePair } from "./mlsHarness.js";
import { PATCHED_FIXTURES_ABOVE, patchedGroup } from "./patchedFixture.js";

/** Long-term ciphersuite of the membership scenarios. */
export const LT_SUITE = "PANDA10_AES256GCM" as const;

/**
 * A bare ts-mls group: owner and one receiver (leaf 1), the key packages of leaves 1..n-1.
 *
 * @example
 * ```ts
 * const g = await bareGroup(100);
 * ```
 */
export interface BareGroup {
  owner: ClientState;
  receiver: ClientState;
  readonly kps: readonly KeyPackagePair[];
}

/**
 * `count` bare key packages (node provider: inputs, not what is measured).
 *
 * @example
 * ```ts
 * const kps = await bareKeyPackages(10);
 * ```
 */
export async function bareKeyPackages(count: number): Promise<KeyPackagePair[]> {
  const cs = await suiteImpl("node");
  const out: KeyPackagePair[] = [];
  for (let i = 0; i < count; i++) out.push(await newKeyPackage(cs));
  return out;
}

/**
 * Builds a bare group of `n` members with one add commit; a receiver joins. Up to
 * `PATCHED_FIXTURES_ABOVE` members the bare library makes the commit (its creator is the
 * `owner`, the receiver is leaf 1). Above it the patched library makes it (patchedFixture.ts)
 * and two members join with the bare library: leaf 1 is the `owner` (it makes the bare side's
 * commits: a committer's work is the same at leaf 0 or 1, whose copaths hold the same leaves
 * but one) and leaf 2 the receiver; both must agree with the builder's exporter value.
 *
 * @example
 * ```ts
 * const { owner, receiver } = await bareGroup(1000);
 * ```
 */
export async function bareGroup(n: number): Promise<BareGroup & { welcome: Uint8Array }> {
  const cs = await suiteImpl("node");
  if (n > PATCHED_FIXTURES_ABOVE) {
    const built = await patchedGroup(n);
    const owner = await bareJoin(cs, built.welcome, built.kps[0] as KeyPackagePair, built.tree);
    const receiver = await bareJoin(cs, built.welcome, built.kps[1] as KeyPackagePair, built.tree);
    for (const member of [owner, receiver]) {
      if (Buffer.compare(await exporterOf(cs, member), built.exporter) !== 0) throw new Error("a bare member joined another epoch than the patched builder's");
    }
    return { owner, receiver, kps: built.kps, welcome: built.welcome };
  }
  const kps = await bareKeyPackages(n - 1);
  const added = await commit(cs, await newGroup(cs), adds(kps.map((k) => k.publicPackage)));
  const receiver = await bareJoin(cs, added.welcome as Uint8Array, kps[0] as KeyPackagePair, added.state.ratchetTree);
  return { owner: added.state, receiver, kps, welcome: added.welcome as Uint8Array };
}

/**
 * What a bare joiner needs: a Welcome of an `n`-member group, its ratchet tree and the
 * joiner's key package (leaf 1), no bare member having joined yet (the group is made as in
 * `bareGroup`: by the bare library up to `PATCHED_FIXTURES_ABOVE` members, by the patched one above).
 *
 * @example
 * ```ts
 * const { welcome, tree, kp } = await bareJoinInput(10_000);
 * ```
 */
export async function bareJoinInput(n: number): Promise<{ welcome: Uint8Array; tree: ClientState["ratchetTree"]; kp: KeyPackagePair }> {
  if (n > PATCHED_FIXTURES_ABOVE) {
    const built = await patchedGroup(n);
    return { welcome: built.welcome, tree: built.tree, kp: built.kps[0] as KeyPackagePair };
  }
  const cs = await suiteImpl("node");
  const kps = await bareKeyPackages(n - 1);
  const added = await commit(cs, await newGroup(cs), adds(kps.map((k) => k.publicPackage)));
  return { welcome: added.welcome as Uint8Array, tree: added.state.ratchetTree, kp: kps[0] as KeyPackagePair };
}

/**
 * A member identity with a key package (bytes, secret, and its signed document).
 *
 * @example
 * ```ts
 * const m = await member();
 * ```
 */
export interface Member {
  readonly identity: Identity;
  readonly keyPackage: Uint8Array;
  readonly secret: Uint8Array;
  readonly document: Uint8Array;
}

/**
 * A fresh identity with a key package and its key-package document.
 *
 * @example
 * ```ts
 * const kps = await members(99);
 * ```
 */
export async function members(count: number): Promise<Member[]> {
  const out: Member[] = [];
  for (let i = 0; i < count; i++) {
    const identity = generateIdentity();
    const kp = await createKeyPackage(identity);
    out.push({ identity, keyPackage: kp.keyPackage, secret: kp.secret, document: keyPackageDocument(identity, { keyPackage: kp.keyPackage }).bytes });
  }
  return out;
}

/**
 * A library group and its document chain (group document, commit documents).
 *
 * @example
 * ```ts
 * const g = await libraryGroup(100, [engineKp]);
 * ```
 */
export interface LibraryGroup {
  readonly owner: Identity;
  readonly groupDoc: SignedDocument;
  state: GroupState;
  head: SignedDocument;
  /** The library receiver (first added). */
  receiver: GroupState;
  /** Members added besides the receiver and the extra key packages, in leaf order. */
  readonly fillers: Member[];
}

/**
 * Creates a library group of `n` members: owner, a library receiver, `extra` key packages (of
 * engines) and fillers; the receiver joins.
 *
 * @example
 * ```ts
 * const g = await libraryGroup(1000, [await engineKeyPackage(engine)]);
 * ```
 */
export async function libraryGroup(n: number, extra: readonly Uint8Array[], ciphersuite: LongTermCiphersuiteName = LT_SUITE): Promise<LibraryGroup> {
  const owner = generateIdentity();
  const groupDoc = secretGroupDocument(owner, { ciphersuite });
  const state = await createGroup({ identity: owner, groupId: groupDoc.id, ciphersuite });
  const [receiver, ...fillers] = await members(n - 1 - extra.length);
  if (receiver === undefined) throw new Error(`a library group needs at least ${2 + extra.length} members`);
  const added = await addMembers(state, [receiver.keyPackage, ...extra, ...fillers.map((f) => f.keyPackage)]);
  const head = secretGroupCommitDocument(owner, { secretGroup: groupDoc.id, commit: decodeSecretGroupCommit(added.commit) });
  const joined = await joinGroup({ identity: receiver.identity, secret: receiver.secret, owner: owner.publicKey, commit: added.commit });
  return { owner, groupDoc, state: added.state, head, receiver: joined, fillers };
}

/**
 * Signs the next commit document of the group's chain and makes it the head.
 *
 * @example
 * ```ts
 * const doc = chain(g, (await updateGroup(g.state)).commit);
 * ```
 */
export function chain(g: { owner: Identity; groupDoc: SignedDocument; head: SignedDocument }, commitBytes: Uint8Array): SignedDocument {
  const doc = secretGroupCommitDocument(g.owner, { secretGroup: g.groupDoc.id, previousCommit: g.head.id, commit: decodeSecretGroupCommit(commitBytes) });
  g.head = doc;
  return doc;
}

/**
 * An engine on a temporary folder; `reopen()` closes it and opens a new engine on the same
 * folder and pool (new engine id: its worker-cache entries and live actors start empty).
 *
 * @example
 * ```ts
 * const node = await EngineNode.open(pool); await node.reopen(); await node.dispose();
 * ```
 */
export class EngineNode {
  private constructor(
    readonly path: string,
    readonly identity: Identity,
    readonly pool: Piscina,
    public engine: SecretGroupEngine,
    private readonly liveActors: number | undefined,
  ) {}

  /** Opens an engine with a new identity on a new folder. @example `await EngineNode.open(pool)` */
  static async open(pool: Piscina, options: { liveActors?: number } = {}): Promise<EngineNode> {
    const path = await mkdtemp(join(tmpdir(), "sg-bench-"));
    const identity = generateIdentity();
    const engine = await SecretGroupEngine.open({ path, identity, pool, ...(options.liveActors === undefined ? {} : { liveActors: options.liveActors }) });
    return new EngineNode(path, identity, pool, engine, options.liveActors);
  }

  /** Closes and reopens (cold). @example `await node.reopen()` */
  async reopen(): Promise<void> {
    await this.engine.close();
    this.engine = await SecretGroupEngine.open({ path: this.path, identity: this.identity, pool: this.pool, ...(this.liveActors === undefined ? {} : { liveActors: this.liveActors }) });
  }

  /** The key package bytes of a newly published key-package document. @example `await node.keyPackage()` */
  async keyPackage(): Promise<Uint8Array> {
    const doc = (await this.engine.publishKeyPackage()).documents[0] as Uint8Array;
    return readKeyPackage(decodeDocument(doc)).keyPackage;
  }

  /** Closes the engine and removes its folder. @example `await node.dispose()` */
  async dispose(): Promise<void> {
    try {
      await this.engine.close();
    } finally {
      await rm(this.path, { recursive: true, force: true });
    }
  }
}

/**
 * A worker pool for engines (two threads: the machine's cores); destroy it when done.
 *
 * @example
 * ```ts
 * const pool = benchPool(); ... await pool.destroy();
 * ```
 */
export function benchPool(): Piscina {
  return createPool({ threads: 2 });
}

/**
 * Ingests and checks that every document was applied (or is a duplicate).
 *
 * @example
 * ```ts
 * await ingestApplied(engine, [doc.bytes]);
 * ```
 */
export async function ingestApplied(engine: SecretGroupEngine, documents: readonly Uint8Array[]): Promise<void> {
  const report = await engine.ingest(documents);
  const bad = report.outcomes.filter((o) => o !== "applied" && o !== "duplicate");
  if (bad.length > 0) throw new Error(`ingest: ${bad.join(", ")}`);
}
