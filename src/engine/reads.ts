/**
 * The reading side of `SecretGroupEngine` (src/engine/messages.ts extends it, engine.ts extends
 * that): group records, the materialisation index's queries, the outbox, and materialised
 * operations (`read`, `operations`, `watch`). Split from the writing side only to keep each file
 * short; the public API is the engine's.
 *
 * @module
 */
import { fromHex, toHex } from "../bytes.js";
import { ErrorCode, UsageError } from "../errors.js";
import { groupsOf, history, welcomeFor } from "../materialise/index.js";
import type { GroupMembership, HistoryEntry } from "../materialise/index.js";
import type { GroupActors } from "./actors.js";
import { documentIdsArg, groupIdArg, idArg, publicKeyArg } from "./arguments.js";
import { listOperations, readOperation } from "./operationReads.js";
import type { OperationView, OperationsPage } from "./operationReads.js";
import type { EngineEvent, WatchOptions } from "./watch.js";
import type { EngineContext } from "./context.js";
import { groupInfo } from "./info.js";
import type { GroupInfo } from "./info.js";
import { indexReader } from "./materialise.js";
import { acknowledgeOutbox, readOutbox } from "./outbox.js";
import { listGroupRecords } from "./store/groups.js";
import type { GroupRecord, GroupStatus } from "./store/records.js";
import { Sublevel } from "./store/sublevels.js";

/**
 * Reads of an engine's groups (see `SecretGroupEngine`).
 *
 * @example
 * ```ts
 * const info = await engine.describe(groupId) // a method of this class
 * ```
 */
export abstract class EngineReads {
  protected closing: Promise<void> | undefined;

  protected constructor(
    protected readonly ctx: EngineContext,
    protected readonly actors: GroupActors,
  ) {}

  protected check(): void {
    if (this.closing !== undefined) throw new UsageError(ErrorCode.Closed, "engine is closed");
  }

  private async record(gid: string): Promise<GroupRecord> {
    this.check();
    const record = await this.actors.run<GroupRecord | null>(gid, { kind: "read" });
    if (record === null || record.owner === undefined) throw new UsageError(ErrorCode.UnknownGroup, `unknown group ${gid}`);
    return record;
  }

  /**
   * Status, owner, ciphersuite, epochs and members of a group (`UNKNOWN_GROUP` if never seen).
   *
   * @example
   * ```ts
   * const info = await engine.describe(groupId)
   * ```
   */
  async describe(groupId: Uint8Array | string): Promise<GroupInfo> {
    const gid = groupIdArg(groupId);
    return groupInfo(gid, await this.record(gid));
  }

  /**
   * Every group whose SecretGroup document this engine holds, in group id order (read from the
   * store, so it does not load every group's actor).
   *
   * @example
   * ```ts
   * for (const g of await engine.groups()) console.log(toHex(g.groupId), g.status)
   * ```
   */
  async groups(): Promise<GroupInfo[]> {
    this.check();
    return (await listGroupRecords(this.ctx.store)).filter(([, r]) => r.owner !== undefined).map(([gid, r]) => groupInfo(gid, r));
  }

  /**
   * The group's commit chain from the materialisation index, oldest first: commit id, previous
   * commit, epoch, kind, added and removed public keys (also for groups this node cannot read).
   *
   * @example
   * ```ts
   * for (const c of await engine.history(groupId)) console.log(c.epoch, c.kind, c.added.length)
   * ```
   */
  async history(groupId: Uint8Array | string): Promise<HistoryEntry[]> {
    this.check();
    return history(indexReader(this.ctx), fromHex(groupIdArg(groupId)));
  }

  /**
   * The groups a public key owns, was added to and removed from, with the commit ids.
   *
   * @example
   * ```ts
   * const [g] = await engine.groupsOf(bob.publicKey); g.added // [commitId]
   * ```
   */
  async groupsOf(publicKey: Uint8Array | string): Promise<GroupMembership[]> {
    this.check();
    return groupsOf(indexReader(this.ctx), publicKeyArg(publicKey));
  }

