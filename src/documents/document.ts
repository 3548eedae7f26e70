/**
 * Signed documents (DESIGN.md section 3): a canonical CBOR envelope signed by its author with
 * Ed25519, whose id is the BLAKE3-256 hash of the whole envelope.
 *
 * Wire layout (every map in canonical CBOR, see ./cbor.ts; keys sorted bytewise):
 * ```
 * envelope  = { "payload": bstr, "signature": bstr .size 64 }
 * payload   = {                       ; the signed bytes, themselves canonical CBOR
 *   "v": 1,                           ; format version, uint
 *   "author": bstr .size 32,          ; Ed25519 public key
 *   "fields": { * tstr => value },    ; at most 64, names /^[a-z][a-z0-9_]{0,63}$/
 *   "schema": tstr,                   ; /^[a-z][a-z0-9_]{0,63}$/
 *   "timestamp": uint,                ; ms since the Unix epoch, <= 2^53 - 1
 *   ? "document_id": bstr .size 32,   ; only in application operations that update a document:
 * }                                   ;   the id of the document (its create operation) they update
 * value     = bstr / tstr / int / float64 / bool / null   ; safe integers, finite floats, no -0
 * signature = Ed25519(author, "p2panda-secret-group/document/v1" || 0x00 || payload)
 * id        = BLAKE3-256(envelope)
 * ```
 * The signature context string separates document signatures from MLS signatures, which the same
 * key makes (the MLS signature key is the p2panda key). The whole envelope is at most `MAX_DOCUMENT_SIZE` (16 MiB).
 *
 * @module
 */
import { blake3 } from "./blake3.js";
import { concatBytes, utf8 } from "../bytes.js";
import { ID_SIZE, SYNC_VERIFY_MAX_BYTES } from "../constants.js";
import { DecodeError, ErrorCode, UsageError, ValidationError } from "../errors.js";
import { decodeCanonical, encodeCanonical } from "./cbor.js";
import { signEd25519, verifyEd25519, verifyEd25519Async } from "./ed25519.js";
import type { DocumentIdentity } from "./ed25519.js";
import { freezeFields, payloadProblem } from "./payload.js";
import { MAX_DOCUMENT_SIZE } from "./schema.js";
import type { DocumentFields, FieldValue, SchemaId } from "./schema.js";

/** Format version in the signed payload. @example `DOCUMENT_VERSION // 1` */
export const DOCUMENT_VERSION = 1;
/** Domain-separation prefix of every document signature (followed by one zero byte). @example `DOCUMENT_SIGNATURE_CONTEXT` */
export const DOCUMENT_SIGNATURE_CONTEXT = "p2panda-secret-group/document/v1";

const SIGNATURE_PREFIX = concatBytes(utf8(DOCUMENT_SIGNATURE_CONTEXT), new Uint8Array([0]));
const ENVELOPE_KEYS = ["payload", "signature"] as const;
const PAYLOAD_KEYS: ReadonlySet<string> = new Set(["v", "author", "fields", "schema", "timestamp", "document_id"]);

/**
 * A verified document. Only {@link signDocument} and {@link decodeDocument} make them, so holding
 * one means its encoding, signature and schema fields were checked.
 *
 * @example
 * ```ts
 * const doc = decodeDocument(bytes); console.log(toHex(doc.id), doc.schema, doc.fields)
 * ```
 */
export interface SignedDocument {
  /** BLAKE3-256 of {@link SignedDocument.bytes}. */
  readonly id: Uint8Array;
  readonly schema: SchemaId;
  /** Ed25519 public key of the author, 32 bytes. */
  readonly author: Uint8Array;
  /** Milliseconds since the Unix epoch, as the author claims. */
  readonly timestamp: number;
  readonly fields: DocumentFields;
  /** Update operations only: id of the document this operation updates. */
  readonly documentId?: Uint8Array;
  /** The full signed encoding: what travels and what {@link SignedDocument.id} hashes. */
  readonly bytes: Uint8Array;
}

/** Options of {@link signDocument}. @example `signDocument(identity, "chat_v1", fields, { timestamp: 1, documentId: create.id })` */
export interface SignOptions {
  /** Milliseconds since the Unix epoch; default `Date.now()`. */
  readonly timestamp?: number;
  /** Makes the document an update of the document with this id (application schemas only). */
  readonly documentId?: Uint8Array;
}

