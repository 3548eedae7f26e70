/**
 * The payload rules of a signed document (./document.ts): which values a payload may hold, and
 * the frozen form its fields take in a `SignedDocument`.
 *
 * @module
 */
import { ID_SIZE } from "../constants.js";
import { isAcceptablePublicKey } from "./ed25519.js";
import { SCHEMA_NAME_PATTERN, fieldsProblem, isSystemSchema } from "./schema.js";
import type { DocumentFields, FieldValue } from "./schema.js";

/**
 * Why a document's payload values are not acceptable, or undefined when they are: the rules
 * `signDocument` and every decoder apply alike (schema name, author key, timestamp, the
 * `document_id` of an update, the fields against their schema).
 *
 * @example
 * ```ts
 * payloadProblem("chat_v1", author, 1, { body: "hi" }, undefined) // undefined
 * ```
 */
export function payloadProblem(schema: unknown, author: unknown, timestamp: unknown, fields: unknown, documentId: unknown): string | undefined {
  if (typeof schema !== "string" || !SCHEMA_NAME_PATTERN.test(schema)) return "invalid schema name";
  if (!(author instanceof Uint8Array) || author.length !== 32) return "author must be a 32-byte public key";
  if (!isAcceptablePublicKey(author)) return "author is not an acceptable Ed25519 public key";
  if (typeof timestamp !== "number" || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    return "timestamp must be a non-negative safe integer";
  }
  if (documentId !== undefined) {
    if (!(documentId instanceof Uint8Array) || documentId.length !== ID_SIZE) return `document_id must be ${ID_SIZE} bytes`;
    if (isSystemSchema(schema)) return `${schema} documents cannot be updates`;
  }
  if (typeof fields !== "object" || fields === null || Array.isArray(fields) || fields instanceof Uint8Array) {
    return "fields must be a map";
  }
  return fieldsProblem(schema, fields as Record<string, unknown>);
}

/**
 * The fields as a frozen, null-prototype map; `copyBytes` copies byte values (a signer's, which
 * the caller could change afterwards).
 *
 * @example
 * ```ts
 * const fields = freezeFields({ body: bytes }, true)
 * ```
 */
export function freezeFields(fields: Readonly<Record<string, unknown>>, copyBytes: boolean): DocumentFields {
  // Null prototype: a field named "constructor" or "tostring" can never resolve to an inherited value.
  const out: Record<string, FieldValue> = Object.create(null) as Record<string, FieldValue>;
  for (const name of Object.keys(fields)) {
    const value = fields[name] as FieldValue;
    // Copy the caller's byte arrays so a later change of theirs cannot make fields disagree with bytes.
    out[name] = copyBytes && value instanceof Uint8Array ? new Uint8Array(value) : value;
  }
  return Object.freeze(out);
}
