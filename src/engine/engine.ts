/**
 * `SecretGroupEngine`: what a p2panda node embeds to hold many secret groups (DESIGN.md
 * section 5). One LevelDB database, one piscina pool with group affinity, one xstate actor per
 * live group (machines/group.ts), hydrated on demand and evicted when idle.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import type { Piscina } from "piscina";
import { toHex } from "../bytes.js";
import { bytesListArg, ciphersuiteArg, encryptArgs, groupIdArg, limitsArg, pathArg, publicKeysArg } from "./arguments.js";
import { DEFAULT_ENGINE_LIMITS, DEFAULT_LIVE_ACTOR_BYTES, STORAGE_KEY_SIZE } from "../constants.js";
import type { EngineLimits, LongTermCiphersuiteName, SchemeName } from "../constants.js";
import { assertIdentity } from "../identity.js";
import type { Identity } from "../identity.js";
import { secretGroupDocument } from "../documents/index.js";
import { GroupActors, DEFAULT_LIVE_ACTORS } from "./actors.js";
import { EngineReads } from "./reads.js";
import { emptyStats } from "./context.js";
import type { EngineContext, EngineStats } from "./context.js";
import { ingestDocuments } from "./ingest.js";
import { keyPackagesFromDocuments, publishKeyPackage } from "./keyPackages.js";
import type { IngestReport } from "./ingest.js";
import { createPool, runTask } from "./pool.js";
import { peekAll } from "./decrypt.js";
import { openFields, sealFields } from "./fields.js";
import type { DecryptedFields, EncryptFieldsOptions } from "./fields.js";
import type { SignedDocument } from "../documents/document.js";
import type { FieldValue } from "../documents/schema.js";
import type { DecryptInput } from "./decrypt.js";
import type { Published } from "./steps.js";
import type { CommitJob, DecryptJob } from "./jobs.js";
import { provideGroupMachine } from "./steps.js";
import { EngineStore } from "./store/store.js";
import { PendingBook } from "./pendingOperations.js";
import { EventHub } from "./watch.js";
import type { JobRequest } from "./jobs.js";
import { migrate } from "./store/migrate.js";
import { PendingCommits } from "./pending.js";
import { OutboxKeys } from "./outbox.js";
import { deriveStorageKey, storageKeyArg } from "./store/seal.js";
import { rotateStorage } from "./store/keys.js";

/** Options of {@link SecretGroupEngine.open}. @example `{ path: "./data", identity, threads: 2 }` */
export interface EngineOptions {
  /** Folder of the LevelDB database (created if missing). */
  readonly path: string;
  /** This node's Ed25519 identity. */
  readonly identity: Identity;
  /** Worker threads of the pool the engine creates (default: available parallelism). */
  readonly threads?: number;
  /** A pool to use instead (the engine then does not close it). */
  readonly pool?: Piscina;
  /** Most group actors kept live (default 256). */
  readonly liveActors?: number;
  /** Most estimated bytes of live group actors (default 64 MiB; a large group's member list weighs more). */
  readonly liveActorBytes?: number;
  /** Most decoded MLS states each worker keeps (default 64). */
  readonly workerCacheSize?: number;
  /** Most members summed over the decoded states of one worker (default 20,000: large groups weigh more). */
  readonly workerCacheMembers?: number;
  /** Long-term nonce counters reserved per persisted block (default 1024). */
  readonly nonceBlock?: number;
  /** Limits on pending input (defaults: {@link DEFAULT_ENGINE_LIMITS}). */
  readonly limits?: Partial<EngineLimits>;
  /**
   * 32-byte key sealing key material and plaintexts at rest (README "Threat model"). Default:
   * derived from the identity's secret key (HKDF-SHA256, `STORAGE_KEY_LABEL`). A key that does
   * not open the database is `StorageError` `STORAGE_KEY`; after {@link SecretGroupEngine.rotateStorageKey}
   * pass the new key.
   */
  readonly storageKey?: Uint8Array;
}

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
export class SecretGroupEngine extends EngineReads {
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
    const path = pathArg(options);
    const limits = limitsArg(options.limits);
    assertIdentity(options.identity);
    let pendingCommits: PendingCommits;
    let pendingOps: PendingBook;
    let outbox: OutboxKeys;
    const storageKey = options.storageKey === undefined ? deriveStorageKey(options.identity.secretKey) : storageKeyArg(options.storageKey);
    const store = await EngineStore.open(path, options.identity.publicKey, storageKey);
    try {
      await migrate(store);
      pendingCommits = await PendingCommits.load(store);
      pendingOps = await PendingBook.load(store);
      outbox = await OutboxKeys.open(store);
    } catch (e) {
      await store.close();
      throw e;
    }
    const pool = options.pool ?? createPool(options.threads === undefined ? {} : { threads: options.threads });
    const ctx: EngineContext = {
      store,
      pool,
      identity: options.identity,
      engineId: randomBytes(8).toString("hex"),
      cacheLimit: options.workerCacheSize ?? 64,
      cacheMembers: options.workerCacheMembers ?? 20_000,
      nonceBlock: BigInt(options.nonceBlock ?? 1024),
      stats: emptyStats(),
      limits,
      pendingCommits,
      pendingOps,
      outbox,
      events: new EventHub(),
    };
    const engine = new SecretGroupEngine(ctx, options.pool === undefined, options.liveActors ?? DEFAULT_LIVE_ACTORS, options.liveActorBytes ?? DEFAULT_LIVE_ACTOR_BYTES);
    ctx.requestDrop = (gid, key, reason) => engine.background(gid, { kind: "dropPending", key, reason });
    // operations left pending by the last run whose group has advanced since (a crash between a
    // commit's batch and the examination that follows it) are examined again
    for (const gid of pendingOps.groupIds()) engine.background(gid, { kind: "examine" });
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
    return this.ownerCommit(groupId, { action: "add", keyPackages: keyPackagesFromDocuments(bytesListArg(keyPackageDocuments, "keyPackageDocuments", true)) });
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
   * Encrypts a value for the group; returns the encoded SecretGroupMessage.
   *
   * @example
   * ```ts
   * const message = await engine.encrypt(groupId, utf8("hi"), { scheme: "sender-ratchet" })
   * ```
   */
  async encrypt(groupId: Uint8Array | string, plaintext: Uint8Array, options: { scheme: SchemeName; aad?: Uint8Array }): Promise<Uint8Array> {
    this.check();
    const gid = groupIdArg(groupId);
    const [message] = await this.actors.run<Uint8Array[]>(gid, { kind: "encrypt", encrypt: encryptArgs(plaintext, options) });
    return message as Uint8Array;
  }

