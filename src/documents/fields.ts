/**
 * Encrypted operation fields (issue 5): each chosen field value becomes an encoded
 * SecretGroupMessage whose AEAD associated data binds it to what is fixed before the operation is
 * signed: the author, the schema, the field name and, for an operation that updates a document,
 * that document's id. A create operation's own id is the hash of the operation (ciphertexts
 * included), so it cannot be bound; a create's ciphertext can therefore be copied into another
 * create of the same author and schema, and nothing else.
 *
 * Associated data (RFC 9420 presentation language, QUIC varint lengths; every part is
 * length-prefixed, so no two contexts share an encoding):
 * ```
 * struct { opaque label<V> = "p2panda-secret-group/field-aad/v1"; opaque author<V>;
 *          opaque schema<V>; opaque field<V>; optional<opaque document_id<V>>; } FieldAad;
 * ```
 * Plaintext of a field value: `u8 tag` then the value: `0` raw bytes (a `Uint8Array` value),
 * `1` canonical CBOR of a string, number, boolean or null. The tag is inside the ciphertext.
 *
 * @module
 */
import { utf8 } from "../bytes.js";
import { ID_SIZE, MAX_PLAINTEXT_SIZE, PUBLIC_KEY_SIZE } from "../constants.js";
import type { SchemeName } from "../constants.js";
import { Writer } from "../codec/tls.js";
import { DecodeError, ErrorCode, UsageError, isSecretGroupError } from "../errors.js";
import { decodeSecretGroupMessage, peekMlsPrivateMessage } from "../message.js";
import { decodeCanonical, encodeCanonical } from "./cbor.js";
import type { SignedDocument } from "./document.js";
import { FIELD_NAME_PATTERN, SCHEMA_NAME_PATTERN, fieldValueProblem, isSystemSchema } from "./schema.js";
import type { FieldValue } from "./schema.js";

/** Label opening every field AAD (its version is part of it). @example `FIELD_AAD_LABEL` */
export const FIELD_AAD_LABEL = "p2panda-secret-group/field-aad/v1";
const LABEL = utf8(FIELD_AAD_LABEL);
const TAG_BYTES = 0;
const TAG_CBOR = 1;

/** What an operation's ciphertexts are bound to. @example `{ author: me, schema: "chat_v1", documentId: create.id }` */
export interface FieldContext {
  readonly author: Uint8Array;
  readonly schema: string;
  /** Update operations only: the id of the document they update. */
  readonly documentId?: Uint8Array;
}

/** Encrypts one plaintext under an AAD into an encoded SecretGroupMessage (the engine supplies it). @example `(p, aad) => engineEncrypt(gid, p, { scheme, aad })` */
export type EncryptOne = (plaintext: Uint8Array, aad: Uint8Array) => Promise<Uint8Array>;
/** Decrypts an encoded SecretGroupMessage under an AAD (the engine supplies it). @example `(m, aad) => engineDecrypt(m, { aad })` */
export type DecryptOne = (message: Uint8Array, aad: Uint8Array) => Promise<Uint8Array>;

function checkContext(context: FieldContext): void {
  const bad = (what: string): never => {
    throw new UsageError(ErrorCode.InvalidArgument, `field context: ${what}`);
  };
  if (!(context.author instanceof Uint8Array) || context.author.length !== PUBLIC_KEY_SIZE) bad(`author must be ${PUBLIC_KEY_SIZE} bytes`);
  if (typeof context.schema !== "string" || !SCHEMA_NAME_PATTERN.test(context.schema)) bad("invalid schema name");
  if (isSystemSchema(context.schema)) bad(`${context.schema} fields are never encrypted`);
  if (context.documentId !== undefined && (!(context.documentId instanceof Uint8Array) || context.documentId.length !== ID_SIZE)) {
    bad(`documentId must be ${ID_SIZE} bytes`);
  }
}

function checkFieldName(field: string): void {
  if (typeof field !== "string" || !FIELD_NAME_PATTERN.test(field)) throw new UsageError(ErrorCode.InvalidArgument, "invalid field name");
}

