/**
 * The engine's public surface checks its arguments here, once: what passes is typed and
 * normalised (ids as lowercase hex, keys as 32-byte arrays), and nothing behind the surface
 * (actors, steps, workers) checks it again. Every failure is `UsageError(INVALID_ARGUMENT)`.
 *
 * @module
 */
import { toHex, toId32 } from "../bytes.js";
import { DEFAULT_ENGINE_LIMITS } from "../constants.js";
import type { EngineLimits, LongTermCiphersuiteName, SchemeName } from "../constants.js";
import { ErrorCode, UsageError } from "../errors.js";
import { isLongTermCiphersuiteName } from "../lts/ciphersuite.js";
import type { EncryptJob } from "./jobs.js";
import type { BulkDecrypt } from "./poolDecrypt.js";

const invalid = (message: string): UsageError => new UsageError(ErrorCode.InvalidArgument, message);

/** A group id argument (bytes or hex) as the lowercase hex that keys actors and records. @example `groupIdArg(groupId)` */
export const groupIdArg = (groupId: Uint8Array | string): string => toHex(toId32(groupId, "groupId"));

/** A public key argument (bytes or hex) as 32 bytes. @example `publicKeyArg(key)` */
export const publicKeyArg = (publicKey: Uint8Array | string): Uint8Array => toId32(publicKey, "publicKey");

/** A non-empty list of public keys. @example `publicKeysArg([bob.publicKey])` */
export function publicKeysArg(publicKeys: readonly (Uint8Array | string)[]): Uint8Array[] {
  if (!Array.isArray(publicKeys) || publicKeys.length === 0) throw invalid("publicKeys must be a non-empty array");
  return publicKeys.map((k) => toId32(k, "public key"));
}

/** The ciphersuite option of `createGroup`. @example `ciphersuiteArg({ ciphersuite: "PANDA10_AES256GCM" })` */
export function ciphersuiteArg(options: { ciphersuite: LongTermCiphersuiteName } | undefined): LongTermCiphersuiteName {
  if (!isLongTermCiphersuiteName(options?.ciphersuite)) throw invalid(`unknown ciphersuite ${String(options?.ciphersuite)}`);
  return options.ciphersuite;
}

/** The arguments of `encrypt` as the job that runs them. @example `encryptArgs(bytes, { scheme: "long-term" })` */
export function encryptArgs(plaintext: Uint8Array, options: { scheme: SchemeName; aad?: Uint8Array } | undefined): EncryptJob {
  if (!(plaintext instanceof Uint8Array)) throw invalid("plaintext must be a Uint8Array");
  if (options?.scheme !== "long-term" && options?.scheme !== "sender-ratchet") throw invalid("scheme must be long-term or sender-ratchet");
  if (options.aad !== undefined && !(options.aad instanceof Uint8Array)) throw invalid("aad must be a Uint8Array");
  return { plaintexts: [plaintext], scheme: options.scheme, ...(options.aad === undefined ? {} : { aad: options.aad }) };
}

/** A list of byte strings (documents): `what` names it in the error. @example `bytesListArg(docs, "documents")` */
export function bytesListArg(list: readonly Uint8Array[], what: string, nonEmpty = false): readonly Uint8Array[] {
  if (!Array.isArray(list) || (nonEmpty && list.length === 0)) throw invalid(`${what} must be a ${nonEmpty ? "non-empty " : ""}array`);
  list.forEach((d, i) => {
    if (!(d instanceof Uint8Array)) throw invalid(`${what} ${i} must be a Uint8Array`);
  });
  return list;
}

/** Document ids (bytes or hex, 32 bytes each) as lowercase hex. @example `documentIdsArg([doc.id])` */
export function documentIdsArg(documentIds: readonly (Uint8Array | string)[]): string[] {
  if (!Array.isArray(documentIds)) throw invalid("documentIds must be an array");
  return documentIds.map((id) => toHex(toId32(id, "document id")));
}

/** The `path` option of `open`. @example `pathArg({ path: "./data" })` */
export function pathArg(options: { path: string } | undefined): string {
  if (typeof options?.path !== "string" || options.path.length === 0) throw invalid("path is required");
  return options.path;
}

/** A 32-byte id argument (bytes or hex) as lowercase hex. @example `idArg(operationId, "operationId")` */
export const idArg = (id: Uint8Array | string, what: string): string => toHex(toId32(id, what));

/** The `limits` option of `open`: known names, positive safe integers, over the defaults. @example `limitsArg({ pendingCommitsTotal: 10 })` */
export function limitsArg(limits: Partial<EngineLimits> | undefined): EngineLimits {
  if (limits === undefined) return DEFAULT_ENGINE_LIMITS;
  if (typeof limits !== "object" || limits === null) throw invalid("limits must be an object");
  for (const [name, value] of Object.entries(limits)) {
    if (!Object.prototype.hasOwnProperty.call(DEFAULT_ENGINE_LIMITS, name)) throw invalid(`unknown limit ${name}`);
    if (!Number.isSafeInteger(value) || (value as number) < 1) throw invalid(`limit ${name} must be a positive integer`);
  }
  return { ...DEFAULT_ENGINE_LIMITS, ...limits };
}

/** The `bulkDecrypt` option (default `"auto"`). @example `bulkDecryptArg(options.bulkDecrypt) // "auto"` */
export function bulkDecryptArg(mode: unknown): BulkDecrypt {
  if (mode === undefined || mode === "auto" || mode === "pool") return mode ?? "auto";
  throw new UsageError(ErrorCode.InvalidArgument, `bulkDecrypt must be "auto" or "pool", got ${String(mode)}`);
}
