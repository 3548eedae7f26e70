/**
 * A long stretch of Ed25519 checks shared with a second core: libsodium on this thread, OpenSSL
 * on one thread of libuv's pool (native/ed25519.c).
 *
 * Why: a joiner checks a signature on every leaf of the tree, ~50 us each with libsodium, and
 * at 1000 members those checks were two thirds of a worker's join while the other core sat idle
 * (bench/results/NOTES.md, session 31). ts-mls asks for them all in one synchronous stretch (our
 * patch of `validateRatchetTree` starts every leaf's check before awaiting any). Handing them
 * to node:crypto's pool one by one costs this thread about what the check does (a key import, a
 * job), so it never paid (session 24); a run of the addon costs this thread a copy of each item.
 *
 * The rule: the first {@link ED25519_RUN_AFTER} checks of a synchronous stretch (no microtask in
 * between) run here at once, as before; the rest of the stretch go into a run that the pool
 * thread starts on at once. At the next turn of the event loop this thread takes what the pool
 * thread has not and checks it with libsodium, from the back, so each side does what its core
 * time allows. Sequential checks (`await` after each) never form a stretch. A verdict is
 * libsodium's rule on either side: `passesEd25519Rule` before an item goes in, OpenSSL's check
 * after (test/ed25519-verify.test.ts holds the two to the same answers).
 *
 * Without the addon every check runs here with libsodium, as before.
 *
 * @module
 */
import { ED25519_RUN_AFTER } from "../../constants.js";
import { passesEd25519Rule, verifyEd25519Sync } from "../../ed25519Verify.js";
import { nativeAddon, type Ed25519Run, type Ed25519RunAddon } from "../../native.js";

interface Waiting {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
  readonly resolve: (ok: boolean) => void;
}

/**
 * How many checks went which way on this thread since it started (for tests and benchmarks).
 *
 * @example
 * ```ts
 * const { runs, pool, here } = verifyRunCounts();
 * ```
 */
export interface VerifyRunCounts {
  /** Shared runs opened. */
  readonly runs: number;
  /** Checks the pool thread made. */
  readonly pool: number;
  /** Checks of shared runs this thread took back and made. */
  readonly here: number;
}

const counts = { runs: 0, pool: 0, here: 0 };

/** @example `verifyRunCounts().pool > 0 // the pool thread took part` */
export function verifyRunCounts(): VerifyRunCounts {
  return { ...counts };
}

// VALID 1, INVALID 2; UNCHECKED 0 (OpenSSL could not check it): this thread checks it
function settle(item: Waiting, verdict: number): void {
  item.resolve(verdict === 1 ? true : verdict === 2 ? false : verifyEd25519Sync(item.publicKey, item.message, item.signature));
}

class SharedRun {
  private readonly items: Waiting[] = [];
  private readonly run: Ed25519Run;

  constructor(private readonly addon: Ed25519RunAddon) {
    this.run = addon.runOpen((verdicts) => {
      counts.pool += verdicts.length;
      verdicts.forEach((verdict, i) => settle(this.items[i]!, verdict));
    });
    counts.runs++;
  }

  add(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return new Promise((resolve) => {
      this.addon.runAdd(this.run, publicKey, message, signature); // throws (out of memory) before the item counts
      this.items.push({ publicKey, message, signature, resolve });
    });
  }

  finish(): void {
    for (let i = this.addon.runTake(this.run); i >= 0; i = this.addon.runTake(this.run)) {
      counts.here++;
      settle(this.items[i]!, 0);
    }
    this.addon.runClose(this.run);
  }
}

let inStretch = 0;
let open: SharedRun | undefined;

function endStretch(): void {
  inStretch = 0;
}

function finishOpen(): void {
  const run = open;
  open = undefined;
  run?.finish();
}

/**
 * Verifies an Ed25519 signature under `verifyEd25519Sync`'s rule, sharing a long synchronous
 * stretch of such calls with a pool thread (see the module). Never rejects; false for any bad
 * input.
 *
 * @example
 * ```ts
 * const oks = await Promise.all(leaves.map((l) => verifyEd25519Shared(l.key, l.tbs, l.signature)));
 * ```
 */
export function verifyEd25519Shared(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean | Promise<boolean> {
  if (inStretch++ === 0) queueMicrotask(endStretch);
  if (inStretch <= ED25519_RUN_AFTER || nativeAddon === undefined) return verifyEd25519Sync(publicKey, message, signature);
  if (!passesEd25519Rule(publicKey, signature)) return false;
  if (open === undefined) {
    try {
      open = new SharedRun(nativeAddon);
    } catch {
      return verifyEd25519Sync(publicKey, message, signature); // no run to be had (no memory, no pool work): checked here
    }
    setImmediate(finishOpen);
  }
  return open.add(publicKey, message, signature).catch(() => verifyEd25519Sync(publicKey, message, signature));
}
