/**
 * The seal helper's wire format (hpkeSealer.ts): a batch of seal jobs, and the batch's
 * outcomes, each packed into one buffer that is transferred, not cloned.
 *
 * Why: posting ~500 jobs as objects structured-clones three or four small typed arrays per
 * job, about 10 ms of the calling thread's time per owner commit at 1000 members (CPU
 * profile), on the thread the commit waits for. A commit's seals share one context (and AAD):
 * those travel once, as `blobs`, and each job names them by index.
 *
 * Layout of a job: recipient public key (32) || u32 plaintext length || plaintext ||
 * u16 context index || u16 AAD index (0xffff: none). Of an outcome: u32 ciphertext length ||
 * enc (32) || ciphertext; a failed seal has length 0 and zero enc, and its message in `errors`.
 *
 * @module
 */
const KEY = 32;
const NO_AAD = 0xffff;

/** A seal as it crosses to the helper: raw bytes only. @example `{ publicRaw, plaintext, context }` */
export interface RemoteSealJob {
  readonly publicRaw: Uint8Array;
  readonly plaintext: Uint8Array;
  readonly context: Uint8Array;
  readonly aad?: Uint8Array | undefined;
}

/** A sealed message: KEM output and ciphertext. @example `const { enc, ct }: SealedBytes = outcome` */
export interface SealedBytes {
  readonly enc: Uint8Array;
  readonly ct: Uint8Array;
}

/** One seal's outcome: sealed, or why not. @example `{ enc, ct }` */
export type SealOutcome = SealedBytes | { readonly error: string };

/** Jobs packed for the helper. @example `const packed: PackedJobs = packJobs(jobs)` */
export interface PackedJobs {
  readonly count: number;
  readonly bytes: Uint8Array;
  /** The distinct contexts and AADs the jobs name by index. */
  readonly blobs: readonly Uint8Array[];
}

/** Outcomes packed for the way back. @example `const packed: PackedOutcomes = packOutcomes(outcomes)` */
export interface PackedOutcomes {
  readonly count: number;
  readonly bytes: Uint8Array;
  /** Failed seals: index and message. */
  readonly errors: readonly (readonly [number, string])[];
}

/**
 * Packs jobs into one buffer (its own ArrayBuffer, so it can be transferred).
 *
 * @example
 * ```ts
 * worker.postMessage({ jobs: packed }, [packed.bytes.buffer]);
 * ```
 */
export function packJobs(jobs: readonly RemoteSealJob[]): PackedJobs {
  const blobs: Uint8Array[] = [];
  const index = new Map<Uint8Array, number>();
  const blobIndex = (b: Uint8Array): number => {
    let i = index.get(b);
    if (i === undefined) {
      i = blobs.length;
      if (i >= NO_AAD) throw new RangeError("too many distinct seal contexts in one batch");
      blobs.push(b);
      index.set(b, i);
    }
    return i;
  };
  let size = 0;
  for (const job of jobs) {
    if (job.publicRaw.byteLength !== KEY) throw new RangeError("X25519 public key must be 32 bytes");
    size += KEY + 4 + job.plaintext.byteLength + 4;
  }
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const job of jobs) {
    bytes.set(job.publicRaw, at);
    view.setUint32(at + KEY, job.plaintext.byteLength);
    bytes.set(job.plaintext, at + KEY + 4);
    at += KEY + 4 + job.plaintext.byteLength;
    view.setUint16(at, blobIndex(job.context));
    view.setUint16(at + 2, job.aad === undefined ? NO_AAD : blobIndex(job.aad));
    at += 4;
  }
  return { count: jobs.length, bytes, blobs };
}

function need(bytes: Uint8Array, at: number, n: number): void {
  if (at + n > bytes.byteLength) throw new RangeError("truncated seal batch");
}

/**
 * The jobs of a packed batch, as views into its buffer; throws on a malformed batch.
 *
 * @example
 * ```ts
 * const jobs = unpackJobs(request.jobs);
 * ```
 */
export function unpackJobs(packed: PackedJobs): RemoteSealJob[] {
  const { bytes, blobs } = packed;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blob = (i: number): Uint8Array => {
    const b = blobs[i];
    if (b === undefined) throw new RangeError("seal batch names a missing context");
    return b;
  };
  const jobs = new Array<RemoteSealJob>(packed.count);
  let at = 0;
  for (let i = 0; i < packed.count; i++) {
    need(bytes, at, KEY + 4);
    const publicRaw = bytes.subarray(at, at + KEY);
    const length = view.getUint32(at + KEY);
    at += KEY + 4;
    need(bytes, at, length + 4);
    const plaintext = bytes.subarray(at, at + length);
    at += length;
    const context = blob(view.getUint16(at));
    const aadIndex = view.getUint16(at + 2);
    at += 4;
    jobs[i] = aadIndex === NO_AAD ? { publicRaw, plaintext, context } : { publicRaw, plaintext, context, aad: blob(aadIndex) };
  }
  if (at !== bytes.byteLength) throw new RangeError("trailing bytes in seal batch");
  return jobs;
}

/**
 * Packs outcomes into one buffer (its own ArrayBuffer, so it can be transferred).
 *
 * @example
 * ```ts
 * parentPort.postMessage({ outcomes: packed }, [packed.bytes.buffer]);
 * ```
 */
export function packOutcomes(outcomes: readonly SealOutcome[]): PackedOutcomes {
  let size = 0;
  for (const o of outcomes) size += 4 + KEY + ("error" in o ? 0 : o.ct.byteLength);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  const errors: [number, string][] = [];
  let at = 0;
  outcomes.forEach((o, i) => {
    if ("error" in o) {
      errors.push([i, o.error]);
      at += 4 + KEY;
      return;
    }
    if (o.enc.byteLength !== KEY) throw new RangeError("X25519 KEM output must be 32 bytes");
    view.setUint32(at, o.ct.byteLength);
    bytes.set(o.enc, at + 4);
    bytes.set(o.ct, at + 4 + KEY);
    at += 4 + KEY + o.ct.byteLength;
  });
  return { count: outcomes.length, bytes, errors };
}

/**
 * The outcomes of a packed answer, sealed ones as views into its buffer; throws on a
 * malformed answer.
 *
 * @example
 * ```ts
 * const outcomes = unpackOutcomes(response.outcomes);
 * ```
 */
export function unpackOutcomes(packed: PackedOutcomes): SealOutcome[] {
  const { bytes } = packed;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const failed = new Map(packed.errors);
  const outcomes = new Array<SealOutcome>(packed.count);
  let at = 0;
  for (let i = 0; i < packed.count; i++) {
    need(bytes, at, 4 + KEY);
    const length = view.getUint32(at);
    need(bytes, at + 4 + KEY, length);
    const error = failed.get(i);
    outcomes[i] = error !== undefined ? { error } : { enc: bytes.subarray(at + 4, at + 4 + KEY), ct: bytes.subarray(at + 4 + KEY, at + 4 + KEY + length) };
    at += 4 + KEY + length;
  }
  if (at !== bytes.byteLength) throw new RangeError("trailing bytes in seal answer");
  return outcomes;
}
