/**
 * Shared fixtures of the engine tests: temporary folders, engines, shuffling.
 *
 * @module
 */
import { EngineStore } from "../src/engine/store/store.js";
import { deriveStorageKey } from "../src/engine/store/seal.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretGroupEngine } from "../src/engine/engine.js";
import type { EngineOptions } from "../src/engine/open.js";
import { createPool } from "../src/engine/pool.js";
import type { Piscina } from "piscina";
import type { LongTermCiphersuiteName } from "../src/constants.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { toHex } from "../src/bytes.js";
import { Random } from "../src/cli/random.js";

/** A temporary folder removed by `cleanup()`. @example `const dir = await tempDir()` */
export async function tempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "sg-engine-"));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** An engine on its own folder. @example `const node = await openNode()` */
export async function openNode(options: Partial<EngineOptions> = {}): Promise<{
  engine: SecretGroupEngine;
  identity: Identity;
  path: string;
  reopen: (more?: Partial<EngineOptions>) => Promise<SecretGroupEngine>;
  cleanup: () => Promise<void>;
}> {
  const dir = await tempDir();
  const identity = options.identity ?? generateIdentity();
  const base = { path: dir.path, identity, threads: 1, ...options };
  const engine = await SecretGroupEngine.open(base);
  return {
    engine,
    identity,
    path: dir.path,
    reopen: (more = {}) => SecretGroupEngine.open({ ...base, ...more }),
    cleanup: dir.cleanup,
  };
}

/** Deterministic shuffle (the simulation's seeded generator). @example `shuffle(docs, 7)` */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  return new Random(seed).shuffle([...items]);
}

/** Sorted hex of public keys, for comparing member lists. @example `keySet(await engine.members(gid))` */
export function keySet(keys: readonly Uint8Array[]): string[] {
  return keys.map(toHex).sort();
}

/** Ingest that reports refusals as data instead of rejecting. @example `await ingestAll(engine, docs)` */
export async function ingestAll(engine: SecretGroupEngine, docs: readonly Uint8Array[]): Promise<string[]> {
  try {
    return (await engine.ingest(docs)).outcomes;
  } catch (e) {
    const report = (e as { report?: { outcomes: string[] } }).report;
    if (report === undefined) throw e;
    return report.outcomes;
  }
}

/**
 * A node of {@link withNodes}: `engine` is the engine it opened last (`reopen` replaces it).
 *
 * @example
 * ```ts
 * await alice.engine.close(); await alice.reopen(); await alice.engine.describe(gid)
 * ```
 */
export interface TestNode {
  engine: SecretGroupEngine;
  readonly identity: Identity;
  readonly path: string;
  reopen: (more?: Partial<EngineOptions>) => Promise<SecretGroupEngine>;
}

/**
 * Runs `body` on one fresh node per entry of `options` (each entry that node's engine options),
 * then closes each node's last engine and removes its folder, whether `body` passed or threw.
 * An engine replaced by `reopen` is the test's to close first (a crashed one may refuse to).
 *
 * @example
 * ```ts
 * await withNodes([{}, { pool }], async ([owner, alice]) => { await groupWithMember(owner.engine, alice.engine) })
 * ```
 */
export async function withNodes<O extends Partial<EngineOptions>[]>(options: [...O], body: (nodes: { [K in keyof O]: TestNode }) => Promise<void>): Promise<void> {
  const opened: Array<Awaited<ReturnType<typeof openNode>>> = [];
  const nodes: TestNode[] = [];
  try {
    for (const o of options) {
      const node = await openNode(o);
      opened.push(node);
      const testNode: TestNode = {
        engine: node.engine,
        identity: node.identity,
        path: node.path,
        reopen: async (more) => (testNode.engine = await node.reopen(more)),
      };
      nodes.push(testNode);
    }
    await body(nodes as { [K in keyof O]: TestNode });
  } finally {
    for (const node of nodes) await node.engine.close();
    for (const node of opened) await node.cleanup();
  }
}

/**
 * Runs `body` with a worker pool of `threads` threads (engines opened on it share it), then
 * destroys the pool, whether `body` passed or threw: close the engines on it first.
 *
 * @example
 * ```ts
 * await withPool(2, (pool) => withNodes([{ pool }, { pool }], async ([owner, alice]) => { await groupWithMember(owner.engine, alice.engine) }))
 * ```
 */
