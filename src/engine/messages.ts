/**
 * The encrypting and decrypting side of `SecretGroupEngine` (src/engine/engine.ts extends it):
 * messages and the encrypted fields of operations. Split from the group-changing methods only
 * to keep each file short; the public API is the engine's.
 *
 * @module
 */
import type { SchemeName } from "../constants.js";
import type { SignedDocument } from "../documents/document.js";
import type { FieldValue } from "../documents/schema.js";
import { encryptArgs, groupIdArg } from "./arguments.js";
import { peekAll } from "./decrypt.js";
import type { DecryptInput } from "./decrypt.js";
import { openFields, sealFields } from "./fields.js";
import type { DecryptedFields, EncryptFieldsOptions } from "./fields.js";
import type { DecryptJob } from "./jobs.js";
import { readLongTerm } from "./decryptStep.js";
import { EngineReads } from "./reads.js";

/**
 * Encryption and decryption of an engine's groups (see `SecretGroupEngine`).
 *
 * @example
 * ```ts
 * const message = await engine.encrypt(groupId, utf8("hi"), { scheme: "long-term" }) // a method of this class
 * ```
 */
export abstract class EngineMessages extends EngineReads {
  /**
   * Encrypts a value for the group; returns the encoded SecretGroupMessage.
   *
   * @example
   * ```ts
   * const message = await engine.encrypt(groupId, utf8("hi"), { scheme: "sender-ratchet" })
   * ```
   */
  async encrypt(groupId: Uint8Array | string, plaintext: Uint8Array, options: { scheme: SchemeName; aad?: Uint8Array }): Promise<Uint8Array> {
    this.check();
    const gid = groupIdArg(groupId);
    const [message] = await this.actors.run<Uint8Array[]>(gid, { kind: "encrypt", encrypt: encryptArgs(plaintext, options) });
    return message as Uint8Array;
  }

  /**
   * Encrypts an operation's fields for a group (all of them, or `names`), each bound to this
   * node as author, the schema, the field name and, for updates, `documentId`. Sign the result
   * as the operation's fields.
   *
   * @example
   * ```ts
   * const fields = await engine.encryptFields(groupId, { body: "hi", room: 3 }, { scheme: "long-term", schema: "chat_v1", names: ["body"] })
   * const doc = signDocument(identity, "chat_v1", fields)
   * ```
   */
  async encryptFields(groupId: Uint8Array | string, fields: Readonly<Record<string, FieldValue>>, options: EncryptFieldsOptions): Promise<Record<string, FieldValue>> {
    this.check();
    return sealFields(this.ctx.identity.publicKey, (plaintext, o) => this.encrypt(groupId, plaintext, o), fields, options);
  }

  /**
   * Decrypts the encrypted fields of an operation (document bytes are verified first); fields
   * that cannot be read (yet) keep their ciphertext and are listed in `errors` with their code.
   *
   * @example
   * ```ts
   * const { fields, errors } = await engine.decryptFields(documentBytes)
   * ```
   */
  async decryptFields(document: Uint8Array | SignedDocument): Promise<DecryptedFields> {
    this.check();
    return openFields((messages) => this.decrypt(messages), document);
  }

  /**
   * Decrypts messages of any groups. Returns, in order, the plaintext or an `Error` with a
   * string `code` (`PENDING` when the group or epoch is not reached yet: ingest more, retry).
   * Rejects only for a bad argument. Plaintexts under 8 KiB decrypted in the worker pool are
   * views into a buffer (of at most 64 KiB) shared with other plaintexts of the same call and
   * group (never with a failed value): `.slice()` one to keep it on its own.
   *
   * @example
   * ```ts
   * const [a, b] = await engine.decrypt([m1, { message: m2, aad }])
   * ```
   */
  async decrypt(messages: readonly DecryptInput[]): Promise<Array<Uint8Array | Error>> {
    this.check();
    const { results, byGroup } = peekAll(messages);
    await Promise.all(
      [...byGroup].map(async ([gid, { indices, items }]) => {
        try {
          const job: DecryptJob = { items };
          // long-term only and the group's actor idle: read beside it (what the job would read in it)
          const view = items.every((item) => item.scheme === "long-term") ? this.actors.idleView(gid) : undefined;
          const out =
            view === undefined
              ? await this.actors.run<Array<Uint8Array | Error>>(gid, { kind: "decrypt", decrypt: job })
              : await this.actors.track(readLongTerm(this.ctx, gid, view, job));
          indices.forEach((index, k) => (results[index] = out[k] as Uint8Array | Error));
        } catch (e) {
          for (const index of indices) results[index] = e instanceof Error ? e : new Error(String(e));
        }
      }),
    );
    return results;
  }
}
