/**
 * The seeded generator the random tests share (the fuzzers, the differential test).
 *
 * @module
 */
/** Deterministic PRNG (mulberry32): the seed fixes the workload's shape. @example `const r = rng(7); r.int(3)` */
export function rng(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T; bytes(n: number): Uint8Array } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    pick: <T>(xs: readonly T[]): T => {
      if (xs.length === 0) throw new Error("pick from nothing");
      return xs[int(xs.length)] as T;
    },
    bytes: (n: number) => Uint8Array.from({ length: n }, () => int(256)),
  };
}
