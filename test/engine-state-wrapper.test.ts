/**
 * The engine's stored state head uses the library's wrapper codec (src/group/codec.ts): the
 * same key-size, status and group-id checks as `decodeGroupState`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Writer } from "../src/codec/tls.js";
import { DecodeError } from "../src/errors.js";
import { createGroup } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import { ciphersuiteId } from "../src/lts/ciphersuite.js";
import { encodeLongTermSecrets } from "../src/lts/secret.js";
import { stageState } from "../src/mls/storage.js";
import type { StatePart } from "../src/mls/storage.js";
import { loadGroupState, secretsOfStateHead, stageGroupState } from "../src/engine/store/stateCodec.js";

/** A fresh state writes every part (no deletions). */
const stored = (parts: StatePart[]): Array<[string, Uint8Array]> => parts.map(([k, v]) => [k, v as Uint8Array]);

function wrapper(state: GroupState, change: { groupId?: Uint8Array; owner?: Uint8Array; status?: number }): Uint8Array {
  return new Writer(512)
    .opaque(change.groupId ?? state.groupId)
    .opaque(change.owner ?? state.owner)
    .opaque(state.self)
    .u8(change.status ?? 1)
    .u8(ciphersuiteId(state.ciphersuite))
    .opaque(encodeLongTermSecrets(state.secrets))
    .finish();
}

test("a stored state head with a short key, a bad status or another group id is a DecodeError", async () => {
  const owner = generateIdentity();
  const state = await createGroup({ identity: owner, groupId: new Uint8Array(32).fill(3), ciphersuite: "PANDA10_AES256GCM" });
  const good = stored(stageGroupState(state, undefined).parts);
  assert.equal(loadGroupState(good, 5n).state.nonceCounter, 5n);
  assert.deepEqual(stageState(wrapper(state, {}), state.mls, undefined).parts.map(([k]) => k), good.map(([k]) => k), "the test's wrapper is the stored layout");
  for (const [what, change] of [
    ["short owner key", { owner: new Uint8Array(31) }],
    ["bad status", { status: 3 }],
    ["another group id", { groupId: new Uint8Array(32).fill(4) }],
  ] as const) {
    const parts = stored(stageState(wrapper(state, change), state.mls, undefined).parts);
    assert.throws(() => loadGroupState(parts, 0n), DecodeError, what);
    if (what !== "another group id") {
      const head = parts.find(([k]) => k === "h")?.[1] as Uint8Array;
      assert.throws(() => secretsOfStateHead(head), DecodeError, `${what}: secrets`);
    }
  }
});
