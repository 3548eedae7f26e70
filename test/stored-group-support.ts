/**
 * A group whose tree spans two complete 32-leaf chunk slots and the spine, and its stored parts:
 * shared by the tests of the stored state (tree hashes, stored leaves).
 *
 * @module
 */
import assert from "node:assert/strict";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { addMembers, createGroup, joinGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { stageGroupState } from "../src/engine/store/stateCodec.js";

/** Stored parts of a state by key. */
export type Parts = Map<string, Uint8Array>;

/**
 * An owner with 40 members (a tree of 127 nodes: two complete subtree slots and the spine) and
 * the one member who joins; `fill` is the group id's byte.
 *
 * @example
 * ```ts
 * const { owner, rx, others } = await fortyMembers(7)
 * ```
 */
export async function fortyMembers(fill: number): Promise<{ owner: GroupState; rx: GroupState; others: Identity[] }> {
  const ownerId = generateIdentity();
  const receiver = generateIdentity();
  const created = await createGroup({ identity: ownerId, groupId: new Uint8Array(32).fill(fill), ciphersuite: "PANDA10_AES128GCM" });
  const kp = await createKeyPackage(receiver);
  const others = Array.from({ length: 38 }, () => generateIdentity());
  const kps = await Promise.all(others.map(async (id) => (await createKeyPackage(id)).keyPackage));
  const added = await addMembers(created, [kp.keyPackage, ...kps]);
  const rx = await joinGroup({ identity: receiver, secret: kp.secret, owner: ownerId.publicKey, commit: added.commit });
  assert.equal(rx.mls.ratchetTree.length, 127);
  return { owner: added.state, rx, others };
}

/** The parts a full staging of `state` writes. @example `const parts = partsOf(rx)` */
export function partsOf(state: GroupState): Parts {
  const parts: Parts = new Map();
  for (const [key, value] of stageGroupState(state, undefined).parts) if (value !== null) parts.set(key, value);
  return parts;
}
