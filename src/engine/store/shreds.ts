/**
 * Crypto-shredding of own keys (keyring.ts) in gathered rounds: a key whose values a batch
 * deleted is destroyed once that batch is durable, by a synced write (which syncs LevelDB's log,
 * earlier batches included), then the keyring. In the background, one round at a time, so a
 * join does not wait for two fsyncs; a round first gathers the keys of
 * {@link KEYRING_SHRED_COALESCE_MS} (a busy ingest's joins share one keyring write); `close` ends
 * that pause and waits for the round, and a key a crash leaves behind is an orphan the next open
 * destroys (migrate.ts).
 *
 * @module
 */
import { KEYRING_SHRED_COALESCE_MS } from "../../constants.js";

/**
 * The store's shred rounds (src/engine/store/store.ts makes one).
 *
 * @example
 * ```ts
 * const shreds = new ShredRounds(() => syncedTombstone(), (ids) => keyring.destroy(ids));
 * shreds.add(["kp/ab"], true); await shreds.close();
 * ```
 */
export class ShredRounds {
  /** Own keys whose values were deleted, waiting for a synced write before they are destroyed. */
  private readonly queue = new Set<string>();
  /** Whether a queued key came from a batch that was not synced (a barrier must sync it first). */
  private barrier = false;
  /** The round running or queued; `close` (and tests) await it. */
  running: Promise<void> = Promise.resolve();
  /** A round is queued that has not yet read the queue; calling it ends its gathering pause at once (close). */
  private wake: (() => void) | undefined;
  private pending = false;
  private closing = false;
  /** {@link KEYRING_SHRED_COALESCE_MS}, a field so that a test can stretch it. */
  coalesceMs: number = KEYRING_SHRED_COALESCE_MS;

  /**
   * `syncLog`: a synced write that makes every earlier batch durable; `destroy`: the keyring's.
   */
  constructor(
    private readonly syncLog: () => Promise<void>,
    private readonly destroy: (ids: readonly string[]) => Promise<void>,
  ) {}

  /**
   * Queues `ids` for the next round; `unsynced`: the batch that deleted their values was not
   * synced itself, so the round writes a barrier first.
   *
   * @example
   * ```ts
   * shreds.add(ids, options.sync !== true)
   * ```
   */
  add(ids: readonly string[], unsynced: boolean): void {
    for (const id of ids) this.queue.add(id);
    this.barrier ||= unsynced;
    // a queued round that has not read the queue yet takes these ids too
    if (this.pending) return;
    this.pending = true;
    this.running = this.running.then(() => this.round());
  }

  private async round(): Promise<void> {
    // gathers the keys of the joins that follow: one whole-file keyring write for all of them
    if (!this.closing) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.coalesceMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    this.pending = false;
    const due = [...this.queue];
    const needsBarrier = this.barrier;
    this.queue.clear();
    this.barrier = false;
    if (due.length === 0) return;
    try {
      // a synced delete of a key that does not exist: a tombstone in the log, fsync'ed with all
      // before it; not needed when every deleting batch was synced itself (a join's)
      if (needsBarrier) await this.syncLog();
      await this.destroy(due);
    } catch {
      // the keys stay: orphans, destroyed on the next open
    }
  }

  /**
   * Ends a gathering pause and waits for the round (the store closes after it).
   *
   * @example
   * ```ts
   * await shreds.close()
   * ```
   */
  async close(): Promise<void> {
    this.closing = true;
    this.wake?.();
    await this.running;
  }
}
