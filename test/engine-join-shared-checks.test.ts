/**
 * The engine's join runs in a pool worker, where the provider shares a joiner's long stretch of
 * leaf signature checks with a thread of libuv's pool (src/mls/crypto/verifyRun.ts,
 * native/ed25519.c): a Welcome of 42 leaves joins, and one whose tree carries a single forged
 * leaf signature (early, in the middle or last, so either thread may be the one to check it) is
 * refused, the engine no member. The owner is a malicious library user: it tampers with its own
 * tree after a first commit and welcomes the engine with an add-only second commit, whose
 * GroupInfo it signs over the tampered tree.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeDocument, readKeyPackage } from "../src/documents/index.js";
import { generateIdentity } from "../src/identity.js";
import { IngestRefusedError } from "../src/engine/ingest.js";
import { ingestAll, withNodes, type TestNode } from "./engine-helpers.js";
import { welcomeDocuments } from "./group-fixtures.js";

const FILLERS = 40;

/** The owner's documents for a group of FILLERS + 1 whose second commit adds `node`'s key package; `forged`: that leaf's signature flipped first. */
async function welcomeFor(node: TestNode, forged: number | undefined): Promise<{ documents: Uint8Array[]; groupId: Uint8Array }> {
  const published = (await node.engine.publishKeyPackage()).documents[0] as Uint8Array;
  return welcomeDocuments(generateIdentity(), readKeyPackage(decodeDocument(published)).keyPackage, FILLERS, forged === undefined ? undefined : { leaf: forged });
}

test(`an engine joins a Welcome of ${FILLERS + 2} leaves in its pool worker, and refuses one with a forged leaf signature early, in the middle or last`, async () => {
  await withNodes([{}, {}, {}, {}], async ([honest, early, middle, last]) => {
    const joined = await welcomeFor(honest, undefined);
    const outcomes = await ingestAll(honest.engine, joined.documents);
    assert.equal(await honest.engine.status(joined.groupId), "member", outcomes.join(", "));

    for (const [node, leaf] of [[early, 18], [middle, 25], [last, FILLERS]] as const) {
      const forged = await welcomeFor(node, leaf);
      const error = await node.engine.ingest(forged.documents).then(
        () => assert.fail(`leaf ${leaf}: every document was taken`),
        (e: unknown) => e,
      );
      assert.ok(error instanceof IngestRefusedError, `leaf ${leaf}: ${String(error)}`);
      assert.deepEqual(error.refused.map((r) => [r.index, r.error.code]), [[2, "INVALID_WELCOME"]], `leaf ${leaf}: ${error.message}`);
      assert.match(error.refused[0]!.error.message, /leaf node signature/, `leaf ${leaf}`);
      assert.notEqual(await node.engine.status(forged.groupId), "member", `leaf ${leaf}`);
    }
  });
});
