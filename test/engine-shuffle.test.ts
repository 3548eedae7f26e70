/**
 * A longer history (adds, a removal, a re-add with a fresh key package, updates, rotations)
 * delivered to every member in several random orders and chunkings: all converge.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { utf8 } from "../src/bytes.js";
import { ingestAll, keySet, recorder, shuffle, withNodes } from "./engine-helpers.js";

test("members converge whatever the delivery order", async () => {
  await withNodes([{}, {}, {}, {}], async ([owner, a, b, c]) => {
    const members = [a, b, c];
    const { docs, publish, keyPackage } = recorder();
    const kp = (n: typeof owner): Promise<Uint8Array[]> => keyPackage(n.engine);
    const gid = publish(await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" })).groupId as Uint8Array;
    publish(await owner.engine.addMembers(gid, await kp(a)));
    publish(await owner.engine.addMembers(gid, [...(await kp(b)), ...(await kp(c))]));
    publish(await owner.engine.updateGroup(gid));
    publish(await owner.engine.removeMembers(gid, [b.identity.publicKey]));
    publish(await owner.engine.rotate(gid));
    publish(await owner.engine.addMembers(gid, await kp(b))); // b comes back with a new key package
    publish(await owner.engine.updateGroup(gid));
    const finalLt = await owner.engine.encrypt(gid, utf8("final long-term"), { scheme: "long-term" });
    const finalSr = await owner.engine.encrypt(gid, utf8("final ratchet"), { scheme: "sender-ratchet" });

    const expected = keySet(await owner.engine.members(gid));
    assert.equal(expected.length, 4);
    for (const [i, node] of members.entries()) {
      const order = shuffle(docs, Number(process.env["ENGINE_SHUFFLE_SEED"] ?? 100) + i);
      // deliver in chunks of varying size, each chunk itself in shuffled order
      for (let at = 0, size = 1; at < order.length; at += size, size = (size % 4) + 1) {
        const outcomes = await ingestAll(node.engine, order.slice(at, at + size));
        assert.ok(!outcomes.includes("refused"), `member ${i}: ${outcomes}`);
      }
      assert.equal(await node.engine.status(gid), "member", `member ${i}`);
      assert.deepEqual(keySet(await node.engine.members(gid)), expected, `member ${i}`);
      const [lt, sr] = await node.engine.decrypt([finalLt, finalSr]);
      assert.equal(new TextDecoder().decode(lt as Uint8Array), "final long-term", `member ${i}: ${String(lt)}`);
      assert.equal(new TextDecoder().decode(sr as Uint8Array), "final ratchet", `member ${i}: ${String(sr)}`);
    }
  });
});
