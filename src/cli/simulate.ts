/**
 * The main job: a simulated p2panda network. Identities publish key packages, owners create
 * groups, add, update, rotate and remove members, members write encrypted operations in both
 * schemes, and every document reaches every node late and out of order, as a network would
 * deliver it. Each identity materialises the stream through its own engine on LevelDB, operations
 * included, and never calls decrypt: what it reads in the end is what its engine materialised.
 *
 * @module
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Piscina } from "piscina";
import { toHex } from "../bytes.js";
import type { SchemeName } from "../constants.js";
import { decodeDocument, signDocument } from "../documents/index.js";
import { SecretGroupEngine } from "../engine/engine.js";
import { IngestRefusedError } from "../engine/ingest.js";
import { createPool } from "../engine/pool.js";
import { ErrorCode, isSecretGroupError } from "../errors.js";
import type { Identity } from "../identity.js";
import { generateIdentity } from "../identity.js";
import { Random } from "./random.js";
import { emptyReadTally, tallyRead } from "./simulationCheck.js";
import type { ReadTally } from "./simulationCheck.js";

/** Sizes and knobs of a simulation. */
export interface SimulationOptions {
  /** Folder under which each identity's LevelDB lives; emptied first. */
  readonly dataDir: string;
  readonly identities: number;
  readonly groups: number;
  /** Members per group besides the owner. */
  readonly members: number;
  /** Encrypted operations each member writes per round. */
  readonly messages: number;
  /** Seed of the shuffles and choices, for repeatable runs. */
  readonly seed: number;
  /** Worker threads shared by all engines. */
  readonly threads?: number;
}

/** Defaults of {@link SimulationOptions}: finishes well under a minute on 2 cores. */
export const DEFAULT_SIMULATION: Omit<SimulationOptions, "dataDir"> = {
  identities: 10,
  groups: 5,
  members: 5,
  messages: 3,
  seed: 1,
};

/** What a simulation counted; {@link ReadTally} says how the reads went (checkSimulation judges it). */
export interface SimulationSummary extends ReadTally {
  identities: number;
  groups: number;
  members: number;
  commits: number;
  documents: number;
  deliveries: number;
  messages: { "long-term": number; "sender-ratchet": number };
  /** Commits in the materialisation index of the node that has the fewest: equals `commits` when every node indexed every group. */
  indexedCommits: number;
  refused: number;
  refusedByCode: Record<string, number>;
  seconds: number;
}

/** Progress callbacks, for the CLI's progress bar. */
export interface SimulationProgress {
  start(total: number): void;
  tick(done: number, phase: string): void;
}

const APP_SCHEMA = "chat_message_v1";

interface Written {
  readonly scheme: SchemeName;
  /** What the operation's `body` field said before encryption. */
  readonly body: string;
  /** The signed operation as it travels. */
  readonly document: Uint8Array;
  /** Its id (hex). */
  readonly id: string;
  /** Nodes that must read it: members when it was written, and for long-term, members added later. */
  readonly readers: Set<Node>;
  readonly group: SimGroup;
}

interface SimGroup {
  readonly id: Uint8Array;
  readonly owner: Node;
  members: Node[];
  /** Members added only after the first round of messages: late joiners. */
  readonly late: Node[];
  readonly lateKeyPackages: Uint8Array[];
}

interface Node {
  readonly name: string;
  readonly identity: Identity;
  readonly engine: SecretGroupEngine;
  inbox: Uint8Array[];
}

/**
 * Runs a whole simulation and returns its summary.
 *
 * @example
 * ```ts
 * const summary = await runSimulation({ ...DEFAULT_SIMULATION, dataDir: "./data/simulate" })
 * ```
 */
