/**
 * Beside the frozen fixtures' read tests (storage-support.ts): a database of a format before 5
 * keeps its cold group half, chain head included, after a commit that adds or removes no one,
 * which writes a format-5 hot half with the new head and leaves the cold half as it was. After a
 * reopen the hot head must stand over the cold one, or the next commit would chain to a stale head.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { utf8 } from "../src/bytes.js";
import { decodeDocument, SchemaId } from "../src/documents/index.js";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { decodeGroupRecord } from "../src/engine/store/records.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { identityFromSecretKey } from "../src/identity.js";
import { openStore } from "./engine-helpers.js";
import { hex, restored, unhex } from "./storage-support.js";
import type { EngineName, StorageFixture } from "./storage-support.js";

/** Tag of a format-5 group record half (src/engine/store/records.ts). */
const TAG_V5 = 0x81;

const commitId = (documents: readonly Uint8Array[]): string => {
  const commit = documents.map((d) => decodeDocument(d)).find((d) => d.schema === SchemaId.SecretGroupCommit);
  assert.ok(commit !== undefined, "a commit document");
  return hex(commit.id);
};

/** The stored halves of the group record, read with the engine closed. */
async function halves(path: string, fixture: StorageFixture, name: EngineName): Promise<{ cold: Uint8Array; hot: Uint8Array }> {
  const store = await openStore(path, identityFromSecretKey(unhex(fixture.engines[name].seed)));
  try {
    const cold = await store.get(Sublevel.Groups, fixture.groupId, "group record");
    const hot = await store.get(Sublevel.Groups, `${fixture.groupId}/hot`, "group record");
    assert.ok(cold !== undefined && hot !== undefined, `${name}: both halves stored`);
    return { cold, hot };
  } finally {
    await store.close();
  }
}

/**
 * Owner and member of `fixture` (a format before 5) apply an update commit, close, and reopen:
 * the stored cold half still holds the old head (the situation under test), the engines report
 * the commit as their head, and a further update and a message go through.
 *
 * @example
 * ```ts
 * fixtureHotHeadTest("format 4", loadFixture("storage-v4.json"))
 * ```
 */
export function fixtureHotHeadTest(label: string, fixture: StorageFixture): void {
  test(`${label}: after an update commit writes only the hot half, the reopened engines take the hot head over the old cold one`, async () => {
    const gid = unhex(fixture.groupId);
    const names = ["owner", "member"] as const;
    const nodes = [await restored(fixture, "owner"), await restored(fixture, "member")];
    const [owner, member] = nodes as [(typeof nodes)[number], (typeof nodes)[number]];
    try {
      const update = await owner.engine.updateGroup(gid);
      await member.engine.ingest(update.documents);
      const head = commitId(update.documents);
      for (const [i, node] of nodes.entries()) {
        const name = names[i] as EngineName;
        await node.engine.close();
        const { cold, hot } = await halves(node.path, fixture, name);
        assert.notEqual(cold[0], TAG_V5, `${name}: the cold half is still of the old format`);
        assert.equal(hot[0], TAG_V5, `${name}: the hot half is of format 5`);
        const coldHead = decodeGroupRecord(cold).head;
        assert.ok(coldHead !== undefined && hex(coldHead) !== head, `${name}: the cold half still holds the old head`);
        node.engine = await SecretGroupEngine.open({ path: node.path, identity: identityFromSecretKey(unhex(fixture.engines[name].seed)), threads: 1 });
        const info = await node.engine.describe(gid);
        assert.equal(hex(info.head ?? new Uint8Array()), head, `${name}: head after reopening`);
      }
      const next = await owner.engine.updateGroup(gid);
      await member.engine.ingest(next.documents);
      const [o, m] = [await owner.engine.describe(gid), await member.engine.describe(gid)];
      assert.equal(hex(m.head ?? new Uint8Array()), commitId(next.documents), "member: the further update applied");
      assert.equal(m.mlsEpoch, o.mlsEpoch);
      const message = await owner.engine.encrypt(gid, utf8("after reopening"), { scheme: "sender-ratchet" });
      const [read] = await member.engine.decrypt([message]);
      assert.ok(read instanceof Uint8Array, `member decrypts: ${String(read)}`);
      assert.equal(new TextDecoder().decode(read), "after reopening");
    } finally {
      for (const node of nodes) {
        await node.engine.close();
        await node.cleanup();
      }
    }
  });
}
