/**
 * Off-heap copies of small byte arrays for calls into native code (the addon, sodium-native).
 *
 * Why: V8 keeps a typed array of at most 64 bytes in its own heap, and N-API gives native code
 * its bytes only after moving them into a new ArrayBuffer (`JSTypedArray::GetBuffer`: a malloc
 * and an ArrayBuffer extension, later swept by V8's helper threads and freed): ~0.75 us a call
 * argument in a micro against ~0.05 us for a copy into memory allocated once. Keys, nonces,
 * HMAC inputs and signatures are that small; a joined group of 3 passed ~25 such arguments to
 * the HMAC alone (bench/results/NOTES.md, session 33). {@link stage} copies one into this
 * thread's staging area; {@link unstage} wipes what was staged (keys pass through it) once the
 * native call has returned. Native calls are synchronous, so one area per thread (per module
 * instance: every worker has its own) serves them all. Between staging and its native call a
 * caller runs nothing that stages (an `unstage` there would wipe its arguments): keys are
 * derived first, as `Sealer.seal` does.
 *
 * @module
 */

/** Bytes the area holds: the largest call stages five arguments of at most 64 bytes. */
const AREA_BYTES = 512;
/** V8's largest on-heap typed array (V8_TYPED_ARRAY_MAX_SIZE_IN_HEAP): larger ones already live off the heap. */
const ON_HEAP_MAX = 64;

const area = new Uint8Array(new ArrayBuffer(AREA_BYTES));
let used = 0;

/**
 * `bytes`, or when small (at most 64 bytes) a copy of it in the staging area: pass the result to
 * a synchronous native call, then call {@link unstage}. Large arrays come back unchanged, as do
 * small ones when the area is full (correct, only slower).
 *
 * @example
 * ```ts
 * try {
 *   addon.hmac(id, stage(key), out, stage(info));
 * } finally {
 *   unstage();
 * }
 * ```
 */
export function stage(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n > ON_HEAP_MAX || used + n > AREA_BYTES) return bytes;
  const view = area.subarray(used, used + n);
  view.set(bytes);
  used += n;
  return view;
}

/**
 * Room for a small native call's output (at most 64 bytes; zeroed, in the staging area) that the
 * caller then copies out with {@link takeOutput} before {@link unstage}: an output array of its own would
 * be moved off V8's heap too. Larger outputs, or with the area full, get an array of their own.
 *
 * @example
 * ```ts
 * const room = stageOutput(32);
 * sodium.crypto_scalarmult_base(room, stage(secret));
 * const pub = takeOutput(room);
 * unstage();
 * ```
 */
export function stageOutput(n: number): Uint8Array {
  if (n > ON_HEAP_MAX || used + n > AREA_BYTES) return new Uint8Array(n);
  const view = area.subarray(used, used + n);
  used += n;
  return view;
}

/**
 * The caller's copy of an output from {@link stageOutput}: a staged one (at most 64 bytes) copied
 * onto V8's heap, an array of its own returned as it is.
 *
 * @example
 * ```ts
 * const pub = takeOutput(room)
 * ```
 */
export function takeOutput(out: Uint8Array): Uint8Array {
  return out.length <= ON_HEAP_MAX ? out.slice() : out;
}

/**
 * Wipes the staged copies and frees the area for the next call.
 *
 * @example
 * ```ts
 * unstage()
 * ```
 */
export function unstage(): void {
  if (used === 0) return;
  area.fill(0, 0, used);
  used = 0;
}

/**
 * Bytes staged and not yet released (0 between calls): for tests.
 *
 * @example
 * ```ts
 * stagedBytes() // 0
 * ```
 */
export function stagedBytes(): number {
  return used;
}