  /**
   * The latest commit of `groupId` whose Welcome addresses `publicKey`, with its document bytes;
   * `null` when none is known.
   *
   * @example
   * ```ts
   * const w = await engine.welcomeFor(me, groupId) // { commitId, document } | null
   * ```
   */
  async welcomeFor(publicKey: Uint8Array | string, groupId: Uint8Array | string): Promise<{ commitId: Uint8Array; document: Uint8Array } | null> {
    this.check();
    const load = async (id: Uint8Array): Promise<Uint8Array | undefined> => {
      const bytes = await this.ctx.store.get(Sublevel.Docs, toHex(id), "document");
      return bytes === undefined ? undefined : Uint8Array.from(bytes);
    };
    return welcomeFor(indexReader(this.ctx), publicKeyArg(publicKey), fromHex(groupIdArg(groupId)), load);
  }

  /** `"awaiting-welcome"`, `"member"` or `"removed"`. @example `await engine.status(groupId)` */
  async status(groupId: Uint8Array | string): Promise<GroupStatus> {
    return (await this.record(groupIdArg(groupId))).status;
  }

  /** Public keys of every member, owner and self included. @example `await engine.members(groupId)` */
  async members(groupId: Uint8Array | string): Promise<Uint8Array[]> {
    return (await this.record(groupIdArg(groupId))).members.map((k) => Uint8Array.from(k));
  }

  /**
   * Every document this engine created that the application has not acknowledged yet, oldest
   * first: the SecretGroup document, owner commits, key packages, and the key package deletion
   * after each join. Each entered the outbox in the atomic, synced batch of the state change
   * that created it, before the creating method returned, so after a crash this list holds
   * whatever was created but perhaps not published. Publish them, then {@link acknowledge} them.
   *
   * @example
   * ```ts
   * for (const doc of await engine.outbox()) await publish(doc)
   * ```
   */
  async outbox(): Promise<Uint8Array[]> {
    this.check();
    return readOutbox(this.ctx.store);
  }

  /**
   * Removes published documents from the {@link outbox} by document id (32 bytes or hex; the
   * id is `decodeDocument(bytes).id`). Ids not in the outbox are ignored, so acknowledging again
   * after a restart is harmless. Resolves with how many documents were removed.
   *
   * @example
   * ```ts
   * const docs = await engine.outbox()
   * await publishAll(docs)
   * await engine.acknowledge(docs.map((d) => decodeDocument(d).id))
   * ```
   */
  async acknowledge(documentIds: readonly (Uint8Array | string)[]): Promise<number> {
    this.check();
    return acknowledgeOutbox(this.ctx.store, documentIdsArg(documentIds));
  }

  /**
   * An operation (an application document this engine ingested) with its plain and decrypted
   * fields, the names of fields still pending and the errors of those that can never be read;
   * null when unknown. Read from the store: no key is needed, and values read once (also
   * sender-ratchet ones) read the same after a restart.
   *
   * @example
   * ```ts
   * const op = await engine.read(operationId)
   * if (op !== null && op.pending.length === 0) show(op.fields)
   * ```
   */
  async read(operationId: Uint8Array | string): Promise<OperationView | null> {
    this.check();
    return readOperation(this.ctx.store, idArg(operationId, "operationId"));
  }

  /**
   * A group's operations in arrival order (at most `limit`, default 100, up to 1000), after the
   * `cursor` of a previous page.
   *
   * @example
   * ```ts
   * let after: string | undefined
   * for (;;) { const page = await engine.operations(groupId, { after }); if (page.cursor === null) break; after = page.cursor }
   * ```
   */
  async operations(groupId: Uint8Array | string, options?: { after?: string | null; limit?: number }): Promise<OperationsPage> {
    this.check();
    return listOperations(this.ctx.store, groupIdArg(groupId), options);
  }

  /**
   * What the engine does, as it happens: `decrypted` (an operation's values were stored),
   * `joined`, `commit`, `removed` (with the MLS epoch), and `overflow` when this watcher fell
   * more than its queue behind (resync with `operations()`). Ends when the engine closes, the
   * signal aborts, or the loop breaks.
   *
   * @example
   * ```ts
   * for await (const event of engine.watch()) if (event.type === "decrypted") render(await engine.read(event.operationId))
   * ```
   */
  watch(options?: WatchOptions): AsyncIterableIterator<EngineEvent> {
    this.check();
    return this.ctx.events.watch(options);
  }
}
