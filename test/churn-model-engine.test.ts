/**
 * Seeded model test of churn through SecretGroupEngine (issue 8): one owner engine and a few
 * member engines; the owner commits at random (add 1-3, remove 1-2, update, rotate), members
 * publish key packages and send messages of both schemes, and every engine receives every
 * document in shuffled batches with duplicates, sometimes only part of them for a few steps.
 * After each step, every engine that received everything must agree with the model: added
 * members are members (none stuck awaiting a Welcome), removed ones removed, epochs and member
 * lists equal, and messages read or refused as membership says. Engines are sometimes reopened.
 * CHURN_SEED, CHURN_SEEDS and CHURN_STEPS run other or more seeds.
 */
import { test } from "node:test";
import { equalBytes, toHex } from "../src/bytes.js";
import type { SchemeName } from "../src/constants.js";
import type { SecretGroupEngine } from "../src/engine/engine.js";
import { IngestRefusedError } from "../src/engine/ingest.js";
import { ErrorCode } from "../src/errors.js";
import { decodeDocument } from "../src/documents/index.js";
import { openNode } from "./engine-helpers.js";
import { checkCode, churnConfig, newStats, runSeed } from "./churn-model-support.js";
import type { ChurnMessage, ChurnStats, History, Random } from "./churn-model-support.js";

/** Member engines besides the owner (so at most PEOPLE + 1 members). */
const PEOPLE = 7;
/** Steps an engine may go without receiving everything. */
const MAX_LAG = 3;
/** Sender-ratchet messages are read before they are this many epochs old (retention is 16). */
const RATCHET_AGE = 10;
const LONG_TERM_DELAY = 15;

type Node = Awaited<ReturnType<typeof openNode>> & { name: string; engine: SecretGroupEngine; delivered: Set<number>; lag: number };

/** One membership of one node. */
interface Seat {
  readonly node: Node;
  readonly joinEpoch: bigint;
  /** Long-term epochs up to this one are held once joined (the Welcome carries them all). */
  ltHeld: bigint;
  removedAfter?: bigint;
  pending: Read[];
}

type Message = ChurnMessage<Seat>;

interface Read {
  readonly message: Message;
  readonly due: number;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

class EngineModel {
  mlsEpoch = 0n;
  ltLatest = 0n;
  gid: Uint8Array = new Uint8Array(0);
  seats: Seat[] = [];
  removed: Seat[] = [];
  readonly log: Uint8Array[] = [];
  readonly longTerm: Message[] = [];
  readonly recentRatchet: Message[] = [];
  private nextMessage = 0;
  owner!: Seat;

  constructor(
    readonly rng: Random,
    readonly history: History,
    readonly stats: ChurnStats,
    readonly ownerNode: Node,
    readonly people: Node[],
  ) {}

  async start(): Promise<void> {
    const created = await this.ownerNode.engine.createGroup({ ciphersuite: this.rng.pick(["PANDA10_AES256GCM", "PANDA10_CHACHA20POLY1305"] as const) });
    this.gid = created.groupId as Uint8Array;
    await this.flush(this.ownerNode);
    this.owner = { node: this.ownerNode, joinEpoch: 0n, ltHeld: 0n, pending: [] };
    this.seats = [this.owner];
  }

  private publish(docs: readonly Uint8Array[]): void {
    this.log.push(...docs);
  }

  /** Publishes what `node` created from its durable outbox, then acknowledges it. */
  private async flush(node: Node): Promise<void> {
    const docs = await node.engine.outbox();
    this.publish(docs);
    await node.engine.acknowledge(docs.map((d) => decodeDocument(d).id));
  }

  /** The node's status in the group; undefined while it knows nothing of the group (a lagging node). */
  private async statusOf(node: Node): Promise<string | undefined> {
    try {
      return await node.engine.status(this.gid);
    } catch (e) {
      if ((e as { code?: string }).code === ErrorCode.UnknownGroup) return undefined;
      throw e;
    }
  }

  private seatOf(node: Node): Seat | undefined {
    return this.seats.find((s) => s.node === node);
  }

  async step(step: number): Promise<void> {
    this.history.step = step;
    const r = this.rng.next();
    if (r < 0.4) await this.commit(step);
    else if (r < 0.88) await this.send(step);
    else if (r < 0.94) {
      const node = this.rng.pick(this.people);
      await node.engine.publishKeyPackage();
      await this.flush(node);
    }
    else await this.reopen();
    for (const node of [this.ownerNode, ...this.people]) await this.deliver(node);
    await this.check(step);
    this.stats.steps++;
  }

