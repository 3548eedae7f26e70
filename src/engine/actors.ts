/**
 * The live group actors: hydrated from the store on first use, kept in a bounded LRU, and
 * stopped when idle beyond the bound, so an engine holding 10,000 groups keeps only the
 * recently used ones in memory (their MLS states live in the worker caches, also bounded).
 *
 * @module
 */
import { createActor } from "xstate";
import type { Actor } from "xstate";
import type { groupMachine } from "../../machines/group.js";
import type { GroupJob, HeldSecrets, JobRequest } from "./jobs.js";
import type { GroupRecord } from "./store/records.js";
import { validSecrets } from "./secrets.js";
import { ErrorCode, UsageError } from "../errors.js";
import { ACTOR_BASE_BYTES, ACTOR_MEMBER_BYTES, ACTOR_SECRET_BYTES, DEFAULT_LIVE_ACTOR_BYTES } from "../constants.js";

type GroupMachine = typeof groupMachine;

/** Default bound of live actors. @example `new GroupActors(machine, DEFAULT_LIVE_ACTORS)` */
export const DEFAULT_LIVE_ACTORS = 256;

/**
 * Estimated bytes a live actor holds: a base, its group record's member list and its held
 * long-term secrets (constants measured on Node 20, src/constants.ts).
 *
 * @example
 * ```ts
 * actorBytes(actor.getSnapshot().context) // 16,384 + 256 per member + 160 per secret
 * ```
 */
export function actorBytes(context: { readonly record?: { readonly members: readonly Uint8Array[] } | undefined; readonly secrets?: { readonly secrets: readonly unknown[] } | undefined }): number {
  return ACTOR_BASE_BYTES + (context.record?.members.length ?? 0) * ACTOR_MEMBER_BYTES + (context.secrets?.secrets.length ?? 0) * ACTOR_SECRET_BYTES;
}

/**
 * Routes jobs to per-group actors and evicts idle ones (least recently used first) beyond a
 * count and an estimated byte bound.
 *
 * @example
 * ```ts
 * const actors = new GroupActors(groupMachine.provide({ actors }), 16)
 * const messages = await actors.run(gid, { kind: "encrypt", encrypt: { plaintexts, scheme: "long-term" } })
 * ```
 */
export class GroupActors {
  private readonly live = new Map<string, Actor<GroupMachine>>();
  /** Estimated bytes of each live actor, taken when its last job settled. */
  private readonly weights = new Map<string, number>();
  private weight = 0;
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;
  /** How many actors were hydrated so far (for tests and stats). */
  hydrations = 0;

  constructor(
    private readonly machine: GroupMachine,
    private readonly cap: number = DEFAULT_LIVE_ACTORS,
    private readonly byteCap: number = DEFAULT_LIVE_ACTOR_BYTES,
  ) {}

  /** Number of live actors. @example `actors.size` */
  get size(): number {
    return this.live.size;
  }

  /** Estimated bytes the live actors hold (see {@link actorBytes}). @example `actors.bytes` */
  get bytes(): number {
    return this.weight;
  }

  private weigh(groupId: string): void {
    const actor = this.live.get(groupId);
    const before = this.weights.get(groupId) ?? 0;
    const after = actor === undefined ? 0 : actorBytes(actor.getSnapshot().context);
    if (actor === undefined) this.weights.delete(groupId);
    else this.weights.set(groupId, after);
    this.weight += after - before;
  }

  private drop(groupId: string, actor: Actor<GroupMachine>): void {
    actor.stop();
    this.live.delete(groupId);
    this.weigh(groupId);
  }

  /**
   * Queues a job on the group's actor and resolves with its result.
   *
   * @example
   * ```ts
   * await actors.run(gid, { kind: "read" })
   * ```
   */
  run<T>(groupId: string, request: JobRequest): Promise<T> {
    if (this.closed) return Promise.reject(new UsageError(ErrorCode.Closed, "engine is closed"));
    let actor = this.live.get(groupId);
    if (actor === undefined) {
      // Ingesting a commit and draining what it unblocks (a member's next commits, a join
      // through a stored Welcome) are separate batches: a crash between them leaves the drain
      // undone, and nothing else starts it again (a re-ingested commit is a duplicate). So the
      // first job of every hydrated actor is that drain; with nothing pending it is a few reads.
      // The machine queues it itself once hydrated, only for a group whose owner is known (no
      // job, promise or event for the many groups seen first now); its failure is not the
      // caller's: the caller's own job, queued behind it, reports any fault it meets.
      actor = createActor(this.machine, { input: { groupId, resumeFirst: request.kind !== "resume" } });
      actor.start();
      this.hydrations++;
      this.live.set(groupId, actor);
    } else {
      this.live.delete(groupId); // re-insert: Map order is the LRU order
      this.live.set(groupId, actor);
    }
    return this.enqueue<T>(groupId, actor, request);
  }

