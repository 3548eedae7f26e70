/**
 * `SecretGroupEngine`: what a p2panda node embeds to hold many secret groups (DESIGN.md
 * section 5). One LevelDB database, one piscina pool with group affinity, one xstate actor per
 * live group (machines/group.ts), hydrated on demand and evicted when idle. Opening is wired in
 * open.ts; encryption and decryption are in messages.ts and reads in reads.ts, which this class
 * extends.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { toHex } from "../bytes.js";
import { bytesListArg, ciphersuiteArg, groupIdArg, publicKeysArg } from "./arguments.js";
import { DEFAULT_LIVE_ACTOR_BYTES, STORAGE_KEY_SIZE } from "../constants.js";
import type { LongTermCiphersuiteName } from "../constants.js";
import { secretGroupDocument } from "../documents/index.js";
import { GroupActors, DEFAULT_LIVE_ACTORS } from "./actors.js";
import { EngineMessages } from "./messages.js";
import type { EngineContext, EngineStats } from "./context.js";
import { ingestDocuments } from "./ingest.js";
import { keyPackagesFromDocuments, publishKeyPackage, readKeyPackageDocuments } from "./keyPackages.js";
import type { IngestReport } from "./ingest.js";
import { runOnEachThread, runTask } from "./pool.js";
import type { Published } from "./steps.js";
import type { CommitJob, JobRequest } from "./jobs.js";
import { provideGroupMachine } from "./steps.js";
import { openContext } from "./open.js";
import type { EngineOptions } from "./open.js";
import { rotateStorage } from "./store/keys.js";
import { storageKeyArg } from "./store/seal.js";

/** What the creating methods return: the documents to publish (and the new group's id). @example `const { groupId, documents } = await engine.createGroup({ ciphersuite })` */
export interface Created {
  readonly groupId?: Uint8Array;
  readonly documents: Uint8Array[];
}

/**
 * A node's secret groups.
 *
 * @example
 * ```ts
 * const engine = await SecretGroupEngine.open({ path: "./data", identity })
 * const { groupId, documents } = await engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" })
 * const message = await engine.encrypt(groupId!, utf8("hi"), { scheme: "long-term" })
 * await engine.close()
 * ```
 */
export class SecretGroupEngine extends EngineMessages {
  /** Last timestamp given to a SecretGroup document: two groups never get the same id. */
  private lastTimestamp = 0;
  /** Key packages are published one after another (each points at the previous one). */
  private keyPackageChain: Promise<unknown> = Promise.resolve();

  private constructor(
    ctx: EngineContext,
    private readonly ownPool: boolean,
    liveActors: number,
    liveActorBytes: number,
  ) {
    super(ctx, new GroupActors(provideGroupMachine(ctx), liveActors, liveActorBytes));
  }

  /**
   * Opens (or creates) an engine.
   *
   * @example
   * ```ts
   * const engine = await SecretGroupEngine.open({ path: dir, identity, threads: 2 })
   * ```
   */
  static async open(options: EngineOptions): Promise<SecretGroupEngine> {
    const ctx = await openContext(options);
    const engine = new SecretGroupEngine(ctx, options.pool === undefined, options.liveActors ?? DEFAULT_LIVE_ACTORS, options.liveActorBytes ?? DEFAULT_LIVE_ACTOR_BYTES);
    ctx.requestDrop = (gid, key, reason) => engine.background(gid, { kind: "dropPending", key, reason });
    // operations left pending by the last run whose group has advanced since (a crash between a
    // commit's batch and the examination that follows it) are examined again by the resume drain
    for (const gid of ctx.pendingOps.groupIds()) engine.background(gid, { kind: "resume" });
    return engine;
  }

  /** Runs a job nobody waits for; `close` still waits for it. A failure is kept in `stats().backgroundErrors`. */
  private background(gid: string, job: JobRequest): void {
    if (this.closing !== undefined) return;
    this.actors.run(gid, job).catch(() => {
      this.ctx.stats.backgroundErrors++;
    });
  }

  /** This engine's public key. @example `engine.publicKey` */
  get publicKey(): Uint8Array {
    return this.ctx.identity.publicKey;
  }

  /**
   * Cumulative counters since open: worker tasks, cache misses, worker and store time.
   *
   * @example
   * ```ts
   * const { workerMisses } = engine.stats()
   * ```
   */
  stats(): EngineStats & { readonly liveGroups: number; readonly hydrations: number; readonly pendingCommits: number; readonly pendingCommitBytes: number } {
    return {
      ...this.ctx.stats,
      dropped: { ...this.ctx.stats.dropped },
      liveGroups: this.actors.size,
      hydrations: this.actors.hydrations,
      pendingCommits: this.ctx.pendingCommits.count,
      pendingCommitBytes: this.ctx.pendingCommits.bytes,
    };
  }

  /** Number of group actors in memory (for tests and stats). @example `engine.liveGroups` */
  get liveGroups(): number {
    return this.actors.size;
  }

  /**
   * Creates a key package, keeps its private part, and returns its `key_package_v1` document.
   *
   * @example
   * ```ts
   * const { documents } = await engine.publishKeyPackage()
   * ```
   */
  async publishKeyPackage(): Promise<Created> {
    this.check();
    const next = this.keyPackageChain.then(async () => ({ documents: [await publishKeyPackage(this.ctx)] }));
    this.keyPackageChain = next.catch(() => undefined);
    return next;
  }

