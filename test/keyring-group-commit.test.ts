/**
 * The keyring's group commit: calls made while a write is in flight share the next write, and
 * every call resolves only once a file holding its own change is in place.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { KEYRING_FILE } from "../src/constants.js";
import { Keyring } from "../src/engine/store/keyring.js";
import { Sealer } from "../src/engine/store/seal.js";
import { tempDir } from "./engine-helpers.js";

/** A sealer that counts the keyring files it seals (one per write). */
class CountingSealer extends Sealer {
  writes = 0;
  override seal(sub: string, key: string, value: Uint8Array): Uint8Array {
    if (sub === "keyring") this.writes++;
    return super.seal(sub, key, value);
  }
}

async function scratch(): Promise<{ path: string; sealer: CountingSealer; onDisk: () => Promise<Set<string>>; cleanup: () => Promise<void> }> {
  const dir = await tempDir();
  const sealer = new CountingSealer(new Map([[0, new Uint8Array(randomBytes(32))]]), 0);
  // the file as it is now, read from a copy: loading in place would remove a write's temporary file
  const onDisk = async (): Promise<Set<string>> => {
    const copy = await tempDir();
    try {
      await copyFile(join(dir.path, KEYRING_FILE), join(copy.path, KEYRING_FILE));
      return new Set((await Keyring.load(copy.path, sealer)).ids());
    } finally {
      await copy.cleanup();
    }
  };
  return { ...dir, sealer, onDisk };
}

test("concurrent creates and destroys share writes; each resolves with its change in the file", async () => {
  const s = await scratch();
  try {
    const keyring = await Keyring.load(s.path, s.sealer);
    const ids = Array.from({ length: 40 }, (_, i) => `k/${i}`);
    const created = ids.map((id) => keyring.create([id]).then(async () => assert.ok((await s.onDisk()).has(id) || !keyring.ids().includes(id), `${id} created but not in the file`)));
    await created[0];
    const destroyed = ids.filter((_, i) => i % 2 === 0).map((id) => keyring.destroy([id]).then(async () => assert.ok(!(await s.onDisk()).has(id), `${id} destroyed but still in the file`)));
    const before = s.sealer.writes;
    await Promise.all([...created, ...destroyed]);
    // 40 creates and 20 destroys, most of them queued behind a write in flight
    assert.ok(s.sealer.writes < 10, `${s.sealer.writes} writes for 60 calls`);
    assert.ok(s.sealer.writes >= before);
    const final = await s.onDisk();
    assert.deepEqual([...final].sort(), ids.filter((_, i) => i % 2 === 1).sort());
    assert.deepEqual(new Set(keyring.ids()), final);
  } finally {
    await s.cleanup();
  }
});

test("a call joining a waiting write resolves after that write, never with the one in flight", async () => {
  const s = await scratch();
  try {
    const keyring = await Keyring.load(s.path, s.sealer);
    const order: string[] = [];
    const first = keyring.create(["a"]).then(async () => order.push(`a:${(await s.onDisk()).has("a")}`));
    await new Promise((resolve) => setImmediate(resolve)); // the first write has read the keys and waits for the disk
    const second = keyring.create(["b"]).then(async () => order.push(`b:${(await s.onDisk()).has("b")}`));
    const third = keyring.create(["c"]).then(async () => order.push(`c:${(await s.onDisk()).has("c")}`));
    await Promise.all([first, second, third]);
    assert.deepEqual(order.sort(), ["a:true", "b:true", "c:true"]);
    assert.equal(s.sealer.writes, 2);
    assert.deepEqual(await s.onDisk(), new Set(["a", "b", "c"]));
  } finally {
    await s.cleanup();
  }
});