/**
 * The associated data binding one field's ciphertext (see the module comment for the layout).
 * `UsageError(INVALID_ARGUMENT)` for a malformed context or a system schema.
 *
 * @example
 * ```ts
 * const aad = fieldAad({ author: me, schema: "chat_v1", field: "body", documentId: create.id })
 * ```
 */
export function fieldAad(input: FieldContext & { readonly field: string }): Uint8Array {
  checkContext(input);
  checkFieldName(input.field);
  return new Writer(128)
    .opaque(LABEL)
    .opaque(input.author)
    .opaque(utf8(input.schema))
    .opaque(utf8(input.field))
    .optional(input.documentId, (w, id) => w.opaque(id))
    .finish();
}

/**
 * What a reader binds a document's ciphertexts to: its author, schema and, for an update, the
 * document it updates.
 *
 * @example
 * ```ts
 * const plain = await decryptFields(fieldContextOf(doc), doc.fields, decryptOne)
 * ```
 */
export function fieldContextOf(doc: SignedDocument): FieldContext {
  return doc.documentId === undefined ? { author: doc.author, schema: doc.schema } : { author: doc.author, schema: doc.schema, documentId: doc.documentId };
}

/**
 * Deterministic plaintext of a field value: tag 0 and the bytes, or tag 1 and canonical CBOR.
 *
 * @example
 * ```ts
 * encodeFieldPlaintext("hi") // [1, 0x62, 0x68, 0x69]
 * ```
 */
export function encodeFieldPlaintext(value: FieldValue): Uint8Array {
  const problem = fieldValueProblem(value);
  if (problem !== undefined) throw new UsageError(ErrorCode.InvalidArgument, `field value: ${problem}`);
  const body = value instanceof Uint8Array ? value : encodeCanonical(value);
  if (body.length + 1 > MAX_PLAINTEXT_SIZE) throw new UsageError(ErrorCode.InvalidArgument, "field value too large");
  const out = new Uint8Array(body.length + 1);
  out[0] = value instanceof Uint8Array ? TAG_BYTES : TAG_CBOR;
  out.set(body, 1);
  return out;
}

/**
 * Decodes a field plaintext back to its value; throws only `DecodeError` (empty, unknown tag,
 * non-canonical CBOR, or a CBOR value that is not a string, number, boolean or null).
 *
 * @example
 * ```ts
 * decodeFieldPlaintext(encodeFieldPlaintext(42)) // 42
 * ```
 */
export function decodeFieldPlaintext(bytes: Uint8Array): FieldValue {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new DecodeError("field plaintext is empty");
  const body = bytes.subarray(1);
  if (bytes[0] === TAG_BYTES) return body.slice();
  if (bytes[0] !== TAG_CBOR) throw new DecodeError(`field plaintext: unknown tag ${bytes[0]}`);
  const value = decodeCanonical(body);
  // Bytes have their own tag: one encoding per value.
  if (value instanceof Uint8Array || fieldValueProblem(value) !== undefined) throw new DecodeError("field plaintext: CBOR value is not a scalar field value");
  return value as FieldValue;
}

/**
 * A copy of `fields` (without a prototype, so no name is inherited) after checking `names`:
 * each a valid field name, named once, and acceptable to `problem` (its message, or undefined).
 * `UsageError(INVALID_ARGUMENT)` otherwise. The one argument check of encrypt and decrypt.
 */
function chosenFields(fields: Readonly<Record<string, FieldValue>>, names: readonly string[], problem: (name: string) => string | undefined): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = Object.create(null) as Record<string, FieldValue>;
  for (const name of Object.keys(fields)) out[name] = fields[name] as FieldValue;
  const seen = new Set<string>();
  for (const name of names) {
    checkFieldName(name);
    if (seen.has(name)) throw new UsageError(ErrorCode.InvalidArgument, `field ${name} named twice`);
    seen.add(name);
    const message = problem(name);
    if (message !== undefined) throw new UsageError(ErrorCode.InvalidArgument, message);
  }
  return out;
}

