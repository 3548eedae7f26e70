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
import type { GroupJob, JobRequest } from "./jobs.js";
import { ErrorCode, UsageError } from "../errors.js";

type GroupMachine = typeof groupMachine;

/** Default bound of live actors. @example `new GroupActors(machine, DEFAULT_LIVE_ACTORS)` */
export const DEFAULT_LIVE_ACTORS = 256;

/**
 * Routes jobs to per-group actors and evicts idle ones (least recently used first).
 *
 * @example
 * ```ts
 * const actors = new GroupActors(groupMachine.provide({ actors }), 16)
 * const messages = await actors.run(gid, { kind: "encrypt", encrypt: { plaintexts, scheme: "long-term" } })
 * ```
 */
export class GroupActors {
  private readonly live = new Map<string, Actor<GroupMachine>>();
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;
  /** How many actors were hydrated so far (for tests and stats). */
  hydrations = 0;

  constructor(
    private readonly machine: GroupMachine,
    private readonly cap: number = DEFAULT_LIVE_ACTORS,
  ) {}

  /** Number of live actors. @example `actors.size` */
  get size(): number {
    return this.live.size;
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
      actor = createActor(this.machine, { input: { groupId } });
      actor.start();
      this.hydrations++;
      this.live.set(groupId, actor);
      // Ingesting a commit and draining what it unblocks (a member's next commits, a join
      // through a stored Welcome) are separate batches: a crash between them leaves the drain
      // undone, and nothing else starts it again (a re-ingested commit is a duplicate). So the
      // first job of every hydrated actor is that drain; with nothing pending it is a few reads.
      // Its failure is not the caller's: the caller's own job reports any fault it meets.
      this.enqueue<void>(actor, { kind: "resume" }).catch(() => undefined);
    } else {
      this.live.delete(groupId); // re-insert: Map order is the LRU order
      this.live.set(groupId, actor);
    }
    return this.enqueue<T>(actor, request);
  }

  private enqueue<T>(actor: Actor<GroupMachine>, request: JobRequest): Promise<T> {
    const promise = new Promise<T>((resolve, reject) => {
      const job: GroupJob = { ...request, reply: { resolve: resolve as (v: unknown) => void, reject } };
      actor.send({ type: "job", job });
    });
    this.inflight.add(promise);
    const done = (): void => {
      this.inflight.delete(promise);
      this.evict();
    };
    promise.then(done, done);
    return promise;
  }

  private isIdle(actor: Actor<GroupMachine>): boolean {
    const snap = actor.getSnapshot();
    if (snap.context.queue.length > 0 || snap.context.job !== undefined) return false;
    return snap.matches({ member: "idle" }) || snap.matches({ "awaiting-welcome": "idle" }) || snap.matches({ removed: "idle" }) || snap.matches("failed");
  }

  private evict(): void {
    if (this.live.size <= this.cap) return;
    for (const [groupId, actor] of this.live) {
      if (this.live.size <= this.cap) break;
      if (!this.isIdle(actor)) continue;
      actor.stop();
      this.live.delete(groupId);
    }
  }

  /** Drops one group's actor if idle (after its records changed outside it). @example `actors.forget(gid)` */
  forget(groupId: string): void {
    const actor = this.live.get(groupId);
    if (actor !== undefined && this.isIdle(actor)) {
      actor.stop();
      this.live.delete(groupId);
    }
  }

  /** Waits for every queued job, then stops all actors and refuses new jobs. @example `await actors.close()` */
  async close(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    this.closed = true;
    for (const actor of this.live.values()) actor.stop();
    this.live.clear();
  }
}
