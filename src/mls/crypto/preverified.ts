/**
 * Ed25519 verifications started before ts-mls asks for them: an owner's worker adding 999
 * members decodes their key packages one by one (with their documents), and starts each
 * package's two signature checks (KeyPackageTBS, LeafNodeTBS) on libuv's thread pool as soon as
 * it is decoded, so they run on the other core while this thread decodes the rest; ts-mls's
 * validation of the commit's Add proposals then gets those checks' answers (before, all 1,998
 * started only once every package was decoded and the commit begun, and the worker waited).
 *
 * An answer is handed out only for a request with the same public key, message and signature
 * bytes (compared in full), once; what a {@link PreverifyScope} started and nobody took is dropped
 * when it ends. Nothing here decides anything: the answer is the verification's.
 *
 * @module
 */
import { bytesKey } from "./lru.js";
import { equalBytes } from "../../bytes.js";

interface Started {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly answer: Promise<boolean>;
}

/** Started checks by signature bytes (an Ed25519 signature is 64 bytes: one message per key, in practice). */
const started = new Map<string, Started>();

/**
 * The answer of a check started for exactly these bytes, taken (a second request verifies
 * again); undefined when none was started.
 *
 * @example
 * ```ts
 * const answer = takeStarted(publicKey, message, signature) ?? verifyNow(publicKey, message, signature)
 * ```
 */
export function takeStarted(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> | undefined {
  if (started.size === 0) return undefined;
  const key = bytesKey(signature);
  const entry = started.get(key);
  if (entry === undefined || !equalBytes(entry.publicKey, publicKey) || !equalBytes(entry.message, message)) return undefined;
  started.delete(key);
  return entry.answer;
}

/**
 * The checks one task started: `start` registers a verification already under way, `end` drops
 * every one nobody took (an add that failed before ts-mls validated its packages).
 *
 * @example
 * ```ts
 * const scope = new PreverifyScope()
 * try { scope.start(pk, message, signature, verifyOnPool(pk, message, signature)); ... } finally { scope.end() }
 * ```
 */
export class PreverifyScope {
  private readonly keys: string[] = [];

  start(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, answer: Promise<boolean>): void {
    answer.catch(() => undefined); // whoever takes it sees the rejection; an untaken one is no unhandled rejection
    const key = bytesKey(signature);
    started.set(key, { publicKey: Uint8Array.from(publicKey), message, answer });
    this.keys.push(key);
  }

  end(): void {
    for (const key of this.keys) started.delete(key);
    this.keys.length = 0;
  }
}
