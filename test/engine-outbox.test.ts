/**
 * The durable outbox (src/engine/outbox.ts): what the engine creates stays in `outbox()` until
 * `acknowledge(documentIds)`, in creation order, across restarts and a SIGKILL right after the
 * creating method returned; it enters in the synced batch of the state change that created it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { toHex, utf8 } from "../src/bytes.js";
import { decodeDocument } from "../src/documents/index.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import type { EngineContext } from "../src/engine/context.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import type { StoreOp } from "../src/engine/store/store.js";
import type { SublevelName } from "../src/engine/store/sublevels.js";
import { groupWithMember, ingestAll, openNode } from "./engine-helpers.js";

const CHILD = fileURLToPath(new URL("./outbox-child.js", import.meta.url));
const text = (b: Uint8Array | Error | undefined): string => (b instanceof Uint8Array ? new TextDecoder().decode(b) : `error ${(b as Error & { code?: string })?.code}`);
const ids = (docs: readonly Uint8Array[]): string[] => docs.map((d) => toHex(decodeDocument(d).id));

test("a process killed after rotate() returned, before publishing: after the restart outbox() yields the commit, and publishing it lets members read what follows", async () => {
  const owner = await openNode();
  const alice = await openNode();
  let ownerEngine: SecretGroupEngine = owner.engine;
  try {
    const { gid } = await groupWithMember(owner.engine, alice.engine);
    await owner.engine.acknowledge(ids(await owner.engine.outbox()));
    await owner.engine.close();

    const child = fork(CHILD, [owner.path, toHex(owner.identity.secretKey), toHex(gid)], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    const rotated = await new Promise<string[]>((resolve, reject) => {
      child.on("message", (m) => resolve((m as { rotated: string[] }).rotated));
      child.on("exit", (code) => reject(new Error(`child exited with ${code} before rotating`)));
    });
    const killed = new Promise((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    child.kill("SIGKILL");
    assert.equal(await killed, "SIGKILL");

    ownerEngine = await owner.reopen();
    assert.equal((await ownerEngine.describe(gid)).mlsEpoch, 2n, "the rotation was applied before rotate() returned");
    const later = [
      await ownerEngine.encrypt(gid, utf8("after the rotation"), { scheme: "long-term" }),
      await ownerEngine.encrypt(gid, utf8("ratchet after the rotation"), { scheme: "sender-ratchet" }),
    ];
    // without the commit the member cannot read anything that follows
    assert.deepEqual((await alice.engine.decrypt(later)).map(text), ["error PENDING", "error PENDING"]);
    const outbox = await ownerEngine.outbox();
    assert.deepEqual(outbox.map(toHex), rotated, "the outbox holds exactly the commit rotate() returned");
    assert.deepEqual(await ingestAll(alice.engine, outbox), ["applied"]);
    assert.deepEqual((await alice.engine.decrypt(later)).map(text), ["after the rotation", "ratchet after the rotation"]);
    assert.equal(await ownerEngine.acknowledge(ids(outbox)), 1);
    assert.deepEqual(await ownerEngine.outbox(), []);
  } finally {
    await ownerEngine.close();
    await alice.engine.close();
    await owner.cleanup();
    await alice.cleanup();
  }
});

test("outbox() holds every created document in creation order until acknowledged, across a restart; unknown ids are ignored, bad ones refused", async () => {
  const owner = await openNode();
  const alice = await openNode();
  let ownerEngine: SecretGroupEngine = owner.engine;
  try {
    const kp = (await alice.engine.publishKeyPackage()).documents;
    const created = await owner.engine.createGroup({ ciphersuite: "PANDA10_AES128GCM" });
    const gid = created.groupId as Uint8Array;
    const returned = [
      ...created.documents,
      ...(await owner.engine.addMembers(gid, kp)).documents,
      ...(await owner.engine.updateGroup(gid)).documents,
      ...(await owner.engine.rotate(gid)).documents,
      ...(await owner.engine.removeMembers(gid, [alice.identity.publicKey])).documents,
    ];
    assert.deepEqual((await owner.engine.outbox()).map(toHex), returned.map(toHex));
    assert.deepEqual((await owner.engine.outbox()).map((d) => decodeDocument(d).schema), ["secret_group_v1", ...Array(4).fill("secret_group_commit_v1")]);

    // bytes or hex; an unknown id is ignored; nothing removed twice
    const [first, second] = ids(returned) as [string, string];
    const unknown = "ab".repeat(32);
    assert.equal(await owner.engine.acknowledge([decodeDocument(returned[0] as Uint8Array).id, second, unknown]), 2);
    assert.equal(await owner.engine.acknowledge([first, second]), 0);
    for (const bad of [["zz"], [new Uint8Array(31)], [42], "not a list"]) {
      await assert.rejects(owner.engine.acknowledge(bad as never), { code: "INVALID_ARGUMENT" });
    }
    assert.deepEqual((await owner.engine.outbox()).map(toHex), returned.slice(2).map(toHex));

    // a restart keeps the rest, and what is created after it comes last
    await owner.engine.close();
    ownerEngine = await owner.reopen();
    const after = (await ownerEngine.updateGroup(gid)).documents;
    assert.deepEqual((await ownerEngine.outbox()).map(toHex), [...returned.slice(2), ...after].map(toHex));

    // alice: her key package, then the deletion of it after her join
    await ingestAll(alice.engine, returned.slice(0, 2));
    assert.deepEqual((await alice.engine.outbox()).map((d) => decodeDocument(d).schema), ["key_package_v1", "key_package_deletion_v1"]);
  } finally {
    await ownerEngine.close();
    await alice.engine.close();
    await owner.cleanup();
    await alice.cleanup();
  }
});

interface Written {
  readonly subs: Set<SublevelName>;
  readonly ops: readonly StoreOp[];
  readonly sync: boolean;
}

/** Records every batch an engine writes. */
function spy(engine: SecretGroupEngine): Written[] {
  const store = (engine as unknown as { ctx: EngineContext }).ctx.store;
  const batch = store.batch.bind(store);
  const written: Written[] = [];
  store.batch = (ops, options = {}) => {
    written.push({ subs: new Set(ops.map((op) => op.sub)), ops, sync: options.sync === true });
    return batch(ops, options);
  };
  return written;
}

// (nonce reservations and spent ratchet keys: engine-durable-secrets.test.ts checks their sync)
test("created documents enter the outbox in the synced batch of their state change", async () => {
  const owner = await openNode();
  const alice = await openNode();
  try {
    const o = spy(owner.engine);
    const a = spy(alice.engine);
    const { gid } = await groupWithMember(owner.engine, alice.engine);
    await owner.engine.rotate(gid);
    const withOutbox = [...o, ...a].filter((w) => w.ops.some((op) => op.sub === Sublevel.Outbox && op.value !== null));
    // create, add, rotate; alice's key package and its deletion after her join
    assert.equal(withOutbox.length, 5);
    for (const w of withOutbox) {
      assert.ok(w.sync, `synced: ${[...w.subs]}`);
      assert.ok(w.subs.has(Sublevel.KeyPackages) || (w.subs.has(Sublevel.State) && w.subs.has(Sublevel.Groups)), `with its state change: ${[...w.subs]}`);
    }

  } finally {
    await owner.engine.close();
    await alice.engine.close();
    await owner.cleanup();
    await alice.cleanup();
  }
});