  /**
   * Encrypts an operation's fields for a group (all of them, or `names`), each bound to this
   * node as author, the schema, the field name and, for updates, `documentId`. Sign the result
   * as the operation's fields.
   *
   * @example
   * ```ts
   * const fields = await engine.encryptFields(groupId, { body: "hi", room: 3 }, { scheme: "long-term", schema: "chat_v1", names: ["body"] })
   * const doc = signDocument(identity, "chat_v1", fields)
   * ```
   */
  async encryptFields(groupId: Uint8Array | string, fields: Readonly<Record<string, FieldValue>>, options: EncryptFieldsOptions): Promise<Record<string, FieldValue>> {
    this.check();
    return sealFields(this.publicKey, (plaintext, o) => this.encrypt(groupId, plaintext, o), fields, options);
  }

  /**
   * Decrypts the encrypted fields of an operation (document bytes are verified first); fields
   * that cannot be read (yet) keep their ciphertext and are listed in `errors` with their code.
   *
   * @example
   * ```ts
   * const { fields, errors } = await engine.decryptFields(documentBytes)
   * ```
   */
  async decryptFields(document: Uint8Array | SignedDocument): Promise<DecryptedFields> {
    this.check();
    return openFields((messages) => this.decrypt(messages), document);
  }

  /**
   * Decrypts messages of any groups. Returns, in order, the plaintext or an `Error` with a
   * string `code` (`PENDING` when the group or epoch is not reached yet: ingest more, retry).
   * Rejects only for a bad argument.
   *
   * @example
   * ```ts
   * const [a, b] = await engine.decrypt([m1, { message: m2, aad }])
   * ```
   */
  async decrypt(messages: readonly DecryptInput[]): Promise<Array<Uint8Array | Error>> {
    this.check();
    const { results, byGroup } = peekAll(messages);
    await Promise.all(
      [...byGroup].map(async ([gid, { indices, items }]) => {
        try {
          const job: DecryptJob = { items };
          const out = await this.actors.run<Array<Uint8Array | Error>>(gid, { kind: "decrypt", decrypt: job });
          indices.forEach((index, k) => (results[index] = out[k] as Uint8Array | Error));
        } catch (e) {
          for (const index of indices) results[index] = e instanceof Error ? e : new Error(String(e));
        }
      }),
    );
    return results;
  }

  /**
   * Applies documents of any kind in any order. Resolves with a per-document report once each
   * is applied, pending, a duplicate, superseded (a commit older than this node's state) or refused; if any was refused, rejects (after keeping the
   * rest) with an {@link IngestRefusedError} carrying the report.
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
   * Waits for queued work, then closes the pool (if the engine created it) and the database.
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
      if (this.ownPool) {
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