export async function withPool(threads: number, body: (pool: Piscina) => Promise<void>): Promise<void> {
  const pool = createPool({ threads });
  try {
    await body(pool);
  } finally {
    await pool.destroy();
  }
}

/**
 * The owner creates a group and adds `member` through the key package it publishes; the member
 * ingests nothing. Returns the group id and each step's documents.
 *
 * @example
 * ```ts
 * const { gid, created, added } = await groupAddingMember(owner.engine, alice.engine)
 * ```
 */
export async function groupAddingMember(
  owner: SecretGroupEngine,
  member: SecretGroupEngine,
  ciphersuite: LongTermCiphersuiteName = "PANDA10_AES256GCM",
): Promise<{ gid: Uint8Array; keyPackage: Uint8Array[]; created: Uint8Array[]; added: Uint8Array[] }> {
  const keyPackage = (await member.publishKeyPackage()).documents;
  const created = await owner.createGroup({ ciphersuite });
  const gid = created.groupId as Uint8Array;
  const added = (await owner.addMembers(gid, keyPackage)).documents;
  return { gid, keyPackage, created: created.documents, added };
}

/**
 * A group of `owner` with `member` joined: the member publishes a key package, the owner creates
 * the group and adds it, the member ingests everything. Returns the group id and the documents.
 *
 * @example
 * ```ts
 * const { gid } = await groupWithMember(owner.engine, alice.engine)
 * ```
 */
export async function groupWithMember(
  owner: SecretGroupEngine,
  member: SecretGroupEngine,
  ciphersuite: LongTermCiphersuiteName = "PANDA10_AES256GCM",
): Promise<{ gid: Uint8Array; documents: Uint8Array[] }> {
  const { gid, keyPackage, created, added } = await groupAddingMember(owner, member, ciphersuite);
  const documents = [...created, ...keyPackage, ...added];
  await member.ingest(documents);
  return { gid, documents };
}

/** The store of a node's database, opened with the storage key its engine derives from the identity. */
export const openStore = (path: string, identity: Identity): Promise<EngineStore> => EngineStore.open(path, identity.publicKey, deriveStorageKey(identity.secretKey));

/** A store of {@link withStore}: `store` is the one it opened last (`reopen` closes and replaces it). */
export interface ScratchStore {
  store: EngineStore;
  reopen: () => Promise<EngineStore>;
}

/**
 * Runs `body` on a store of a fresh identity in a temporary folder, then closes the store it
 * holds last and removes the folder, whether `body` passed or threw.
 *
 * @example
 * ```ts
 * await withStore(async (s) => { await s.store.batch(ops); await s.reopen(); await s.store.keys(Sublevel.Docs, "p/") })
 * ```
 */
export async function withStore(body: (s: ScratchStore) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  const identity = generateIdentity();
  const s: ScratchStore = {
    store: await openStore(dir.path, identity),
    reopen: async () => {
      await s.store.close();
      return (s.store = await openStore(dir.path, identity));
    },
  };
  try {
    await body(s);
  } finally {
    await s.store.close();
    await dir.cleanup();
  }
}

/**
 * Collects every document a history of engine calls produces, in order: `publish` takes a call's
 * result, `keyPackage` publishes one of `node`'s key packages and returns its documents.
 *
 * @example
 * ```ts
 * const h = recorder(); const created = h.publish(await owner.engine.createGroup({ ciphersuite })); h.publish(await owner.engine.addMembers(gid, await h.keyPackage(alice.engine)))
 * ```
 */
export function recorder(): {
  readonly docs: Uint8Array[];
  publish: <R extends { documents: Uint8Array[] }>(result: R) => R;
  keyPackage: (node: SecretGroupEngine) => Promise<Uint8Array[]>;
} {
  const docs: Uint8Array[] = [];
  const publish = <R extends { documents: Uint8Array[] }>(result: R): R => {
    docs.push(...result.documents);
    return result;
  };
  return { docs, publish, keyPackage: async (node) => publish(await node.publishKeyPackage()).documents };
}