  private enqueue<T>(groupId: string, actor: Actor<GroupMachine>, request: JobRequest): Promise<T> {
    const promise = new Promise<T>((resolve, reject) => {
      const job: GroupJob = { ...request, reply: { resolve: resolve as (v: unknown) => void, reject } };
      actor.send({ type: "job", job });
    });
    this.inflight.add(promise);
    const done = (): void => {
      this.inflight.delete(promise);
      this.weigh(groupId);
      this.evict();
    };
    promise.then(done, done);
    return promise;
  }

  /**
   * What a job queued now on the group's actor would read, when that actor is live, idle (no
   * job running or queued), a member or a removed member, and holds the long-term secrets of
   * its record: a long-term decryption (a read: no writes, no state change) may then run beside
   * the actor instead of through its queue, seeing exactly what it would have seen in it. Undefined
   * otherwise: the job queues as usual (behind a commit that may bring a new epoch, say).
   * The caller passes the work it starts to {@link track}.
   *
   * @example
   * ```ts
   * const view = actors.idleView(gid) // { record, secrets } or undefined
   * ```
   */
  idleView(groupId: string): { record: GroupRecord; secrets: HeldSecrets } | undefined {
    if (this.closed) return undefined;
    const actor = this.live.get(groupId);
    if (actor === undefined) return undefined;
    const snap = actor.getSnapshot();
    if (snap.context.queue.length > 0 || snap.context.job !== undefined) return undefined;
    if (!snap.matches({ member: "idle" }) && !snap.matches({ removed: "idle" })) return undefined;
    const { record } = snap.context;
    const secrets = validSecrets(snap.context.secrets, record);
    if (record === undefined || secrets === undefined) return undefined;
    this.live.delete(groupId); // re-insert: Map order is the LRU order
    this.live.set(groupId, actor);
    return { record, secrets };
  }

  /**
   * Counts work started beside an actor (see {@link idleView}) as in flight: `close()` waits
   * for it like for a queued job.
   *
   * @example
   * ```ts
   * const results = await actors.track(openBeside(view))
   * ```
   */
  track<T>(promise: Promise<T>): Promise<T> {
    this.inflight.add(promise);
    const done = (): void => void this.inflight.delete(promise);
    promise.then(done, done);
    return promise;
  }

  private isIdle(actor: Actor<GroupMachine>): boolean {
    const snap = actor.getSnapshot();
    if (snap.context.queue.length > 0 || snap.context.job !== undefined) return false;
    return snap.matches({ member: "idle" }) || snap.matches({ "awaiting-welcome": "idle" }) || snap.matches({ removed: "idle" }) || snap.matches("failed");
  }

  private over(): boolean {
    return this.live.size > this.cap || (this.weight > this.byteCap && this.live.size > 1);
  }

  /** Stops idle actors, least recently used first, until both the count and the byte bound hold. */
  private evict(): void {
    if (!this.over()) return;
    for (const [groupId, actor] of this.live) {
      if (!this.over()) break;
      if (!this.isIdle(actor)) continue;
      this.drop(groupId, actor);
    }
  }

  /** Drops one group's actor if idle (after its records changed outside it). @example `actors.forget(gid)` */
  forget(groupId: string): void {
    const actor = this.live.get(groupId);
    if (actor !== undefined && this.isIdle(actor)) this.drop(groupId, actor);
  }

  /** Waits for every queued job, then stops all actors and refuses new jobs. @example `await actors.close()` */
  async close(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    this.closed = true;
    for (const actor of this.live.values()) actor.stop();
    this.live.clear();
    this.weights.clear();
    this.weight = 0;
  }
}