  private async commit(step: number): Promise<void> {
    const outside = this.people.filter((n) => this.seatOf(n) === undefined && n.lag === 0);
    const kinds = ["update", "rotate"];
    if (outside.length > 0) kinds.push("add", "add", "add");
    if (this.seats.length > 1) kinds.push("remove", "remove");
    const kind = this.rng.pick(kinds);
    // sender-ratchet messages are read before their epoch leaves the retained window
    for (const seat of this.seats) {
      // a lagging joiner whose Welcome has not arrived cannot read yet (PENDING): its messages wait;
      // one that has been delivered nothing of the group yet does not know it (UNKNOWN_GROUP)
      if (seat.node.lag > 0 && (await this.statusOf(seat.node)) !== "member") continue;
      await this.read(seat, step, (m) => m.scheme === "sender-ratchet" && this.mlsEpoch - m.mlsEpoch >= BigInt(RATCHET_AGE));
    }
    const owner = this.ownerNode.engine;
    let joiners: Node[] = [];
    let victims: Seat[] = [];
    if (kind === "add") {
      joiners = this.rng.sample(outside, 1 + this.rng.int(3));
      // a returning member's last membership is read out before it joins again
      for (const node of joiners) for (const old of this.removed.filter((s) => s.node === node)) await this.read(old, step, () => true);
      const kps: Uint8Array[] = [];
      for (const node of joiners) {
        kps.push(...(await node.engine.publishKeyPackage()).documents);
        await this.flush(node);
      }
      this.history.add(`add [${joiners.map((n) => n.name).join(",")}]`);
      await owner.addMembers(this.gid, kps);
    } else if (kind === "remove") {
      victims = this.rng.sample(this.seats.filter((s) => s !== this.owner), 1 + this.rng.int(2));
      this.history.add(`remove [${victims.map((s) => s.node.name).join(",")}]`);
      await owner.removeMembers(this.gid, victims.map((s) => s.node.identity.publicKey));
    } else {
      this.history.add(kind);
      await (kind === "rotate" ? owner.rotate(this.gid) : owner.updateGroup(this.gid));
    }
    await this.flush(this.ownerNode);
    for (const seat of victims) seat.removedAfter = this.mlsEpoch;
    this.seats = this.seats.filter((s) => !victims.includes(s));
    this.removed.push(...victims);
    this.mlsEpoch++;
    if (kind === "remove" || kind === "rotate") this.ltLatest++;
    for (const seat of this.seats) seat.ltHeld = this.ltLatest;
    for (const node of joiners) {
      // long-term: the whole past is readable; sender-ratchet: nothing from before the join
      const past = [...this.longTerm, ...this.rng.sample(this.recentRatchet.filter((m) => m.sender.node !== node), 3)];
      const pending = past.map((message) => ({ message, due: step + LONG_TERM_DELAY }));
      this.seats.push({ node, joinEpoch: this.mlsEpoch, ltHeld: this.ltLatest, pending });
      this.stats.joins++;
    }
    this.stats.commits++;
  }

  private async send(step: number): Promise<void> {
    // a member that has not received its Welcome yet cannot write
    const sender = this.rng.pick(this.seats.filter((s) => s.node.lag === 0));
    const count = 1 + this.rng.int(3);
    for (let i = 0; i < count; i++) {
      const scheme: SchemeName = this.rng.next() < 0.5 ? "long-term" : "sender-ratchet";
      const id = this.nextMessage++;
      const plaintext = text(`message ${id} from ${sender.node.name}`);
      const aad = this.rng.next() < 0.5 ? new Uint8Array(0) : text(`field ${id}`);
      this.history.add(`send m${id} ${scheme} by ${sender.node.name} at mls ${this.mlsEpoch} lt ${this.ltLatest}`);
      const bytes = await sender.node.engine.encrypt(this.gid, plaintext, { scheme, aad });
      const message: Message = { id, scheme, sender, mlsEpoch: this.mlsEpoch, ltEpoch: this.ltLatest, plaintext, aad, bytes };
      for (const seat of [...this.seats, ...this.removed.slice(-3).filter((s) => this.seatOf(s.node) === undefined)]) seat.pending.push({ message, due: step + LONG_TERM_DELAY });
      if (scheme === "long-term") this.longTerm.push(message);
      else if (this.recentRatchet.push(message) > 20) this.recentRatchet.shift();
      this.stats.messages++;
    }
  }

  private async reopen(): Promise<void> {
    const node = this.rng.pick([this.ownerNode, ...this.people]);
    this.history.add(`reopen ${node.name}`);
    await node.engine.close();
    node.engine = await node.reopen();
  }

  /** Shuffled batches of what `node` has not received, with a few repeats; only part of it while lagging. */
  private async deliver(node: Node): Promise<void> {
    const missing = this.log.map((_, i) => i).filter((i) => !node.delivered.has(i));
    const lagging = node !== this.ownerNode && node.lag < MAX_LAG && this.rng.next() < 0.2;
    const now = lagging ? missing.filter(() => this.rng.next() < 0.5) : missing;
    const repeats = this.rng.sample([...node.delivered], this.rng.int(3));
    const order = this.rng.shuffle([...now, ...repeats]);
    for (let at = 0; at < order.length; ) {
      const size = 1 + this.rng.int(5);
      const batch = order.slice(at, at + size);
      at += size;
      try {
        await node.engine.ingest(batch.map((i) => this.log[i] as Uint8Array));
      } catch (e) {
        if (!(e instanceof IngestRefusedError)) throw e;
        throw new Error(`${node.name} refused ${e.refused.map((r) => `document ${batch[r.index]}: ${r.error.code} ${r.error.message}`).join("; ")}`);
      }
      for (const i of batch) node.delivered.add(i);
    }
    node.lag = lagging ? node.lag + 1 : 0;
    await this.flush(node);
  }

