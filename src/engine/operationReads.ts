/**
 * Reading materialised operations from the store, without any key: `engine.read(operationId)`
 * and `engine.operations(groupId, { after, limit })`. A view is built from the operation's
 * record (which fields are decrypted, pending, failed), its stored document and the stored
 * values of the decrypted fields (read only for the fields the record names, so a view never
 * shows a value its record does not know of).
 *
 * @module
 */
import { toHex } from "../bytes.js";
import { DEFAULT_OPERATIONS_PAGE, MAX_OPERATIONS_PAGE } from "../constants.js";
import { decodeVerifiedDocument } from "../documents/document.js";
import { decodeFieldPlaintext } from "../documents/fields.js";
import type { FieldValue } from "../documents/schema.js";
import { ErrorCode, UsageError, errorFromData } from "../errors.js";
import type { SecretGroupError } from "../errors.js";
import type { EngineStore } from "./store/store.js";
import { Sublevel } from "./store/sublevels.js";
import { decodeOperationRecord, logKey, seqOfKey, valueKey } from "./store/operations.js";

/**
 * An operation as the engine materialised it.
 *
 * @example
 * ```ts
 * const op = await engine.read(operationId) // { fields: { body: "hi" }, pending: [], errors: {} , ... }
 * ```
 */
export interface OperationView {
  /** The id of this operation (its document). */
  readonly operationId: Uint8Array;
  /** The document it creates or updates: its own id for a create, else the updated one's. */
  readonly documentId: Uint8Array;
  /** The group its encrypted fields belong to; null when it has none. */
  readonly groupId: Uint8Array | null;
  readonly schema: string;
  readonly author: Uint8Array;
  /** Plain and decrypted values; pending and failed fields keep their ciphertext. */
  readonly fields: Record<string, FieldValue>;
  /** Fields still waiting for a commit or a Welcome. */
  readonly pending: string[];
  /** Fields that can never be read, each a typed error with its `code` (`NOT_MEMBER`: written after this node was removed; `UNKNOWN_EPOCH`: sender-ratchet from before it joined). */
  readonly errors: Record<string, SecretGroupError>;
}

/** A page of `engine.operations()`: pass `cursor` as `after` for the next one (null: nothing more now). @example `{ operations, cursor: "0000000000000100" }` */
export interface OperationsPage {
  readonly operations: OperationView[];
  /** Position of the last operation listed; null when the page is empty (ask again later with the same `after`). */
  readonly cursor: string | null;
}

/**
 * The view of one stored operation; null when unknown.
 *
 * @example
 * ```ts
 * const view = await readOperation(store, opIdHex)
 * ```
 */
export async function readOperation(store: EngineStore, opId: string): Promise<OperationView | null> {
  const recBytes = await store.get(Sublevel.Operations, opId, "operation record");
  if (recBytes === undefined) return null;
  const rec = decodeOperationRecord(recBytes);
  const docBytes = await store.get(Sublevel.Docs, opId, "document");
  if (docBytes === undefined) return null;
  const doc = decodeVerifiedDocument(docBytes);
  const fields: Record<string, FieldValue> = Object.create(null) as Record<string, FieldValue>;
  // plain Uint8Arrays, not views into the store's Buffers
  const bytes = (b: Uint8Array): Uint8Array => Uint8Array.from(b);
  for (const name of Object.keys(doc.fields)) {
    const value = doc.fields[name] as FieldValue;
    fields[name] = value instanceof Uint8Array ? bytes(value) : value;
  }
  const errors: Record<string, SecretGroupError> = Object.create(null) as Record<string, SecretGroupError>;
  for (const name of rec.decrypted) {
    const plaintext = await store.get(Sublevel.OperationValues, valueKey(opId, name), "operation value");
    if (plaintext === undefined) errors[name] = errorFromData({ code: ErrorCode.Storage, message: `stored value of ${name} is missing` });
    else {
      const value = decodeFieldPlaintext(plaintext);
      fields[name] = value instanceof Uint8Array ? bytes(value) : value;
    }
  }
  for (const e of rec.errors) errors[e.field] = errorFromData(e);
  return {
    operationId: bytes(doc.id),
    documentId: bytes(doc.documentId ?? doc.id),
    groupId: rec.groupId === undefined ? null : bytes(rec.groupId),
    schema: doc.schema,
    author: bytes(doc.author),
    fields,
    pending: [...rec.pending],
    errors,
  };
}

/** Checks `operations()`'s options. */
function pageArgs(options: { after?: string | null; limit?: number } | undefined): { after: bigint | undefined; limit: number } {
  const after = options?.after ?? undefined;
  const limit = options?.limit ?? DEFAULT_OPERATIONS_PAGE;
  if (after !== undefined && (typeof after !== "string" || !/^[0-9]{1,16}$/.test(after))) throw new UsageError(ErrorCode.InvalidArgument, "after must be a cursor from operations()");
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_OPERATIONS_PAGE) throw new UsageError(ErrorCode.InvalidArgument, `limit must be an integer from 1 to ${MAX_OPERATIONS_PAGE}`);
  return { after: after === undefined ? undefined : BigInt(after), limit };
}

/**
 * A group's operations in arrival order after `after`, at most `limit`.
 *
 * @example
 * ```ts
 * const { operations, cursor } = await listOperations(store, gidHex, { after: previous.cursor })
 * ```
 */
export async function listOperations(store: EngineStore, groupId: string, options?: { after?: string | null; limit?: number }): Promise<OperationsPage> {
  const { after, limit } = pageArgs(options);
  const rows = await store.scanAfter(Sublevel.OperationLog, `${groupId}/`, after === undefined ? undefined : logKey(groupId, after), "operation log", limit);
  const operations: OperationView[] = [];
  for (const [, opId] of rows) {
    // an operation dropped while pending leaves an empty tombstone (arrival numbers are never reused)
    if (opId.length === 0) continue;
    const view = await readOperation(store, toHex(opId));
    if (view !== null) operations.push(view);
  }
  const last = rows.at(-1);
  return { operations, cursor: last === undefined ? null : seqOfKey(last[0]).toString().padStart(16, "0") };
}