/** A document decoded and checked but for its id, which is not hashed (see {@link decodeDocumentDeferredUnhashed}). */
export type UnhashedDocument = Omit<SignedDocument, "id">;

function makeDocument(bytes: Uint8Array, schema: string, author: Uint8Array, timestamp: number, fields: DocumentFields, documentId: Uint8Array | undefined, id?: Uint8Array | null): SignedDocument {
  // id null: not hashed (decodeDocumentDeferredUnhashed: its type has no id)
  const doc = id === null ? { schema, author, timestamp, fields, bytes } : { id: id ?? blake3(bytes), schema, author, timestamp, fields, bytes };
  return Object.freeze(documentId === undefined ? doc : { ...doc, documentId }) as SignedDocument;
}

/**
 * Signs a document. Throws `UsageError(INVALID_ARGUMENT)` when the schema, fields or identity are
 * not acceptable (the same rules {@link decodeDocument} applies), so no invalid document is made.
 *
 * @example
 * ```ts
 * const doc = signDocument(identity, "chat_v1", { body: ciphertext }, { timestamp: 1 })
 * decodeDocument(doc.bytes).id // equals doc.id
 * ```
 */
export function signDocument(identity: DocumentIdentity, schema: SchemaId, fields: Readonly<Record<string, FieldValue>>, options: SignOptions = {}): SignedDocument {
  const timestamp = options.timestamp ?? Date.now();
  const problem = payloadProblem(schema, identity.publicKey, timestamp, fields, options.documentId);
  if (problem !== undefined) throw new UsageError(ErrorCode.InvalidArgument, `cannot sign document: ${problem}`);
  const frozen = freezeFields(fields, true);
  const payloadValue: Record<string, unknown> = { v: DOCUMENT_VERSION, author: identity.publicKey, fields: { ...frozen }, schema, timestamp };
  if (options.documentId !== undefined) payloadValue["document_id"] = options.documentId;
  const payload = encodeCanonical(payloadValue);
  const signature = signEd25519(identity, concatBytes(SIGNATURE_PREFIX, payload));
  const bytes = encodeCanonical({ payload, signature });
  if (bytes.length > MAX_DOCUMENT_SIZE) {
    throw new UsageError(ErrorCode.InvalidArgument, `document is larger than ${MAX_DOCUMENT_SIZE} bytes`);
  }
  return makeDocument(bytes, schema, new Uint8Array(identity.publicKey), timestamp, frozen, options.documentId === undefined ? undefined : new Uint8Array(options.documentId));
}

function asMap(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new DecodeError(`${what} is not a CBOR map`);
  }
  return value as Record<string, unknown>;
}

/**
 * Decodes and verifies a document: size bound, strict canonical CBOR, envelope and payload
 * shape, author key, Ed25519 signature, then schema field rules. Throws only `DecodeError`
 * (malformed bytes) or `ValidationError` with `INVALID_SIGNATURE` or `INVALID_DOCUMENT`.
 *
 * @example
 * ```ts
 * try { const doc = decodeDocument(bytes) } catch (e) { if (e instanceof ValidationError) refuse(e.code) }
 * ```
 */
export function decodeDocument(bytes: Uint8Array): SignedDocument {
  return decode(bytes, true);
}

/**
 * Decodes a document this node verified with {@link decodeDocument} before it stored the
 * bytes (a store is ours to trust, a network is not): the same checks but the signature, whose
 * Ed25519 verification is most of the cost. Never use it on bytes from anywhere else. `id`:
 * the id the bytes are stored under, which this node computed when it verified them (given,
 * a large document, such as the commit that welcomes a member to a large group, is not hashed again).
 *
 * @example
 * ```ts
 * const doc = decodeVerifiedDocument(await store.get(Sublevel.Docs, id, "document"), fromHex(id))
 * ```
 */
export function decodeVerifiedDocument(bytes: Uint8Array, id?: Uint8Array): SignedDocument {
  if (id !== undefined && id.length !== ID_SIZE) throw new UsageError(ErrorCode.InvalidArgument, `a document id is ${ID_SIZE} bytes`);
  return decode(bytes, false, id === undefined ? undefined : Uint8Array.from(id));
}

