/**
 * The process test/engine-crash.test.ts kills: runs the script of test/crash-support.ts from
 * its durable position over three engines (owner, alice, bob) in one process, the way an
 * application that survives crashes does: on start it publishes and acknowledges every engine's
 * outbox; each step checks whether it already happened (a commit by the owner's epoch, a key
 * package or message by the network log) before doing it; every published document or message
 * and every decrypted text goes to an fsync'ed log before the step is marked done.
 *
 * Arguments: `<dir> run` (the script) or `<dir> final` (catch everyone up, read everything,
 * write the summary). Environment `CRASH_PLAN` (JSON): `{ killAtBatch, killBefore }` kills this
 * process with SIGKILL at the store batch with that number (counting only synced ones, as
 * written or just before), `{ killAtStep }` kills it as that step starts if nothing killed it
 * before (the parent's bound, so every kill lands before the script's end), `{ stopAt }` ends
 * the run cleanly before that step,
 * `{ sabotage: "outbox-after-state" | "reservation-unsynced" }` breaks the engine on purpose to
 * show the test catches it. The parent may also kill at any time after
 * the `ready` message. Environment `CRASH_DEBUG` (any value): a failing step writes to stderr
 * what it was, what was published, and each engine's group status, stored Welcomes and commits.
 *
 * @module
 */
import { fromHex, toHex, utf8 } from "../src/bytes.js";
import { decodeDocument } from "../src/documents/index.js";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { createPool } from "../src/engine/pool.js";
import { EngineStore } from "../src/engine/store/store.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import type { StoreOp } from "../src/engine/store/store.js";
import { identityFromSecretKey } from "../src/identity.js";
import { IngestRefusedError } from "../src/engine/ingest.js";
import { readFileSync, writeFileSync } from "node:fs";
import { ROLES, appendDurable, files, position, readLines } from "./crash-support.js";
import type { Published, ReadLine, Role, RoleSummary, Script, Step, Summary } from "./crash-support.js";
import { senderKeys } from "./crash-keys.js";

const [dir, mode] = process.argv.slice(2) as [string, "run" | "final"];
const plan = JSON.parse(process.env["CRASH_PLAN"] ?? "{}") as { killAtBatch?: number; killBefore?: boolean; killAtStep?: number; stopAt?: number; sabotage?: string };
const f = files(dir);
const script = JSON.parse(readFileSync(f.script, "utf8")) as Script;

// --- kill points and sabotage: on the store every engine of this process writes through ---
const original = EngineStore.prototype.batch;
let synced = 0;
async function counted(this: EngineStore, ops: readonly StoreOp[], options: { readonly sync?: boolean } = {}): Promise<void> {
  if (ops.length === 0 || options.sync !== true) return original.call(this, ops, options);
  synced++;
  const killHere = synced === plan.killAtBatch;
  if (killHere && plan.killBefore === true) process.kill(process.pid, "SIGKILL");
  await original.call(this, ops, options);
  if (killHere) process.kill(process.pid, "SIGKILL");
}
EngineStore.prototype.batch = async function (this: EngineStore, ops: readonly StoreOp[], options: { readonly sync?: boolean } = {}): Promise<void> {
  if (plan.sabotage === "outbox-after-state" && ops.some((op) => op.sub === Sublevel.Outbox && op.value !== null)) {
    // broken on purpose: the created document goes in a second batch after the state change
    await counted.call(this, ops.filter((op) => op.sub !== Sublevel.Outbox), options);
    return counted.call(this, ops.filter((op) => op.sub === Sublevel.Outbox), options);
  }
  if (plan.sabotage === "reservation-unsynced" && ops.length === 1 && ops[0]?.key.endsWith("/hot") === true && options.sync === true) {
    // broken on purpose: a nonce reservation alone is not written (only with the next state change)
    return;
  }
  return counted.call(this, ops, options);
};

