/**
 * The stream pieces the many-groups and operations scenarios share: a group of 3 (an owner, the
 * engine under test, a third member) as the documents a node receives, and an operation the
 * owner writes in it.
 *
 * @module
 */
import { decodeSecretGroupCommit } from "../src/commit.js";
import type { SchemeName } from "../src/constants.js";
import { keyPackageDocument, secretGroupCommitDocument, secretGroupDocument, signDocument } from "../src/documents/index.js";
import type { SignedDocument } from "../src/documents/index.js";
import type { FieldValue } from "../src/documents/schema.js";
import { sealFields } from "../src/engine/fields.js";
import { addMembers, createGroup, encrypt } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { LT_SUITE } from "./fixtures.js";
import type { EngineNode } from "./fixtures.js";

/**
 * A new group of 3 with `node` as a member: its group, third member's key package and commit
 * documents, and the owner's state after the commit.
 *
 * @example
 * ```ts
 * const { owner, state, documents } = await threeMemberGroup(node);
 * ```
 */
export async function threeMemberGroup(node: EngineNode): Promise<{ owner: Identity; state: GroupState; documents: Uint8Array[] }> {
  const owner = generateIdentity();
  const third = generateIdentity();
  const thirdKp = await createKeyPackage(third);
  const groupDoc = secretGroupDocument(owner, { ciphersuite: LT_SUITE });
  const created = await createGroup({ identity: owner, groupId: groupDoc.id, ciphersuite: LT_SUITE });
  const added = await addMembers(created, [await node.keyPackage(), thirdKp.keyPackage]);
  const documents = [
    groupDoc.bytes,
    keyPackageDocument(third, { keyPackage: thirdKp.keyPackage }).bytes,
    secretGroupCommitDocument(owner, { secretGroup: groupDoc.id, commit: decodeSecretGroupCommit(added.commit) }).bytes,
  ];
  return { owner, state: added.state, documents };
}

/**
 * A `chat_message_v1` operation by the owner with `body` encrypted in `scheme` and `n` in the
 * clear, and the owner's state after encrypting it.
 *
 * @example
 * ```ts
 * ({ doc, state } = await ownerOperation(owner, state, "hi", 1, "long-term"));
 * ```
 */
export async function ownerOperation(owner: Identity, state: GroupState, body: string, n: FieldValue, scheme: SchemeName): Promise<{ doc: SignedDocument; state: GroupState }> {
  let next = state;
  const fields = await sealFields(
    owner.publicKey,
    async (plaintext, o) => {
      const r = await encrypt(next, plaintext, { scheme: o.scheme, aad: o.aad });
      next = r.state;
      return r.message;
    },
    { body, n },
    { scheme, schema: "chat_message_v1", names: ["body"] },
  );
  return { doc: signDocument(owner, "chat_message_v1", fields), state: next };
}