/**
 * {@link decodeDocument} with the Ed25519 signature verified on libuv's thread pool: many
 * documents checked at once (an owner adding 999 members) use every core and leave this thread
 * free. The same checks, errors and order of errors as {@link decodeDocument}: a forged document
 * whose fields also break the rules is reported as forged.
 *
 * @example
 * ```ts
 * const docs = await Promise.all(batch.map(decodeDocumentAsync))
 * ```
 */
export async function decodeDocumentAsync(bytes: Uint8Array): Promise<SignedDocument> {
  const { doc, verified } = decodeDocumentDeferred(bytes);
  await verified;
  return doc;
}

/**
 * {@link decodeDocument} with the Ed25519 signature verification started on libuv's thread pool
 * (a payload of at most `SYNC_VERIFY_MAX_BYTES`: checked here, once the gate `after` settles)
 * instead of done at once: the document comes back at once, with `verified`, which rejects with
 * `ValidationError(INVALID_SIGNATURE)` for a forged one. Nothing may act on `doc` before
 * `verified` resolves (the engine's ingest hands both to the group's actor, which awaits it
 * first: the job keeps its place in the queue, and this thread does not wait for the check).
 * Throws what {@link decodeDocument} throws for malformed bytes; a document whose fields break
 * the rules is checked here, at once, so it is still reported as forged when it is.
 * `after`: the check is handed to the thread pool only once it settles (its dispatch, ~0.15-0.35
 * ms of this thread for an 83 KB commit document, then comes after work the caller starts first).
 *
 * @example
 * ```ts
 * const { doc, verified } = decodeDocumentDeferred(bytes)
 * await verified // before using doc
 * ```
 */
export function decodeDocumentDeferred(bytes: Uint8Array, after?: Promise<void>): { readonly doc: SignedDocument; readonly verified: Promise<void> } {
  return deferred(bytes, after, undefined);
}

/**
 * {@link decodeDocumentDeferred} without the document's id: its BLAKE3 hash (~17 us of this
 * thread per key package document, 999 in an owner's add) is not computed, for a reader that
 * never uses the id. The id identifies, it checks nothing: the signature and every rule are
 * checked as in {@link decodeDocumentDeferred}.
 *
 * @example
 * ```ts
 * const { doc, verified } = decodeDocumentDeferredUnhashed(bytes) // doc.author, doc.fields; no doc.id
 * ```
 */
export function decodeDocumentDeferredUnhashed(bytes: Uint8Array, after?: Promise<void>): { readonly doc: UnhashedDocument; readonly verified: Promise<void> } {
  return deferred(bytes, after, null);
}

function deferred(bytes: Uint8Array, after: Promise<void> | undefined, id: null | undefined): { readonly doc: SignedDocument; readonly verified: Promise<void> } {
  let signed: SignedParts | undefined;
  let doc: SignedDocument;
  try {
    doc = decode(bytes, (parts) => (signed = parts), id);
  } catch (e) {
    if (signed === undefined) throw e; // failed before the point where the signature is checked
    // a rule broken after the signature's place: forged or not decides the error, now
    assertSigned(signed);
    throw e;
  }
  const parts = signed as SignedParts;
  // a small document's check here costs less CPU than its dispatch to the pool (SYNC_VERIFY_MAX_BYTES)
  const check = async (): Promise<void> => {
    if (!(parts.payload.length <= SYNC_VERIFY_MAX_BYTES ? signedHere(parts) : await verifyEd25519Async(parts.author, signedBytes(parts), parts.signature))) throw forged();
  };
  const verified = after === undefined ? check() : after.then(check);
  verified.catch(() => undefined); // awaited by whoever acts on doc; never an unhandled rejection
  return { doc, verified };
}