// --- the application ---
const pool = createPool({ threads: 1 });
const engines = {} as Record<Role, SecretGroupEngine>;
for (const role of ROLES) {
  engines[role] = await SecretGroupEngine.open({ path: f.engine(role), identity: identityFromSecretKey(fromHex(script.secretKeys[role])), pool, nonceBlock: script.nonceBlock });
}
process.send?.("ready");

const network = (): Published[] => readLines<Published>(f.network);
let current = position(dir);

function publish(who: Role, type: Published["type"], bytes: Uint8Array, scheme?: Published["scheme"]): void {
  appendDurable(f.network, { step: current, who, type, hex: toHex(bytes), ...(scheme === undefined ? {} : { scheme }) } satisfies Published);
}

/** Publishes what `who` created and has not acknowledged, then acknowledges it. */
async function flush(who: Role): Promise<void> {
  const docs = await engines[who].outbox();
  for (const d of docs) publish(who, "document", d);
  await engines[who].acknowledge(docs.map((d) => decodeDocument(d).id));
}

const documents = (): Uint8Array[] => network().filter((p) => p.type === "document").map((p) => fromHex(p.hex));
const schemaOf = (hex: string): string => decodeDocument(fromHex(hex)).schema;

function groupId(): Uint8Array {
  const doc = network().find((p) => p.type === "document" && schemaOf(p.hex) === "secret_group_v1");
  if (doc === undefined) throw new Error("no group yet");
  return decodeDocument(fromHex(doc.hex)).id;
}

async function ingestAll(who: Role): Promise<void> {
  try {
    await engines[who].ingest(documents());
  } catch (e) {
    if (!(e instanceof IngestRefusedError)) throw e;
  }
  await flush(who);
}

/**
 * Reads every published message `who` has not read yet; keeps the texts; the rest stays unread.
 * A replay (a text lost with a kill after its decryption's batch) is logged durably when seen: by
 * the final pass its epoch may be gone (the role removed and added again), and it fails otherwise.
 */
async function readNew(who: Role): Promise<void> {
  const read = new Set(readLines<ReadLine>(f.reads(who)).map((l) => l.message));
  const todo = network().filter((p) => p.type === "message" && !read.has(p.step));
  const results = await engines[who].decrypt(todo.map((p) => fromHex(p.hex)));
  todo.forEach((p, i) => {
    const r = results[i];
    if (r instanceof Uint8Array) appendDurable(f.reads(who), { message: p.step, text: new TextDecoder().decode(r) } satisfies ReadLine);
    else if ((r as Error & { code?: string }).code === "REPLAY") appendDurable(f.replays(who), p.step);
  });
}

async function run(step: Step, i: number): Promise<void> {
  const owner = engines.owner;
  switch (step.kind) {
    case "keyPackage":
      // done already if this step published one (from the outbox after a restart, say)
      if (!network().some((p) => p.step === i && p.who === step.who && p.type === "document")) await engines[step.who].publishKeyPackage();
      return flush(step.who);
    case "create":
      if ((await owner.groups()).length === 0) await owner.createGroup({ ciphersuite: "PANDA10_AES256GCM" });
      return flush("owner");
    case "add":
    case "remove":
    case "update":
    case "rotate": {
      const gid = groupId();
      // a commit made before the kill is in the owner's state and in its outbox (or published)
      if ((await owner.describe(gid)).mlsEpoch < BigInt(step.epoch)) {
        if (step.kind === "add") {
          const kp = network().filter((p) => p.who === step.who && p.type === "document" && schemaOf(p.hex) === "key_package_v1").at(-1);
          if (kp === undefined) throw new Error(`no key package of ${step.who}`);
          await owner.addMembers(gid, [fromHex(kp.hex)]);
        } else if (step.kind === "remove") {
          await owner.removeMembers(gid, [engines[step.who].publicKey]);
        } else {
          await (step.kind === "rotate" ? owner.rotate(gid) : owner.updateGroup(gid));
        }
      }
      return flush("owner");
    }
    case "encrypt":
      if (!network().some((p) => p.step === i && p.type === "message")) {
        const message = await engines[step.who].encrypt(groupId(), utf8(`message of step ${i} by ${step.who}`), { scheme: step.scheme });
        publish(step.who, "message", message, step.scheme);
      }
      return;
    case "ingest":
      return ingestAll(step.who);
    case "decrypt":
      return readNew(step.who);
  }
}