  /** Reads `seat`'s pending messages that `pick` selects (all due ones too), in random order, in one call. */
  private async read(seat: Seat, step: number, pick: (m: Message) => boolean): Promise<void> {
    const now = this.rng.shuffle(seat.pending.filter((r) => r.due <= step || pick(r.message)));
    if (now.length === 0) return;
    seat.pending = seat.pending.filter((r) => !now.includes(r));
    const results = await seat.node.engine.decrypt(now.map((r) => ({ message: r.message.bytes, aad: r.message.aad })));
    now.forEach((r, k) => {
      const m = r.message;
      const result = results[k];
      const what = `${seat.node.name} (joined mls ${seat.joinEpoch}${seat.removedAfter === undefined ? "" : `, removed after ${seat.removedAfter}`}) reads m${m.id} (${m.scheme}, mls ${m.mlsEpoch}, lt ${m.ltEpoch})`;
      const code = this.expected(seat, m);
      if (code !== undefined) {
        checkCode(result, code, what);
        this.stats.refusals++;
      } else if (!(result instanceof Uint8Array) || !equalBytes(result, m.plaintext)) {
        throw new Error(`${what}: ${result instanceof Error ? `${(result as { code?: string }).code}: ${result.message}` : "wrong plaintext"}`);
      } else this.stats.reads++;
    });
  }

  /** The code a read must fail with, or undefined when it must succeed. */
  private expected(seat: Seat, m: Message): string | undefined {
    if (m.scheme === "long-term") return m.ltEpoch <= seat.ltHeld ? undefined : "NOT_MEMBER";
    if (m.sender === seat) return undefined; // the engine keeps its own sender-ratchet plaintexts
    if (seat.removedAfter !== undefined && m.mlsEpoch > seat.removedAfter) return "NOT_MEMBER";
    return m.mlsEpoch >= seat.joinEpoch ? undefined : "UNKNOWN_EPOCH";
  }

  private async check(step: number): Promise<void> {
    const expected = this.seats.map((s) => toHex(s.node.identity.publicKey)).sort().join(",");
    for (const seat of this.seats) {
      if (seat.node.lag > 0) continue;
      const info = await seat.node.engine.describe(this.gid);
      const where = `${seat.node.name} (model: member at mls ${this.mlsEpoch}, lt ${this.ltLatest})`;
      if (info.status !== "member") throw new Error(`${where} is ${info.status}`);
      if (info.mlsEpoch !== this.mlsEpoch || info.ltsEpoch !== this.ltLatest) throw new Error(`${where} is at mls ${info.mlsEpoch}, lt ${info.ltsEpoch}`);
      if (info.members.map(toHex).sort().join(",") !== expected) throw new Error(`${where} sees other members`);
      this.stats.agreements++;
      await this.read(seat, step, () => this.rng.next() < 0.4);
    }
    for (const node of this.people) {
      if (node.lag > 0 || this.seatOf(node) !== undefined) continue;
      const status = await node.engine.status(this.gid);
      const wanted = this.removed.some((s) => s.node === node) ? "removed" : "awaiting-welcome";
      if (status !== wanted) throw new Error(`${node.name} is ${status}, the model says ${wanted}`);
    }
    for (const seat of this.removed.slice(-3)) if (seat.node.lag === 0 && this.seatOf(seat.node) === undefined) await this.read(seat, step, () => this.rng.next() < 0.4);
  }
}

const { seeds, steps } = churnConfig({ seeds: [1, 2, 3], steps: 80 });
const total = newStats();

for (const seed of seeds) {
  test(`engine churn model, seed ${seed}, ${steps} steps`, async (t) => {
    const stats = newStats();
    const started = Date.now();
    const nodes: Node[] = [];
    try {
      for (let i = 0; i <= PEOPLE; i++) nodes.push({ ...(await openNode()), name: i === 0 ? "owner" : `n${i}`, delivered: new Set(), lag: 0 });
      await runSeed("engine", seed, steps, async (rng, history) => {
        const model = new EngineModel(rng, history, stats, nodes[0] as Node, nodes.slice(1));
        await model.start();
        for (let step = 0; step < steps; step++) await model.step(step);
        t.diagnostic(`members ${model.seats.map((s) => s.node.name).join(",")} mls ${model.mlsEpoch} lt ${model.ltLatest} documents ${model.log.length}`);
      });
    } finally {
      for (const n of nodes) {
        await n.engine.close();
        await n.cleanup();
      }
    }
    for (const k of Object.keys(stats) as (keyof ChurnStats)[]) total[k] += stats[k];
    t.diagnostic(`seed ${seed}: ${JSON.stringify(stats)} in ${Date.now() - started} ms`);
  });
}

test("engine churn model totals", () => {
  console.log(`engine churn model: seeds ${seeds.join(",")} x ${steps} steps: ${JSON.stringify(total)}`);
});
