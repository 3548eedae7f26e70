/**
 * A storage key rotation killed with SIGKILL at random moments (a child process): every time,
 * killed before the rotation record, only the old key opens the database; mid-way, either key
 * (chosen at random) opens it and that open finishes the rotation; after the completion marker,
 * only the new key. Everything reads as before. `SG_ROTATION_KILLS` sets the number of kills (default 4).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { cp, rm } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { toHex, utf8 } from "../src/bytes.js";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { deriveStorageKey } from "../src/engine/store/seal.js";
import { ingestAll, openNode, tempDir } from "./engine-helpers.js";
import { Random } from "../src/cli/random.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { MetaKey } from "../src/engine/store/keys.js";
import { sealedGeneration } from "../src/engine/store/sealedValue.js";
import { rawDb } from "./storage-support.js";

const KILLS = Number(process.env["SG_ROTATION_KILLS"] ?? 4);
const CHILD = fileURLToPath(new URL("./rotation-child.js", import.meta.url));

test(`a storage key rotation killed at ${KILLS} random moments always reopens and completes`, async () => {
  const owner = await openNode();
  const bob = await openNode();
  const scratch = await tempDir();
  try {
    const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
    const gid = created.groupId as Uint8Array;
    const add = await owner.engine.addMembers(gid, (await bob.engine.publishKeyPackage()).documents);
    await ingestAll(bob.engine, [...created.documents, ...add.documents]);
    await owner.engine.publishKeyPackage();
    const messages: Uint8Array[] = [];
    for (let i = 0; i < 20; i++) messages.push(await owner.engine.encrypt(gid, utf8(`m${i}`), { scheme: i % 2 === 0 ? "long-term" : "sender-ratchet" }));
    await owner.engine.close();
    const oldKey = deriveStorageKey(owner.identity.secretKey);
    const random = new Random(13);
    const outcomes: string[] = [];
    const phases = new Map<string, number>();
    for (let round = 0; round < KILLS; round++) {
      const path = join(scratch.path, `round-${round}`);
      await cp(owner.path, path, { recursive: true });
      const newKey = new Uint8Array(randomBytes(32));
      const delay = random.int(250);
      const child = fork(CHILD, [path, toHex(owner.identity.secretKey), toHex(newKey)], { stdio: "ignore" });
      const ended = new Promise<string>((resolve) => {
        let state = "before rotation";
        child.on("message", (m) => {
          state = String(m);
          if (m === "rotating") setTimeout(() => child.kill("SIGKILL"), delay);
        });
        child.on("exit", () => resolve(state));
      });
      outcomes.push(`${await ended} +${delay}ms`);
      // where the kill landed: before the rotation record, mid-way (record present), or after completion
      const db = rawDb(path);
      await db.open();
      const record = await db.get(`!${Sublevel.Meta}!${MetaKey.Rotation}`);
      const check = await db.get(`!${Sublevel.Meta}!${MetaKey.KeyCheck}`);
      await db.close();
      const phase = record !== undefined ? "mid-way" : sealedGeneration(check as Uint8Array) === 1 ? "done" : "not begun";
      phases.set(phase, (phases.get(phase) ?? 0) + 1);
      const opens = phase === "not begun" ? [oldKey] : phase === "done" ? [newKey] : [oldKey, newKey];
      const key = opens[random.int(opens.length)] as Uint8Array;
      for (const refused of [oldKey, newKey].filter((k) => !opens.includes(k))) {
        await assert.rejects(SecretGroupEngine.open({ path, identity: owner.identity, threads: 1, storageKey: refused }), { code: "STORAGE_KEY" }, `round ${round} (${phase})`);
      }
      const engine = await SecretGroupEngine.open({ path, identity: owner.identity, threads: 1, storageKey: key });
      const read = await engine.decrypt(messages);
      assert.deepEqual(read.map((r) => (r instanceof Error ? r.message : new TextDecoder().decode(r))), messages.map((_, i) => `m${i}`), `round ${round}`);
      await engine.close();
      // after that open, exactly one key opens it: the new one unless the rotation never began
      const [stays, gone] = phase === "not begun" ? [oldKey, newKey] : [newKey, oldKey];
      await assert.rejects(SecretGroupEngine.open({ path, identity: owner.identity, threads: 1, storageKey: gone }), { code: "STORAGE_KEY" }, `round ${round} (${phase}) finished`);
      await (await SecretGroupEngine.open({ path, identity: owner.identity, threads: 1, storageKey: stays })).close();
      await rm(path, { recursive: true, force: true });
    }
    assert.equal(outcomes.length, KILLS);
    console.log(`rotation kills: ${[...phases].map(([p, n]) => `${p} ${n}`).join(", ")} (${outcomes.join("; ")})`);
  } finally {
    await bob.engine.close();
    await owner.cleanup();
    await bob.cleanup();
    await scratch.cleanup();
  }
});
