/**
 * Seeded mutators for the fuzz tests: truncation, extension, bit flips, byte overwrites, splices
 * of two inputs, and random bytes. `FUZZ_SCALE` multiplies every case count (default 1);
 * `FUZZ_SEED` fixes the seed (default: a fixed one, so failures reproduce).
 *
 * @module
 */
import assert from "node:assert/strict";
import { SecretGroupError } from "../src/errors.js";
import { rng } from "./prng.js";

/** Multiplier of every fuzz case count, from `FUZZ_SCALE`. @example `cases(1000)` */
export const FUZZ_SCALE = Math.max(0.01, Number(process.env.FUZZ_SCALE ?? 1));
/** Seed of the fuzz generators, from `FUZZ_SEED`. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);

/** `n` scaled by {@link FUZZ_SCALE}, at least 1. @example `for (let i = 0; i < cases(500); i++)` */
export const cases = (n: number): number => Math.max(1, Math.round(n * FUZZ_SCALE));

/** The shared seeded generator. @example `const r = prng(1); r.int(10)` */
export const prng = rng;
export type Prng = ReturnType<typeof prng>;

/** The kinds of mutation {@link mutate} applies. */
export const MUTATIONS = ["truncate", "extend", "flip", "overwrite", "splice", "random"] as const;
export type Mutation = (typeof MUTATIONS)[number];

/**
 * One mutation of `input` (with `other`, another valid input, for splices). Never returns
 * `input` itself unchanged except by chance of the random kinds.
 *
 * @example
 * ```ts
 * const { kind, bytes } = mutate(r, commit, otherCommit)
 * ```
 */
export function mutate(r: Prng, input: Uint8Array, other: Uint8Array): { kind: Mutation; bytes: Uint8Array } {
  const kind = r.pick(MUTATIONS);
  const n = input.length;
  switch (kind) {
    case "truncate":
      return { kind, bytes: input.slice(0, r.int(Math.max(1, n))) };
    case "extend": {
      const extra = r.bytes(1 + r.int(16));
      const out = new Uint8Array(n + extra.length);
      out.set(input);
      out.set(extra, n);
      return { kind, bytes: out };
    }
    case "flip": {
      const out = input.slice();
      for (let k = 1 + r.int(3); k > 0 && n > 0; k--) {
        const i = r.int(n);
        out[i] = (out[i] as number) ^ (1 << r.int(8));
      }
      return { kind, bytes: out };
    }
    case "overwrite": {
      const out = input.slice();
      if (n > 0) out[r.int(n)] = r.pick([0x00, 0xff, 0x3f, 0x40, 0x7f, 0x80, 0xc0]);
      return { kind, bytes: out };
    }
    case "splice": {
      const a = r.int(n + 1);
      const b = r.int(other.length + 1);
      const out = new Uint8Array(a + other.length - b);
      out.set(input.subarray(0, a));
      out.set(other.subarray(b), a);
      return { kind, bytes: out };
    }
    case "random":
      return { kind, bytes: r.bytes(r.int(Math.max(8, n))) };
  }
}

/** Counts per outcome of a fuzz target: accepted, or refused by error code. */
export class Outcomes {
  readonly counts = new Map<string, number>();
  total = 0;
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.total++;
  }
  toString(): string {
    return [...this.counts].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v}`).join(", ");
  }
}

/**
 * Runs `fn` and records its outcome: "accepted", or the typed error's code. Anything thrown
 * that is not a SecretGroupError fails the test, naming the case.
 *
 * @example
 * ```ts
 * const ok = await typedOutcome(outcomes, `case ${i}`, () => decrypt(state, bytes))
 * ```
 */
export async function typedOutcome<T>(outcomes: Outcomes, what: string, fn: () => T | Promise<T>): Promise<T | undefined> {
  try {
    const value = await fn();
    outcomes.add("accepted");
    return value;
  } catch (e) {
    if (!(e instanceof SecretGroupError)) {
      assert.fail(`${what}: untyped error ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    outcomes.add(e.code);
    return undefined;
  }
}

/** A call's value or the error it threw, by class and message: two decoders compared on the same bytes. */
export type Outcome = { value: unknown } | { threw: string };

/**
 * Runs `f` and returns its value or its error (class name and message), so that two decoders can
 * be compared with one deepEqual, answer or error.
 *
 * @example
 * ```ts
 * assert.deepEqual(outcome(() => ours(bytes)), outcome(() => theirs(bytes)))
 * ```
 */
