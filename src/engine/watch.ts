/**
 * `engine.watch()`: an async iterable of what the engine did, for a view layer that
 * materialises documents (GraphQL, SQL). Each watcher has its own bounded queue
 * ({@link WATCH_QUEUE_SIZE} events by default): the engine never waits for a consumer and never
 * buffers without bound. When a watcher's queue is full, further events for it are discarded
 * and counted; once it has room again, the next event it receives is
 * `{ type: "overflow", dropped }`, telling the consumer to resync from `engine.operations()`.
 *
 * @module
 */
import { WATCH_QUEUE_SIZE } from "../constants.js";
import { ErrorCode, UsageError } from "../errors.js";

/**
 * An event of `engine.watch()`. Ids are the raw 32 bytes. `decrypted`: an operation's values
 * were stored (read them with `engine.read`); `joined`, `commit`, `removed`: a group's state
 * changed, at `epoch` (MLS epoch after the change); `overflow`: this watcher lost `dropped`
 * events because it read too slowly.
 *
 * @example
 * ```ts
 * for await (const e of engine.watch()) if (e.type === "decrypted") render(await engine.read(e.operationId))
 * ```
 */
export type EngineEvent =
  | { readonly type: "decrypted"; readonly operationId: Uint8Array; readonly groupId: Uint8Array }
  | { readonly type: "joined" | "commit" | "removed"; readonly groupId: Uint8Array; readonly epoch: bigint }
  | { readonly type: "overflow"; readonly dropped: number };

/** Options of `engine.watch()`. @example `{ queueSize: 1000, signal: controller.signal }` */
export interface WatchOptions {
  /** Events held for this watcher before it overflows (default {@link WATCH_QUEUE_SIZE}). */
  readonly queueSize?: number;
  /** Ends the iteration when aborted. */
  readonly signal?: AbortSignal;
}

class Watcher implements AsyncIterableIterator<EngineEvent> {
  private readonly queue: EngineEvent[] = [];
  private dropped = 0;
  private waiting: ((r: IteratorResult<EngineEvent>) => void) | undefined;
  private done = false;

  constructor(
    private readonly size: number,
    private readonly detach: (w: Watcher) => void,
  ) {}

  push(event: EngineEvent): void {
    if (this.done) return;
    if (this.waiting !== undefined) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: event, done: false });
      return;
    }
    if (this.queue.length >= this.size) {
      this.dropped++;
      return;
    }
    if (this.dropped > 0) {
      // the notice goes where the lost events would have been (one slot over the bound)
      this.queue.push({ type: "overflow", dropped: this.dropped });
      this.dropped = 0;
    }
    this.queue.push(event);
  }

  next(): Promise<IteratorResult<EngineEvent>> {
    const event = this.queue.shift();
    if (event !== undefined) return Promise.resolve({ value: event, done: false });
    if (this.dropped > 0) {
      const dropped = this.dropped;
      this.dropped = 0;
      return Promise.resolve({ value: { type: "overflow", dropped }, done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<EngineEvent>> {
    this.end(true);
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stops taking events; `clear` also forgets the queued ones (the consumer left). */
  end(clear: boolean): void {
    if (this.done) return;
    this.done = true;
    if (clear) {
      this.queue.length = 0;
      this.dropped = 0;
    }
    this.detach(this);
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<EngineEvent> {
    return this;
  }
}

/**
 * The engine's watchers: {@link EventHub.emit} hands each event to every watcher at once.
 *
 * @example
 * ```ts
 * const hub = new EventHub(); const it = hub.watch(); hub.emit([{ type: "commit", groupId, epoch: 1n }])
 * ```
 */
export class EventHub {
  private readonly watchers = new Set<Watcher>();

  /** A new watcher (see the module comment for overflow). @example `for await (const e of hub.watch()) {}` */
  watch(options: WatchOptions = {}): AsyncIterableIterator<EngineEvent> {
    const size = options.queueSize ?? WATCH_QUEUE_SIZE;
    if (!Number.isInteger(size) || size < 1) throw new UsageError(ErrorCode.InvalidArgument, "queueSize must be a positive integer");
    const watcher = new Watcher(size, (w) => this.watchers.delete(w));
    this.watchers.add(watcher);
    if (options.signal !== undefined) {
      if (options.signal.aborted) watcher.end(true);
      else options.signal.addEventListener("abort", () => watcher.end(true), { once: true });
    }
    return watcher;
  }

  /** Hands events to every watcher. @example `hub.emit(events)` */
  emit(events: readonly EngineEvent[]): void {
    if (this.watchers.size === 0) return;
    for (const event of events) for (const w of this.watchers) w.push(event);
  }

  /** Ends every watcher (their iterations finish after the queued events). @example `hub.close()` */
  close(): void {
    for (const w of [...this.watchers]) w.end(false);
  }
}