if (mode === "run") {
  // what was created before the kill and not acknowledged: publish it now
  for (const role of ROLES) await flush(role);
  for (; current < (plan.stopAt ?? script.steps.length); current++) {
    if (plan.killAtStep !== undefined && current >= plan.killAtStep) process.kill(process.pid, "SIGKILL");
    try {
      await run(script.steps[current] as Step, current);
    } catch (e) {
      if (process.env["CRASH_DEBUG"] !== undefined) await dump(e);
      throw e;
    }
    appendDurable(f.done, current);
  }
} else {
  await finalPass();
}
for (const role of ROLES) await engines[role].close();
await pool.destroy();

/** Debug (CRASH_DEBUG): what the step was and what each engine's store holds. */
async function dump(e: unknown): Promise<void> {
  const log = (x: string): boolean => process.stderr.write(`[crash-debug] ${x}\n`);
  log(`step ${current} ${JSON.stringify(script.steps[current])} failed: ${(e as Error).message}`);
  log(`published: ${network().map((p) => `${p.step}:${p.who}:${p.type === "document" ? schemaOf(p.hex) : p.type}`).join(" ")}`);
  const gid = groupId();
  for (const role of ROLES) {
    const store = (engines[role] as unknown as { ctx: { store: EngineStore } }).ctx.store;
    const welcomes = await store.keys(Sublevel.Welcomes, "");
    const commits = await store.keys(Sublevel.Commits, "");
    log(`${role}: status ${(await engines[role].describe(gid).catch((x: Error) => ({ status: x.message }))).status}; welcomes ${JSON.stringify(welcomes)}; commits ${commits.length}`);
  }
}

async function finalPass(): Promise<void> {
  current = script.steps.length;
  const gid = groupId();
  const keyOf = new Map(ROLES.map((r) => [toHex(engines[r].publicKey), r]));
  const roles = {} as Record<Role, RoleSummary>;
  for (const role of ROLES) {
    await flush(role);
    if (role !== "owner") await ingestAll(role);
    await readNew(role);
    const info = await engines[role].describe(gid);
    roles[role] = {
      status: info.status,
      mlsEpoch: info.mlsEpoch.toString(),
      ltsEpoch: info.ltsEpoch.toString(),
      members: info.members.map((k) => keyOf.get(toHex(k)) ?? "stranger").sort(),
      readable: [...new Set(readLines<ReadLine>(f.reads(role)).map((l) => l.message))].sort((a, b) => a - b),
      replays: [...new Set(readLines<number>(f.replays(role)))].sort((a, b) => a - b),
      outboxLeft: (await engines[role].outbox()).length,
    };
  }
  const published = network();
  const docs = new Map<string, string>();
  for (const p of published) if (p.type === "document") docs.set(toHex(decodeDocument(fromHex(p.hex)).id), schemaOf(p.hex));
  const bySchema: Record<string, number> = {};
  for (const schema of docs.values()) bySchema[schema] = (bySchema[schema] ?? 0) + 1;
  for (const role of ROLES) await engines[role].close();
  const keys = await senderKeys(f.engine("owner"), identityFromSecretKey(fromHex(script.secretKeys.owner)), gid, published.filter((p) => p.type === "message").map((p) => fromHex(p.hex)));
  const summary: Summary = {
    roles,
    documents: bySchema,
    messages: [...new Set(published.filter((p) => p.type === "message").map((p) => p.step))].sort((a, b) => a - b),
    longTermNonces: keys.longTerm,
    ratchetKeys: keys.ratchet,
    unchecked: keys.unchecked,
  };
  writeFileSync(f.summary, JSON.stringify(summary, null, 1));
}
