/**
 * The calling thread's side of the HPKE seal helper (hpkeSealer.ts has the messages and what
 * the helper runs; the entry is workers/hpkeSeal.ts): one `worker_threads` Worker per thread
 * that uses it, started on the first large batch and used from the next one on. A helper that
 * fails or stops answering rejects its batches, which are then sealed where they were asked for.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import type { X25519HpkeAlgorithm } from "./hpkeCore.js";
import type { PrepareRequest, PrepareResponse, RemoteSealJob, SealOutcome, SealRequest, SealResponse } from "./hpkeSealer.js";
import { HPKE_SEAL_HELPER_TIMEOUT_MS } from "../../constants.js";

interface Waiting {
  readonly resolve: (response: SealResponse | PrepareResponse) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The calling thread's side of the helper thread.
 *
 * @example
 * ```ts
 * const helper = new SealHelper();
 * helper.start();
 * if (helper.ready) await helper.seal(alg, jobs);
 * ```
 */
export class SealHelper {
  #worker: Worker | undefined;
  #ready = false;
  #broken = false;
  #next = 0;
  #answered = 0;
  readonly #waiting = new Map<number, Waiting>();
  readonly #timers = new Map<number, ReturnType<typeof setTimeout>>();
  #fail: (error: unknown) => void = () => {};

  /**
   * True once the helper thread is up and can take a batch.
   *
   * @example
   * ```ts
   * helper.ready; // false until started and online
   * ```
   */
  get ready(): boolean {
    return this.#ready;
  }

  /**
   * Batches the helper has sealed and answered (tests check that the helper path ran).
   *
   * @example
   * ```ts
   * helper.answered; // 0 before the first batch
   * ```
   */
  get answered(): number {
    return this.#answered;
  }

  /**
   * Starts the helper thread if it is not running (no-op once it failed to start).
   *
   * @example
   * ```ts
   * helper.start();
   * ```
   */
  start(): void {
    if (this.#worker !== undefined || this.#broken) return;
    let worker: Worker;
    try {
      worker = new Worker(new URL("../../../workers/hpkeSeal.js", import.meta.url));
    } catch {
      this.#broken = true; // no worker here (a bundle without the entry file): seal locally
      return;
    }
    this.#worker = worker;
    worker.on("message", (response: SealResponse | PrepareResponse | { readonly ready: true }) => {
      // ready once its module has loaded and listens ('online' comes before: a helper whose
      // module never loads would take batches and never answer)
      if ("ready" in response) return void (this.#ready = true);
      const waiting = this.#waiting.get(response.id);
      if (waiting === undefined) return;
      this.#waiting.delete(response.id);
      clearTimeout(this.#timers.get(response.id));
      this.#timers.delete(response.id);
      if (this.#waiting.size === 0) worker.unref();
      this.#answered++;
      waiting.resolve(response);
    });
    const fail = (error: unknown) => {
      if (this.#worker !== worker) return;
      // a helper that threw (it cannot load here, say) is not restarted on every batch
      if (error instanceof Error) this.#broken = true;
      this.#worker = undefined;
      this.#ready = false;
      const waiting = [...this.#waiting.values()];
      this.#waiting.clear();
      for (const t of this.#timers.values()) clearTimeout(t);
      this.#timers.clear();
      void worker.terminate();
      const reason = error instanceof Error ? error : new Error(`seal helper exited (${String(error)})`);
      for (const w of waiting) w.reject(reason);
    };
    this.#fail = fail;
    worker.on("error", fail);
    worker.on("exit", fail);
    // after the listeners: adding a 'message' listener refs the worker again
    worker.unref();
  }

  /**
   * Seals a batch on the helper thread (rejects if the helper fails before answering).
   *
   * @example
   * ```ts
   * const outcomes = await helper.seal({ kdf: "HKDF-SHA256", aead: "AES128GCM" }, jobs);
   * ```
   */
  async seal(alg: X25519HpkeAlgorithm, jobs: readonly RemoteSealJob[]): Promise<readonly SealOutcome[]> {
    return ((await this.#ask((id) => ({ id, alg: { kdf: alg.kdf, aead: alg.aead }, jobs }) satisfies SealRequest)) as SealResponse).outcomes;
  }

  /**
   * Encapsulations to `recipients` made on the helper thread ({@link prepareBatch}); rejects if
   * the helper fails before answering.
   *
   * @example
   * ```ts
   * const { packed, failed } = await helper.prepare([initKey]);
   * ```
   */
  async prepare(recipients: readonly Uint8Array[]): Promise<PrepareResponse> {
    return (await this.#ask((id) => ({ id, prepare: recipients }) satisfies PrepareRequest)) as PrepareResponse;
  }

  #ask(message: (id: number) => SealRequest | PrepareRequest): Promise<SealResponse | PrepareResponse> {
    const worker = this.#worker;
    if (worker === undefined || !this.#ready) return Promise.reject(new Error("seal helper not running"));
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      try {
        worker.postMessage(message(id));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e))); // nothing went out: nothing to wait for
        return;
      }
      this.#waiting.set(id, { resolve, reject });
      worker.ref(); // a batch out keeps the process alive until its answer
      // a helper that stops answering is given up (its batches sealed where they were asked for)
      const timer = setTimeout(() => this.#fail(new Error("seal helper did not answer")), HPKE_SEAL_HELPER_TIMEOUT_MS);
      timer.unref();
      this.#timers.set(id, timer);
    });
  }
}
