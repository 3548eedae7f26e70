/**
 * Key package lifetimes: the window a new key package gets and the one rule every check uses
 * (the library's `addMembers`, the engine's reading of key package documents; ts-mls applies
 * the same window when it builds the commit).
 *
 * Spec caveat ("Potential issues"): a lifetime is the publisher's claim, judged against this
 * node's clock. In a trustless network nothing forces a committer to check it, so it protects
 * only the adder's own choices: we refuse to ADD with a key package outside its lifetime, but
 * never refuse a commit made by someone else because of one (ts-mls' `validateLifetimeOnReceive`
 * stays off), which would let clock differences split the group.
 *
 * @module
 */
import { KEY_PACKAGE_CLOCK_SKEW_SECONDS, MAX_KEY_PACKAGE_LIFETIME_RANGE_SECONDS } from "./constants.js";
import { ErrorCode, UsageError, ValidationError } from "./errors.js";

/** MLS `Lifetime`: seconds since the Unix epoch. @example `const l: KeyPackageLifetime = { notBefore: 0n, notAfter: 1n }` */
export interface KeyPackageLifetime {
  readonly notBefore: bigint;
  readonly notAfter: bigint;
}

/**
 * The lifetime of a key package created at `nowMs` that expires `lifetimeSeconds` later:
 * `notBefore` is {@link KEY_PACKAGE_CLOCK_SKEW_SECONDS} in the past. `INVALID_ARGUMENT` when the
 * whole span would exceed {@link MAX_KEY_PACKAGE_LIFETIME_RANGE_SECONDS} (OpenMLS peers would
 * refuse the package) or `lifetimeSeconds` is not a positive integer.
 *
 * @example
 * ```ts
 * newKeyPackageLifetime(Date.now(), DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS) // spans exactly 7,261,200 s
 * ```
 */
export function newKeyPackageLifetime(nowMs: number, lifetimeSeconds: number): KeyPackageLifetime {
  if (!Number.isSafeInteger(lifetimeSeconds) || lifetimeSeconds <= 0) throw new UsageError(ErrorCode.InvalidArgument, "lifetimeSeconds must be a positive integer");
  const longest = MAX_KEY_PACKAGE_LIFETIME_RANGE_SECONDS - KEY_PACKAGE_CLOCK_SKEW_SECONDS;
  if (lifetimeSeconds > longest) {
    throw new UsageError(ErrorCode.InvalidArgument, `lifetimeSeconds must be at most ${longest} (OpenMLS refuses key packages spanning more than ${MAX_KEY_PACKAGE_LIFETIME_RANGE_SECONDS} s)`);
  }
  const now = BigInt(Math.floor(nowMs / 1000));
  return { notBefore: now - BigInt(KEY_PACKAGE_CLOCK_SKEW_SECONDS), notAfter: now + BigInt(lifetimeSeconds) };
}

/**
 * The one lifetime rule: a key package may be used for adding at `nowMs` when
 * `notBefore <= now <= notAfter` in whole seconds (RFC 9420 section 7.3; exactly the check
 * ts-mls makes when it commits, so no package passes here to fail there). `KEY_PACKAGE_EXPIRED`
 * otherwise. See the module note for why receivers of a commit do not apply it.
 *
 * @example
 * ```ts
 * checkKeyPackageLifetime(keyPackageInfo(bytes), Date.now())
 * ```
 */
export function checkKeyPackageLifetime(lifetime: KeyPackageLifetime, nowMs: number = Date.now()): void {
  const now = BigInt(Math.floor(nowMs / 1000));
  if (now < lifetime.notBefore) throw new ValidationError(ErrorCode.KeyPackageExpired, "key package is not valid yet");
  if (now > lifetime.notAfter) throw new ValidationError(ErrorCode.KeyPackageExpired, "key package lifetime has ended");
}