export function outcome(f: () => unknown): Outcome {
  try {
    return { value: f() };
  } catch (e) {
    return { threw: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
}

/** How the patched ts-mls refuses a length written in more bytes than needed (RFC 9420 2.1.2). */
export const NON_MINIMAL = "CodecError: Length not minimally encoded";

/**
 * A check that the patched ts-mls decoder `decode` answers as 1.6.4's `bareDecode` on `bytes`
 * read at `offset` (the same value and length, the same undefined, or the same error by class
 * and message), except that it refuses a length written in more bytes than needed (RFC 9420
 * 2.1.2, codec/variableLength.js `determineLength`). Where it does, 1.6.4 refused the input too
 * or decoded a value that does not encode to the bytes it read.
 *
 * @example
 * ```ts
 * const same = sameDecodeWith(decodeMlsMessage, bareDecodeMlsMessage, bareEncodeMlsMessage); same(bytes, "commit")
 * ```
 */
export function sameDecodeWith<T>(
  decode: (b: Uint8Array, o: number) => [T, number] | undefined,
  bareDecode: (b: Uint8Array, o: number) => [T, number] | undefined,
  bareEncode: (t: T) => Uint8Array,
): (bytes: Uint8Array, what: string, offset?: number) => void {
  return (bytes, what, offset = 0) => {
    const patched = outcome(() => decode(bytes, offset));
    const bare = outcome(() => bareDecode(bytes, offset));
    if ("threw" in patched && patched.threw === NON_MINIMAL) {
      const decoded = "value" in bare ? (bare.value as [T, number] | undefined) : undefined;
      if (decoded !== undefined) assert.notDeepEqual(bareEncode(decoded[0]), bytes.subarray(offset, offset + decoded[1]), `${what}: 1.6.4 read a non-minimal length`);
      return;
    }
    assert.deepEqual(patched, bare, what);
  };
}

/**
 * `bytes` with the length prefix at `at` (RFC 9420 2.1.2) written in `width` bytes instead of its
 * minimal form; undefined when the prefix there is not shorter than `width` (or is no 1- or
 * 2-byte prefix). 1.6.4 read such lengths, the patched ts-mls refuses them.
 *
 * @example
 * ```ts
 * const wide = widenLength(bytes, 4, 4) // a 1- or 2-byte length at offset 4 in the 4-byte form
 * ```
 */
export function widenLength(bytes: Uint8Array, at: number, width: 2 | 4): Uint8Array | undefined {
  const b = bytes[at];
  if (b === undefined || b >= 0x80) return undefined;
  const size = b < 0x40 ? 1 : 2;
  if (width <= size) return undefined;
  const value = size === 1 ? b : ((b & 0x3f) << 8) | (bytes[at + 1] ?? 0);
  const prefix = width === 2 ? [0x40 | (value >> 8), value & 0xff] : [0x80, 0, value >> 8, value & 0xff];
  return Uint8Array.from([...bytes.subarray(0, at), ...prefix, ...bytes.subarray(at + size)]);
}

/**
 * What a decoder is compared on beside another over one message (the MLS patch and scan tests):
 * the message; with `frame` ([offset, slack]), the message as a view at `offset` inside a buffer
 * `slack` bytes longer (and, with `trailing`, that view one byte longer); its prefixes every
 * `bytes.length / cuts` bytes; and `changes` copies with 1-4 random bytes overwritten (drawn from
 * `random` in this order).
 *
 * @example
 * ```ts
 * for (const [label, input] of decoderInputs("commit", bytes, rng(1), { frame: [3, 7], cuts: 400, changes: 300 })) same(input, label)
 * ```
 */
export function* decoderInputs(
  what: string,
  bytes: Uint8Array,
  random: Prng,
  o: { readonly frame?: readonly [offset: number, slack: number]; readonly cuts: number; readonly changes: number; readonly trailing?: boolean },
): Generator<[string, Uint8Array]> {
  yield [what, bytes];
  if (o.frame !== undefined) {
    const [offset, slack] = o.frame;
    const framed = new Uint8Array(bytes.length + slack);
    framed.set(bytes, offset);
    yield [`${what} in a larger buffer`, framed.subarray(offset, offset + bytes.length)];
    if (o.trailing === true) yield [`${what} with a trailing byte`, framed.subarray(offset, offset + 1 + bytes.length)];
  }
  for (let end = 0; end < bytes.length; end += Math.max(1, Math.floor(bytes.length / o.cuts))) yield [`${what} cut at ${end}`, bytes.subarray(0, end)];
  for (let i = 0; i < o.changes; i++) {
    const changed = Uint8Array.from(bytes);
    for (let k = 0; k <= random.int(3); k++) changed[random.int(changed.length)] = random.int(256);
    yield [`${what} changed (${i})`, changed];
  }
}