  /**
   * Creates a group owned by this engine; its id is the SecretGroup document's id.
   *
   * @example
   * ```ts
   * const { groupId, documents } = await engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" })
   * ```
   */
  async createGroup(options: { ciphersuite: LongTermCiphersuiteName }): Promise<Created> {
    this.check();
    const ciphersuite = ciphersuiteArg(options);
    // A SecretGroup document has no field but the ciphersuite and Ed25519 signs
    // deterministically: a strictly increasing timestamp keeps every new group id distinct.
    this.lastTimestamp = Math.max(Date.now(), this.lastTimestamp + 1);
    const doc = secretGroupDocument(this.ctx.identity, { ciphersuite }, { timestamp: this.lastTimestamp });
    const out = await this.actors.run<Published>(toHex(doc.id), { kind: "create", doc });
    return { groupId: doc.id, documents: out.documents };
  }

  private async ownerCommit(groupId: Uint8Array | string, job: CommitJob): Promise<Created> {
    this.check();
    const out = await this.actors.run<Published>(groupIdArg(groupId), { kind: "commit", commit: job });
    return { documents: out.documents };
  }

  /**
   * Adds the authors of `key_package_v1` documents (owner only).
   *
   * @example
   * ```ts
   * const { documents } = await engine.addMembers(groupId, [bobKeyPackageDocument])
   * ```
   */
  async addMembers(groupId: Uint8Array | string, keyPackageDocuments: readonly Uint8Array[]): Promise<Created> {
    const documents = bytesListArg(keyPackageDocuments, "keyPackageDocuments", true);
    // the worker starts on the key packages while their documents' signatures are checked
    const read = readKeyPackageDocuments(documents);
    if (read === undefined) return this.ownerCommit(groupId, { action: "add", keyPackages: await keyPackagesFromDocuments(documents) });
    try {
      return await this.ownerCommit(groupId, { action: "add", keyPackages: read.keyPackages, authors: read.authors, verify: read.verify });
    } catch (e) {
      // the error the documents' checks give first, in order, as when they all ran before the commit
      await keyPackagesFromDocuments(documents);
      throw e;
    }
  }

  /**
   * Removes members by public key and rotates the long-term secret (owner only).
   *
   * @example
   * ```ts
   * await engine.removeMembers(groupId, [bob.publicKey])
   * ```
   */
  async removeMembers(groupId: Uint8Array | string, publicKeys: readonly (Uint8Array | string)[]): Promise<Created> {
    return this.ownerCommit(groupId, { action: "remove", publicKeys: publicKeysArg(publicKeys) });
  }

  /** Commits an update of the owner's path keys (owner only). @example `await engine.updateGroup(groupId)` */
  async updateGroup(groupId: Uint8Array | string): Promise<Created> {
    return this.ownerCommit(groupId, { action: "update" });
  }

  /** Rotates the long-term secret with an update commit (owner only). @example `await engine.rotate(groupId)` */
  async rotate(groupId: Uint8Array | string): Promise<Created> {
    return this.ownerCommit(groupId, { action: "rotate" });
  }

  /**
   * Applies documents of any kind in any order. Resolves with a per-document report once each
   * is applied, pending, a duplicate, superseded (a commit older than this node's state) or refused; if any was refused, rejects (after keeping the
   * rest) with an {@link IngestRefusedError} carrying the report. Documents passed together share
   * work (worker tasks, synced writes): a stream of many groups goes faster in calls of tens of
   * groups' documents than one by one. Calls may overlap: with two in flight, this thread checks
   * one call's documents while the worker pool joins the other's groups (1000 new groups of 3 in
   * calls of 75 documents: 0.855x the wall time of awaiting each call, the same CPU).
   *
   * @example
   * ```ts
   * await engine.ingest(documentsFromTheNetwork)
   * ```
   */
  async ingest(documents: readonly Uint8Array[]): Promise<IngestReport> {
    this.check();
    return ingestDocuments(this.ctx, this.actors, bytesListArg(documents, "documents"));
  }

  /**
   * Seals everything stored again under a new storage key and returns it (`newKey`, or a random
   * one). Keep the new key before calling: if the process dies during the rotation, the next
   * open accepts the old or the new key and finishes it; once this resolves, only the new key
   * opens the database (pass it as `storageKey`, also when the old one was derived from the
   * identity). Writes wait while it runs.
   *
   * @example
   * ```ts
   * const storageKey = randomBytes(32)
   * await saveSomewhereSafe(storageKey)
   * await engine.rotateStorageKey(storageKey)
   * ```
   */
  async rotateStorageKey(newKey?: Uint8Array): Promise<Uint8Array> {
    this.check();
    const key = newKey === undefined ? new Uint8Array(randomBytes(STORAGE_KEY_SIZE)) : storageKeyArg(newKey);
    await rotateStorage(this.ctx.store, key);
    return key;
  }

  /**
   * Waits for queued work, then closes the pool (if the engine created it; a pool it was given
   * keeps running, cleared of this engine's states, long-term keys and identity) and the database.
   *
   * @example
   * ```ts
   * await engine.close()
   * ```
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.actors.close();
      await this.keyPackageChain;
      this.ctx.events.close();
      if (!this.ownPool) {
        // a shared pool outlives this engine: its decoded states, long-term keys and identity
        // would stay in the workers' caches (unusable: a new engine has another id) until evicted
        await runOnEachThread(this.ctx.pool, { op: "forget", prefix: `${this.ctx.engineId}:`, publicKey: this.ctx.identity.publicKey }).catch(() => undefined);
      } else {
        // a worker terminated while it still loads its (ES) module aborts the whole process
        // (node 20, seen under load when an engine closes right after opening): let it load first
        await runTask(this.ctx.pool, { op: "ping" }).catch(() => undefined);
        await this.ctx.pool.destroy();
      }
      await this.ctx.store.close();
    })();
    return this.closing;
  }
}

