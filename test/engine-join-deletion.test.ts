/**
 * A join withdraws the key package it consumed: its `key_package_deletion_v1` document
 * (src/engine/drain.ts `joinThrough`) lands in the joiner's outbox in the join's batch. It must verify as the joiner's and name exactly the consumed key
 * package document, whichever way the join ran (the Welcome's commit after its group document,
 * or before it: the drain's join through the stored Welcome).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { equalBytes } from "../src/bytes.js";
import { decodeDocument } from "../src/documents/document.js";
import { SchemaId, readKeyPackageDeletion } from "../src/documents/index.js";
import { groupAddingMember, withNodes } from "./engine-helpers.js";

for (const order of ["group first", "commit first"] as const) {
  test(`a join (${order}) puts a deletion of the consumed key package, signed by the joiner, in its outbox`, () =>
    withNodes([{}, {}], async ([owner, alice]) => {
      // two key packages published: the deletion must name the one the Welcome consumed
      const spare = decodeDocument((await alice.engine.publishKeyPackage()).documents[0]!);
      const { keyPackage, created, added } = await groupAddingMember(owner.engine, alice.engine);
      const consumed = decodeDocument(keyPackage[0]!);
      if (order === "group first") await alice.engine.ingest([...created, ...added]);
      else {
        await alice.engine.ingest(added);
        await alice.engine.ingest(created);
      }
      const deletions = (await alice.engine.outbox()).map((bytes) => decodeDocument(bytes)).filter((d) => d.schema === SchemaId.KeyPackageDeletion);
      assert.equal(deletions.length, 1);
      const deletion = deletions[0]!;
      assert.ok(equalBytes(deletion.author, alice.identity.publicKey), "signed by the joiner (decodeDocument checked the signature)");
      assert.ok(equalBytes(readKeyPackageDeletion(deletion).keyPackage, consumed.id), "names the consumed key package");
      assert.ok(!equalBytes(consumed.id, spare.id));
    }));
}
