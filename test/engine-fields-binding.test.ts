/**
 * README "Security model": field ciphertexts are bound through the AEAD associated data to
 * their author, schema, field name and, for updates, the document updated, in both schemes and
 * for every reader: another member, and the author itself (which reads its own sender-ratchet
 * values from the engine's copy, since MLS cannot decrypt a sender's own messages). And the
 * values travel encrypted.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SchemeName } from "../src/constants.js";
import { signDocument } from "../src/documents/document.js";
import { ErrorCode } from "../src/errors.js";
import { groupWithMember, openNode } from "./engine-helpers.js";

for (const scheme of ["long-term", "sender-ratchet"] as SchemeName[]) {
  test(`${scheme} field ciphertexts moved to another author, schema, field or document fail for the reader and the author`, async () => {
    const alice = await openNode();
    const bob = await openNode();
    const mallory = await openNode();
    try {
      const { gid } = await groupWithMember(alice.engine, bob.engine);
      const fields = await alice.engine.encryptFields(gid, { title: "t", body: "b" }, { scheme, schema: "note_v1" });
      const original = signDocument(alice.identity, "note_v1", fields);
      const moved = {
        "another author": [signDocument(mallory.identity, "note_v1", fields), "body"],
        "another schema": [signDocument(alice.identity, "other_v1", fields), "body"],
        "swapped fields": [signDocument(alice.identity, "note_v1", { title: fields["body"] as Uint8Array, body: fields["title"] as Uint8Array }), "title"],
        "a create replayed as an update": [signDocument(alice.identity, "note_v1", fields, { documentId: original.id }), "body"],
      } as const;
      for (const [reader, engine] of [["bob", bob.engine], ["alice", alice.engine]] as const) {
        for (const [what, [doc, field]] of Object.entries(moved)) {
          const error = (await engine.decryptFields(doc)).errors[field] as { code?: string } | undefined;
          assert.equal(error?.code, ErrorCode.DecryptionFailed, `${reader}, ${what}`);
        }
      }
      // the value travels encrypted: the signed document does not hold its bytes
      const plaintext = "a distinctive plaintext, 0123456789";
      const sealed = signDocument(alice.identity, "note_v1", await alice.engine.encryptFields(gid, { body: plaintext }, { scheme, schema: "note_v1" }));
      assert.ok(!Buffer.from(sealed.bytes).includes(plaintext));
      assert.equal((await bob.engine.decryptFields(sealed)).fields["body"], plaintext);
      // in place it reads, for both (the moved copies consumed nothing)
      assert.deepEqual({ ...(await bob.engine.decryptFields(original)).fields }, { title: "t", body: "b" });
      assert.deepEqual({ ...(await alice.engine.decryptFields(original)).fields }, { title: "t", body: "b" });
    } finally {
      await Promise.all([alice.engine.close(), bob.engine.close(), mallory.engine.close()]);
      await Promise.all([alice.cleanup(), bob.cleanup(), mallory.cleanup()]);
    }
  });
}
