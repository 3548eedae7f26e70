/**
 * Document schemas: names, limits, field value types, and the field rules of the spec's system
 * schemas. Validators return a problem description (or `undefined`) so that the same rules serve
 * decoding (a `ValidationError`) and signing (a `UsageError`).
 *
 * @module
 */
import { LongTermCiphersuite, ID_SIZE, MAX_DOCUMENT_SIZE, MAX_FIELDS, MAX_KEY_PACKAGE_SIZE, SecretGroupMessageType } from "../constants.js";

/**
 * The system schemas of the spec. Any other name matching {@link SCHEMA_NAME_PATTERN} is an
 * application schema whose fields are free (their values may be encoded `SecretGroupMessage`s).
 *
 * @example
 * ```ts
 * signDocument(identity, SchemaId.SecretGroup, { lts_ciphersuite: "PANDA10_AES256GCM" })
 * ```
 */
export const SchemaId = {
  SecretGroup: "secret_group_v1",
  KeyPackage: "key_package_v1",
  KeyPackageDeletion: "key_package_deletion_v1",
  SecretGroupCommit: "secret_group_commit_v1",
} as const;

/** One of the system schema names. @example `const s: SystemSchemaId = SchemaId.KeyPackage` */
export type SystemSchemaId = (typeof SchemaId)[keyof typeof SchemaId];
/** A system schema name or any application schema name (`string & {}` keeps autocompletion). @example `const s: SchemaId = "chat_v1"` */
export type SchemaId = SystemSchemaId | (string & {});

/** A field value: bytes for relations (document ids), binary data and ciphertexts. @example `const v: FieldValue = encodedSecretGroupMessage` */
export type FieldValue = Uint8Array | string | number | boolean | null;

/** Fields of a document, keyed by field name. @example `const f: DocumentFields = { title: "hi", body: ciphertext }` */
export type DocumentFields = Readonly<Record<string, FieldValue>>;

/** Schema names: lowercase snake case, at most 64 characters. @example `SCHEMA_NAME_PATTERN.test("chat_v1")` */
export const SCHEMA_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** Field names: lowercase snake case, at most 64 characters. @example `FIELD_NAME_PATTERN.test("body")` */
export const FIELD_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
// the limits live with every other one in src/constants.ts; re-exported for this module's users
export { MAX_DOCUMENT_SIZE, MAX_FIELDS, MAX_KEY_PACKAGE_SIZE };

const SYSTEM_SCHEMAS: ReadonlySet<string> = new Set(Object.values(SchemaId));

/**
 * True for the four system schema names.
 *
 * @example
 * ```ts
 * isSystemSchema("key_package_v1") // true
 * ```
 */
export function isSystemSchema(schema: string): schema is SystemSchemaId {
  return SYSTEM_SCHEMAS.has(schema);
}

// Lone UTF-16 surrogates cannot be encoded as UTF-8 and would silently turn into U+FFFD.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `value` is not a valid {@link FieldValue}, or `undefined` when it is.
 *
 * @example
 * ```ts
 * fieldValueProblem(Number.NaN) // "not a finite number"
 * ```
 */
export function fieldValueProblem(value: unknown): string | undefined {
  if (value === null || typeof value === "boolean" || value instanceof Uint8Array) return undefined;
  if (typeof value === "string") return LONE_SURROGATE.test(value) ? "string is not well-formed UTF-16" : undefined;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "not a finite number";
    if (Object.is(value, -0)) return "negative zero has no distinct canonical encoding";
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) return "integer outside the safe range";
    return undefined;
  }
  return `unsupported value type ${Array.isArray(value) ? "array" : typeof value}`;
}

type Rule = { readonly kind: "id" } | { readonly kind: "bytes"; readonly max: number } | { readonly kind: "ciphersuite" }
  | { readonly kind: "secret-group-message" };

interface FieldRule {
  readonly rule: Rule;
  readonly optional?: true;
}

const SYSTEM_FIELDS: Readonly<Record<SystemSchemaId, Readonly<Record<string, FieldRule>>>> = {
  secret_group_v1: { lts_ciphersuite: { rule: { kind: "ciphersuite" } } },
  key_package_v1: {
    previous_key_package: { rule: { kind: "id" }, optional: true },
    mls_key_package: { rule: { kind: "bytes", max: MAX_KEY_PACKAGE_SIZE } },
  },
  key_package_deletion_v1: { key_package: { rule: { kind: "id" } } },
  secret_group_commit_v1: {
    secret_group: { rule: { kind: "id" } },
    previous_commit: { rule: { kind: "id" }, optional: true },
    mls_commit_message: { rule: { kind: "bytes", max: Number.MAX_SAFE_INTEGER } },
    mls_welcome_message: { rule: { kind: "bytes", max: Number.MAX_SAFE_INTEGER }, optional: true },
    encrypted_long_term_secrets: { rule: { kind: "secret-group-message" } },
  },
};

function ruleProblem(name: string, rule: Rule, value: FieldValue): string | undefined {
  switch (rule.kind) {
    case "ciphersuite":
      return typeof value === "string" && Object.prototype.hasOwnProperty.call(LongTermCiphersuite, value)
        ? undefined
        : `${name} must be a long-term ciphersuite name`;
    case "id":
      return value instanceof Uint8Array && value.length === ID_SIZE ? undefined : `${name} must be a ${ID_SIZE}-byte id`;
    case "bytes":
      if (!(value instanceof Uint8Array) || value.length === 0) return `${name} must be non-empty bytes`;
      return value.length > rule.max ? `${name} is larger than ${rule.max} bytes` : undefined;
    case "secret-group-message":
      // The long-term secret list travels as a SecretGroupMessage of type 1 (MLS ciphertext).
      return value instanceof Uint8Array && value.length > 1 && value[0] === SecretGroupMessageType.MlsCiphertext
        ? undefined
        : `${name} must be an encoded SecretGroupMessage of type 1`;
  }
}

/**
 * Why `fields` are not acceptable for `schema`, or `undefined`. Checks names, count and value
 * types for every schema, and for system schemas the exact field set, types and sizes.
 *
 * @example
 * ```ts
 * fieldsProblem("secret_group_v1", { lts_ciphersuite: "PANDA10_AES128GCM" }) // undefined
 * ```
 */
export function fieldsProblem(schema: string, fields: Readonly<Record<string, unknown>>): string | undefined {
  if (typeof fields !== "object" || fields === null || Array.isArray(fields) || fields instanceof Uint8Array) {
    return "fields must be a map";
  }
  const names = Object.keys(fields);
  if (names.length > MAX_FIELDS) return `more than ${MAX_FIELDS} fields`;
  for (const name of names) {
    if (!FIELD_NAME_PATTERN.test(name)) return `invalid field name ${JSON.stringify(name.slice(0, 80))}`;
    const problem = fieldValueProblem(fields[name]);
    if (problem !== undefined) return `field ${name}: ${problem}`;
  }
  if (!isSystemSchema(schema)) return undefined;
  const rules = SYSTEM_FIELDS[schema];
  for (const name of names) {
    if (!Object.prototype.hasOwnProperty.call(rules, name)) return `${schema} has no field ${name}`;
  }
  for (const [name, { rule, optional }] of Object.entries(rules)) {
    if (!Object.prototype.hasOwnProperty.call(fields, name)) {
      if (optional === true) continue;
      return `${schema} requires field ${name}`;
    }
    const problem = ruleProblem(name, rule, fields[name] as FieldValue);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