/**
 * Encrypts the fields `names` of an operation (others are copied unchanged), one after the other
 * in the order given (encryption advances nonce counters and ratchets). Each value becomes the
 * encoded SecretGroupMessage `encryptOne(encodeFieldPlaintext(value), fieldAad(...))` returns.
 * `UsageError(INVALID_ARGUMENT)` for an unknown, duplicate or invalid field.
 *
 * @example
 * ```ts
 * const fields = await encryptFields({ author: me, schema: "chat_v1" }, { body: "hi", room: 3 }, ["body"], (p, aad) => seal(p, aad))
 * signDocument(identity, "chat_v1", fields)
 * ```
 */
export async function encryptFields(
  context: FieldContext,
  fields: Readonly<Record<string, FieldValue>>,
  names: readonly string[],
  encryptOne: EncryptOne,
): Promise<Record<string, FieldValue>> {
  checkContext(context);
  const out = chosenFields(fields, names, (name) => (Object.prototype.hasOwnProperty.call(fields, name) ? undefined : `no field ${name}`));
  for (const name of names) {
    out[name] = await encryptOne(encodeFieldPlaintext(fields[name] as FieldValue), fieldAad({ ...context, field: name }));
  }
  return out;
}

/** An encrypted field found in a document. @example `{ name: "body", groupId, scheme: "long-term", epoch: 0n }` */
export interface EncryptedField {
  readonly name: string;
  /** The secret group (its SecretGroup document id) the ciphertext belongs to. */
  readonly groupId: Uint8Array;
  readonly scheme: SchemeName;
  /** Long-term epoch for `"long-term"`, MLS epoch for `"sender-ratchet"`. */
  readonly epoch: bigint;
}

/**
 * The fields whose values are encoded SecretGroupMessages, with the group and epoch each needs
 * (spec client flow steps 3 and 4), in field-name order. No keys needed.
 *
 * @example
 * ```ts
 * const [first] = encryptedFields(doc.fields); await engine.welcomeFor(me, first.groupId)
 * ```
 */
export function encryptedFields(fields: Readonly<Record<string, FieldValue>>): EncryptedField[] {
  const out: EncryptedField[] = [];
  for (const name of Object.keys(fields).sort()) {
    const value = fields[name];
    if (!(value instanceof Uint8Array)) continue;
    try {
      const message = decodeSecretGroupMessage(value);
      if (message.type === "long-term") {
        out.push({ name, groupId: message.ciphertext.groupId, scheme: "long-term", epoch: message.ciphertext.epoch });
      } else {
        const header = peekMlsPrivateMessage(message.mlsMessage);
        out.push({ name, groupId: header.groupId, scheme: "sender-ratchet", epoch: header.epoch });
      }
    } catch (e) {
      if (!isSecretGroupError(e)) throw e;
    }
  }
  return out;
}

/**
 * Decrypts the encrypted fields of an operation (`names`, or by default every field
 * {@link encryptedFields} finds), one after the other in that order, and decodes each back to
 * its original type; other fields are copied. Errors of `decryptOne` pass through (a ciphertext
 * moved to another field, schema, author or document fails there with `DECRYPTION_FAILED`);
 * a plaintext that does not decode is `DECODE_ERROR`.
 *
 * @example
 * ```ts
 * const plain = await decryptFields(fieldContextOf(doc), doc.fields, (m, aad) => open(m, aad))
 * ```
 */
export async function decryptFields(
  context: FieldContext,
  fields: Readonly<Record<string, FieldValue>>,
  decryptOne: DecryptOne,
  names?: readonly string[],
): Promise<Record<string, FieldValue>> {
  checkContext(context);
  const chosen = names ?? encryptedFields(fields).map((f) => f.name);
  const out = chosenFields(fields, chosen, (name) =>
    Object.prototype.hasOwnProperty.call(fields, name) && fields[name] instanceof Uint8Array ? undefined : `field ${name} is not an encrypted value`,
  );
  for (const name of chosen) {
    out[name] = decodeFieldPlaintext(await decryptOne(fields[name] as Uint8Array, fieldAad({ ...context, field: name })));
  }
  return out;
}