/** What the signature covers, handed out where the synchronous decode verifies it. */
interface SignedParts {
  readonly author: Uint8Array;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

/** The bytes the author signed: the context prefix, then the payload. */
const signedBytes = (p: SignedParts): Uint8Array => concatBytes(SIGNATURE_PREFIX, p.payload);

// The signed bytes of a small document checked on this thread, built in one buffer reused from
// check to check (each is synchronous) instead of a fresh copy per document: three a group when
// a node materialises many groups. Larger payloads get their own copy (the buffer stays small).
let scratch = new Uint8Array(0);

/** True when the author signed the payload: checked on this thread, at once. */
function signedHere(p: SignedParts): boolean {
  if (p.payload.length > SYNC_VERIFY_MAX_BYTES) return verifyEd25519(p.author, signedBytes(p), p.signature);
  const length = SIGNATURE_PREFIX.length + p.payload.length;
  if (scratch.length < length) {
    scratch = new Uint8Array(SIGNATURE_PREFIX.length + SYNC_VERIFY_MAX_BYTES);
    scratch.set(SIGNATURE_PREFIX);
  }
  scratch.set(p.payload, SIGNATURE_PREFIX.length);
  return verifyEd25519(p.author, scratch.subarray(0, length), p.signature);
}

const forged = (): ValidationError => new ValidationError(ErrorCode.InvalidSignature, "document signature does not verify");

/** Throws INVALID_SIGNATURE unless the author signed the payload (checked on this thread). */
function assertSigned(p: SignedParts): void {
  if (!signedHere(p)) throw forged();
}

function decode(bytes: Uint8Array, verify: boolean | ((parts: SignedParts) => void), id?: Uint8Array | null): SignedDocument {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError("document must be bytes");
  if (bytes.length > MAX_DOCUMENT_SIZE) throw new DecodeError(`document is larger than ${MAX_DOCUMENT_SIZE} bytes`);
  // Decode a private copy: decoded byte strings are views into it, so the caller's buffer stays theirs.
  const own = new Uint8Array(bytes);
  const envelope = asMap(decodeCanonical(own), "envelope");
  const keys = Object.keys(envelope);
  if (keys.length !== ENVELOPE_KEYS.length || !ENVELOPE_KEYS.every((k) => Object.prototype.hasOwnProperty.call(envelope, k))) {
    throw new DecodeError("envelope must have exactly the keys payload and signature");
  }
  const payloadBytes = envelope["payload"];
  const signature = envelope["signature"];
  if (!(payloadBytes instanceof Uint8Array)) throw new DecodeError("payload must be bytes");
  if (!(signature instanceof Uint8Array) || signature.length !== 64) throw new DecodeError("signature must be 64 bytes");
  const payload = asMap(decodeCanonical(payloadBytes), "payload");
  for (const key of Object.keys(payload)) {
    if (!PAYLOAD_KEYS.has(key)) throw new DecodeError(`unknown payload key ${JSON.stringify(key.slice(0, 80))}`);
  }
  const v = payload["v"];
  if (v !== DOCUMENT_VERSION) throw new DecodeError(`unsupported document version ${String(v).slice(0, 20)}`);
  const { schema, author, timestamp, fields } = payload;
  const documentId = payload["document_id"];
  if (!(author instanceof Uint8Array) || author.length !== 32) throw new DecodeError("author must be 32 bytes");
  if (!Object.prototype.hasOwnProperty.call(payload, "fields")) throw new DecodeError("payload has no fields");
  // The signature is checked before the field rules: a forged document is reported as forged.
  const signed: SignedParts = { author, payload: payloadBytes, signature };
  if (typeof verify === "function") verify(signed);
  else if (verify) assertSigned(signed);
  const problem = payloadProblem(schema, author, timestamp, fields, documentId);
  if (problem !== undefined) throw new ValidationError(ErrorCode.InvalidDocument, `invalid document: ${problem}`);
  return makeDocument(own, schema as string, author, timestamp as number, freezeFields(fields as Record<string, unknown>, false), documentId as Uint8Array | undefined, id);
}

/**
 * The id of the document an operation belongs to: its `documentId` for an update, its own id
 * for a create. This is what update ciphertexts bind to (issue 5).
 *
 * @example
 * ```ts
 * documentIdOf(update) // equals create.id when update = signDocument(..., { documentId: create.id })
 * ```
 */
export function documentIdOf(doc: SignedDocument): Uint8Array {
  return doc.documentId ?? doc.id;
}
