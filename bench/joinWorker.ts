/**
 * Worker thread that builds the groups of the join scenario, so that no key cache of the
 * measuring thread has seen their keys: a join in the benchmark is then as cold as a real
 * joiner's first contact with a group. Input (workerData): N, how many groups, and the key
 * packages of the engine joiners (one per group). Output (one message): per group, the library
 * group's documents and joiner, and a bare ts-mls group's Welcome, tree and joiner (a group
 * above 1000 members made by the patched library: see patchedFixture.ts).
 *
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import { decodeSecretGroupCommit } from "../src/commit.js";
import { secretGroupCommitDocument, secretGroupDocument } from "../src/documents/index.js";
import { addMembers, createGroup } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { bareJoinInput, LT_SUITE, members } from "./fixtures.js";
import type { JoinInput } from "./join.js";

// noBare: leave out the bare ts-mls group (bench/joinDev.ts measures the library and engine joins alone)
const { n, engineKeyPackages, noBare = false } = workerData as { n: number; engineKeyPackages: Uint8Array[]; noBare?: boolean };
const out: JoinInput[] = [];
for (const engineKp of engineKeyPackages) {
  const owner = generateIdentity();
  const groupDoc = secretGroupDocument(owner, { ciphersuite: LT_SUITE });
  const state = await createGroup({ identity: owner, groupId: groupDoc.id, ciphersuite: LT_SUITE });
  const [joiner, ...fillers] = await members(Math.max(1, n - 2));
  const added = await addMembers(state, [joiner!.keyPackage, engineKp, ...fillers.map((f) => f.keyPackage)]);
  const commitDoc = secretGroupCommitDocument(owner, { secretGroup: groupDoc.id, commit: decodeSecretGroupCommit(added.commit) });
  const bare = noBare ? (undefined as unknown as JoinInput["bare"]) : await bareJoinInput(n);
  out.push({
    library: { owner: owner.publicKey, commit: added.commit, identity: joiner!.identity, secret: joiner!.secret },
    engine: { groupDoc: groupDoc.bytes, commitDoc: commitDoc.bytes, groupId: groupDoc.id },
    bare,
  });
}
parentPort?.postMessage(out);
