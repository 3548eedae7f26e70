/**
 * RFC 9420 7.5 / 12.4.2: the public keys of a commit's UpdatePath must not appear in any node of
 * the tree. Our ts-mls patch answers that check from the tree's key summary (updatePath.js,
 * `applyUpdatePath`, patches/ts-mls+1.6.4.patch) instead of 1.6.4's scan of every parent.
 *
 * The commit here is otherwise valid: the owner starts its path from a secret of its previous
 * path (a committer that reuses its own path secrets), so every key, parent hash, signature and
 * ciphertext is consistent and the tree after it holds no duplicate; only the path-key check can
 * refuse it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { deriveSecret } from "ts-mls/crypto/kdf.js";
import type { CiphersuiteImpl } from "ts-mls";
import { processCommit, updateGroup } from "../src/group/index.js";
import type { CommitResult, GroupState } from "../src/group/index.js";
import { getSuite } from "../src/mls/suite.js";
import { makeGroup } from "./group-fixtures.js";
import { rng } from "./prng.js";

/** The owner's update commit, whose leaf path secret (RFC 9420 7.4) is `leafSecret`. */
async function updateFrom(state: GroupState, cs: CiphersuiteImpl, leafSecret: Uint8Array): Promise<CommitResult> {
  const rngBefore = cs.rng;
  let armed = true;
  // the first secret-sized draw of an update commit is its leaf path secret (createUpdatePath)
  cs.rng = {
    randomBytes: (n: number) => {
      if (armed && n === cs.kdf.size) {
        armed = false;
        return Uint8Array.from(leafSecret);
      }
      return rngBefore.randomBytes(n);
    },
  };
  try {
    const result = await updateGroup(state);
    assert.equal(armed, false, "the commit drew its path secret from the test's rng");
    return result;
  } finally {
    cs.rng = rngBefore;
  }
}

function parentKey(state: GroupState, nodeIndex: number): Uint8Array {
  const node = state.mls.ratchetTree[nodeIndex];
  assert.equal(node?.nodeType, "parent", `node ${nodeIndex} is a parent`);
  return (node as { parent: { hpkePublicKey: Uint8Array } }).parent.hpkePublicKey;
}

test("a commit whose UpdatePath repeats a parent key of the tree is refused", async () => {
  const prng = rng(11);
  const { owner, members } = await makeGroup(3); // leaves 0 (owner) to 3: owner's path is nodes 1 and 3
  const cs = await getSuite(owner.state.mls.groupContext.cipherSuite, owner.state.provider);

  // epoch 1: a path from a known leaf secret; node 1 gets secret path(S0), node 3 path(path(S0))
  const s0 = prng.bytes(cs.kdf.size);
  const first = await updateFrom(owner.state, cs, s0);
  owner.state = first.state;
  for (const m of members) m.state = await processCommit(m.state, first.commit);
  const node1Secret = await deriveSecret(s0, "path", cs.kdf);

  // epoch 2, forged: the path starts from node 1's secret, so its node 1 key is the tree's node 3 key
  const forged = await updateFrom(owner.state, cs, node1Secret);
  assert.deepEqual(parentKey(forged.state, 1), parentKey(owner.state, 3), "the UpdatePath carries a key already in the tree");
  assert.notDeepEqual(parentKey(forged.state, 3), parentKey(owner.state, 3), "no duplicate remains in the tree after the commit");
  for (const m of members) {
    await assert.rejects(processCommit(m.state, forged.commit), (e: Error & { code?: string; cause?: unknown }) => {
      assert.equal(e.code, "MLS_FAILURE");
      assert.match(String((e.cause as Error | undefined)?.message), /Public keys in the UpdatePath may not appear in a node/);
      return true;
    });
  }

  // the same epoch with a fresh path secret: every member still applies it (the refusal was the key alone)
  const control = await updateFrom(owner.state, cs, prng.bytes(cs.kdf.size));
  for (const m of members) {
    m.state = await processCommit(m.state, control.commit);
    assert.equal(m.state.mlsEpoch, control.state.mlsEpoch);
  }
});
