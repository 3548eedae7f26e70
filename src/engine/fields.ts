/**
 * Encrypted operation fields for the engine (issue 5): an operation's chosen fields become
 * SecretGroupMessages bound through the AEAD associated data to the author, schema, field name
 * and, for updates, the document updated (src/documents/fields.ts); reading turns them back,
 * decrypting all of a document's fields in one batch.
 *
 * @module
 */
import type { SchemeName } from "../constants.js";
import { decodeDocument } from "../documents/document.js";
import type { SignedDocument } from "../documents/document.js";
import { decodeFieldPlaintext, encryptFields, encryptedFields, fieldAad, fieldContextOf } from "../documents/fields.js";
import type { FieldValue } from "../documents/schema.js";
import { ErrorCode, InternalError, UsageError, isSecretGroupError } from "../errors.js";
import type { DecryptInput } from "./decrypt.js";

/** Options of `engine.encryptFields`. @example `{ scheme: "long-term", schema: "chat_message_v1" }` */
export interface EncryptFieldsOptions {
  readonly scheme: SchemeName;
  /** Schema of the operation the fields will be signed in. */
  readonly schema: string;
  /** Fields to encrypt (default: all of them). */
  readonly names?: readonly string[];
  /** For an update operation: the id of the document it updates (a create cannot bind its own id). */
  readonly documentId?: Uint8Array;
}

/** What `engine.decryptFields` returns: readable fields decrypted, the rest with their error. @example `const { fields, errors } = await engine.decryptFields(doc)` */
export interface DecryptedFields {
  /** Every field; encrypted ones that could be read are replaced by their plaintext value. */
  readonly fields: Record<string, FieldValue>;
  /** Encrypted fields that could not be read (yet), by name, each an Error with a `code`. */
  readonly errors: Record<string, Error>;
}

/** Encrypts one value for the group (the engine's `encrypt`). */
export type EncryptValue = (plaintext: Uint8Array, options: { scheme: SchemeName; aad: Uint8Array }) => Promise<Uint8Array>;
/** Decrypts a batch (the engine's `decrypt`): a plaintext or an Error per message. */
export type DecryptBatch = (messages: readonly DecryptInput[]) => Promise<Array<Uint8Array | Error>>;

/**
 * Encrypts an operation's fields for a group, bound to this node as author.
 *
 * @example
 * ```ts
 * const fields = await sealFields(me, encryptValue, { body: "hi" }, { scheme: "long-term", schema: "chat_v1" })
 * ```
 */
export async function sealFields(
  author: Uint8Array,
  encryptValue: EncryptValue,
  fields: Readonly<Record<string, FieldValue>>,
  options: EncryptFieldsOptions,
): Promise<Record<string, FieldValue>> {
  if (typeof fields !== "object" || fields === null) throw new UsageError(ErrorCode.InvalidArgument, "fields must be an object");
  const context = { author, schema: options?.schema, ...(options?.documentId === undefined ? {} : { documentId: options.documentId }) };
  const names = options.names ?? Object.keys(fields);
  return encryptFields(context, fields, names, (plaintext, aad) => encryptValue(plaintext, { scheme: options.scheme, aad }));
}

/**
 * Decrypts every encrypted field of a document (bytes are decoded and verified first) in one
 * batch; fields that cannot be read keep their ciphertext and get an entry in `errors`.
 *
 * @example
 * ```ts
 * const { fields, errors } = await openFields(decryptBatch, documentBytes)
 * ```
 */
export async function openFields(decryptBatch: DecryptBatch, document: Uint8Array | SignedDocument): Promise<DecryptedFields> {
  const doc = document instanceof Uint8Array ? decodeDocument(document) : document;
  const context = fieldContextOf(doc);
  const found = encryptedFields(doc.fields);
  const results = await decryptBatch(
    found.map((f) => ({ message: doc.fields[f.name] as Uint8Array, aad: fieldAad({ ...context, field: f.name }) })),
  );
  const fields: Record<string, FieldValue> = Object.assign(Object.create(null) as Record<string, FieldValue>, doc.fields);
  const errors: Record<string, Error> = Object.create(null) as Record<string, Error>;
  found.forEach((f, i) => {
    const result = results[i];
    if (!(result instanceof Uint8Array)) {
      errors[f.name] = result ?? new InternalError(ErrorCode.Internal, "no result");
      return;
    }
    try {
      fields[f.name] = decodeFieldPlaintext(result);
    } catch (e) {
      if (!isSecretGroupError(e)) throw e;
      errors[f.name] = e;
    }
  });
  return { fields, errors };
}