export async function runSimulation(options: SimulationOptions, progress?: SimulationProgress): Promise<SimulationSummary> {
  const started = performance.now();
  const random = new Random(options.seed);
  await rm(options.dataDir, { recursive: true, force: true });
  await mkdir(options.dataDir, { recursive: true });
  const pool: Piscina = createPool(options.threads === undefined ? {} : { threads: options.threads });
  const nodes: Node[] = [];
  const summary: SimulationSummary = {
    identities: options.identities,
    groups: options.groups,
    members: 0,
    commits: 0,
    documents: 0,
    deliveries: 0,
    messages: { "long-term": 0, "sender-ratchet": 0 },
    ...emptyReadTally(),
    indexedCommits: Number.MAX_SAFE_INTEGER,
    refused: 0,
    refusedByCode: {},
    seconds: 0,
  };
  const written: Written[] = [];
  // rounds: setup, 2 message rounds, churn, final delivery, reading; ticked per group and node
  const total = options.groups * 4 + options.identities * 2;
  let done = 0;
  const step = (phase: string) => progress?.tick(++done, phase);
  progress?.start(total);

  try {
    for (let i = 0; i < options.identities; i++) {
      const identity = generateIdentity();
      const engine = await SecretGroupEngine.open({ path: join(options.dataDir, `node-${i}`), identity, pool });
      nodes.push({ name: `node-${i}`, identity, engine, inbox: [] });
    }

    // Publishing hands a document to every node's inbox; delivery happens later, shuffled.
    const publish = (docs: readonly Uint8Array[]) => {
      for (const doc of docs) {
        summary.documents++;
        for (const node of nodes) node.inbox.push(doc);
      }
    };
    // What a node creates is published from its durable outbox, then acknowledged (the
    // documents the creating methods return are the same ones).
    const flush = async (node: Node) => {
      const docs = await node.engine.outbox();
      publish(docs);
      await node.engine.acknowledge(docs.map((d) => decodeDocument(d).id));
    };
    // A partial delivery: each node receives a random part of its inbox, in random order.
    const deliver = async (fraction: number) => {
      await Promise.all(
        nodes.map(async (node) => {
          random.shuffle(node.inbox);
          const count = fraction >= 1 ? node.inbox.length : Math.floor(node.inbox.length * fraction);
          const batch = node.inbox.splice(0, count);
          if (batch.length === 0) return;
          summary.deliveries += batch.length;
          await ingestCounting(node.engine, batch, summary);
          await flush(node);
        }),
      );
    };

    const groups: SimGroup[] = [];
    for (let g = 0; g < options.groups; g++) {
      const owner = nodes[g % nodes.length] as Node;
      const others = random.sample(
        nodes.filter((n) => n !== owner),
        Math.min(options.members, nodes.length - 1),
      );
      const keyPackages: Uint8Array[] = [];
      for (const member of others) {
        const { documents } = await member.engine.publishKeyPackage();
        await flush(member);
        keyPackages.push(...documents);
      }
      const created = await owner.engine.createGroup({ ciphersuite: random.pick(["PANDA10_AES128GCM", "PANDA10_AES256GCM", "PANDA10_CHACHA20POLY1305"] as const) });
      await flush(owner);
      const groupId = created.groupId as Uint8Array;
      // half of the members now, the rest after the first round of messages: late joiners
      const early = others.slice(0, Math.ceil(others.length / 2));
      const late = others.slice(early.length);
      await owner.engine.addMembers(groupId, keyPackages.slice(0, early.length));
      await flush(owner);
      summary.commits++;
      groups.push({ id: groupId, owner, members: early, late, lateKeyPackages: keyPackages.slice(early.length) });
      summary.members += others.length + 1;
      step("groups");
    }
    await deliver(0.6);
    await deliver(1);

    // Each member writes operations with an encrypted `body`; every other one updates the
    // author's previous operation, so update ciphertexts are bound to the document they edit.
    const writeRound = async () => {
      for (const group of groups) {
        for (const author of [group.owner, ...group.members]) {
          if ((await author.engine.status(group.id)) !== "member") continue;
          let previous: Uint8Array | undefined;
          for (let k = 0; k < options.messages; k++) {
            const scheme: SchemeName = k % 2 === 0 ? "long-term" : "sender-ratchet";
            const body = `${author.name} in ${toHex(group.id).slice(0, 8)}: operation ${written.length} (${scheme})`;
            const update = previous !== undefined && k % 3 === 2 ? { documentId: previous } : {};
            const fields = await author.engine.encryptFields(group.id, { body, seq: written.length }, { scheme, schema: APP_SCHEMA, names: ["body"], ...update });
            const doc = signDocument(author.identity, APP_SCHEMA, fields, update);
            previous = doc.documentId ?? doc.id;
            written.push({ scheme, body, document: doc.bytes, id: toHex(doc.id), readers: new Set([group.owner, ...group.members]), group });
            summary.messages[scheme]++;
            publish([doc.bytes]);
          }
        }
        step("messages");
      }
    };
    await writeRound();
    await deliver(0.5);

    // churn: late joiners are added, one early member is removed (rotating), then an update and a rotation
    for (const group of groups) {
      if (group.lateKeyPackages.length > 0) {
        await group.owner.engine.addMembers(group.id, group.lateKeyPackages);
        await flush(group.owner);
        summary.commits++;
        // late joiners read the group's long-term past
        for (const w of written) if (w.group === group && w.scheme === "long-term") group.late.forEach((n) => w.readers.add(n));
      }
      const leaving = group.members[0];
      if (leaving !== undefined && group.members.length > 1) {
        await group.owner.engine.removeMembers(group.id, [leaving.identity.publicKey]);
        await flush(group.owner);
        summary.commits++;
      }
      await group.owner.engine.updateGroup(group.id);
      await group.owner.engine.rotate(group.id);
      await flush(group.owner);
      summary.commits += 2;
      group.members = [...group.members.filter((m) => m !== leaving || group.members.length <= 1), ...group.late];
      step("churn");
    }
    await deliver(0.5);
    await deliver(1);
    await writeRound();
    await deliver(1);
    await deliver(1);
    for (let i = 0; i < nodes.length; i++) step("delivery");

    // every node reads what its engine materialised from the stream: nobody calls decrypt
    for (const node of nodes) {
      for (const entry of written) {
        const view = await node.engine.read(entry.id);
        const expected = entry.readers.has(node);
        const code = view === null ? "MISSING" : view.pending.includes("body") ? ErrorCode.Pending : view.errors["body"]?.code;
        tallyRead(summary, { expected, scheme: entry.scheme, written: entry.body, ...(code === undefined ? { read: view?.fields["body"] } : { code }) });
      }
      // materialisation: every node indexes every group's commits, member or not
      let indexed = 0;
      for (const group of groups) indexed += (await node.engine.history(group.id)).length;
      summary.indexedCommits = Math.min(summary.indexedCommits, indexed);
      step("read");
    }
  } finally {
    await Promise.allSettled(nodes.map((n) => n.engine.close()));
    await pool.destroy();
  }
  summary.seconds = Math.round((performance.now() - started) / 10) / 100;
  return summary;
}

async function ingestCounting(engine: SecretGroupEngine, batch: Uint8Array[], summary: SimulationSummary): Promise<void> {
  try {
    await engine.ingest(batch);
  } catch (e) {
    if (!(e instanceof IngestRefusedError)) throw e;
    for (const { error } of e.refused) {
      summary.refused++;
      summary.refusedByCode[error.code] = (summary.refusedByCode[error.code] ?? 0) + 1;
    }
    if (!isSecretGroupError(e)) throw e;
  }
}
