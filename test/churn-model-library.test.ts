/**
 * Seeded model test of churn through the pure library (issue 8): the owner commits at random
 * (add 1-3, remove 1-2, update, rotate, update with rotation), random members send messages of
 * both schemes, members apply commits in order but receive messages late and out of order
 * (within retention). After every step the states must agree with a model of who should know
 * what. CHURN_SEED, CHURN_SEEDS and CHURN_STEPS run other or more seeds.
 */
import { test } from "node:test";
import { equalBytes, toHex } from "../src/bytes.js";
import { RETAIN_EPOCHS } from "../src/constants.js";
import type { SchemeName } from "../src/constants.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { mlsExport } from "../src/mls/group.js";
import { deriveLongTermSecret } from "../src/lts/derive.js";
import { openLongTerm } from "../src/lts/encrypt.js";
import { decodeSecretGroupMessage } from "../src/message.js";
import { exporterOf } from "../src/group/state.js";
import {
  addMembers, createGroup, decodeGroupState, decrypt, encodeGroupState, encrypt, groupMembers, joinGroup,
  processCommit, removeMembers, rotateLongTermSecret, updateGroup,
} from "../src/group/index.js";
import type { CommitResult, GroupState } from "../src/group/index.js";
import { churnConfig, expectCode, newStats, runSeed, short } from "./churn-model-support.js";
import type { ChurnMessage, ChurnStats, History, Random } from "./churn-model-support.js";

const MAX_MEMBERS = 8;
/** Long-term messages are delivered at the latest this many steps after they were sent. */
const LONG_TERM_DELAY = 40;
/** Removed members kept receiving (and refusing) new messages. */
const REMOVED_WATCHED = 6;

interface Person {
  readonly name: string;
  readonly identity: Identity;
}

/** One membership of one person (a re-added person gets a new seat). */
interface Seat {
  readonly person: Person;
  state: GroupState;
  readonly joinEpoch: bigint;
  /** The last MLS epoch the seat was a member in, once removed. */
  removedAfter?: bigint;
  /** Long-term epochs this seat must hold. */
  readonly knownLt: Set<bigint>;
  pending: Delivery[];
}

type Message = ChurnMessage<Seat>;

interface Delivery {
  readonly message: Message;
  readonly due: number;
  /** Sender-ratchet only: already read once, so a second read must be a replay. */
  readonly replay?: boolean;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

class LibraryModel {
  mlsEpoch = 0n;
  ltLatest = 0n;
  seats: Seat[];
  removed: Seat[] = [];
  readonly people: Person[] = [];
  readonly longTerm: Message[] = [];
  readonly recentRatchet: Message[] = [];
  private nextMessage = 0;

  constructor(
    readonly rng: Random,
    readonly history: History,
    readonly stats: ChurnStats,
    readonly owner: Seat,
  ) {
    this.seats = [owner];
  }

  static async create(rng: Random, history: History, stats: ChurnStats): Promise<LibraryModel> {
    const identity = generateIdentity();
    const groupId = new Uint8Array(32).map(() => rng.int(256));
    const state = await createGroup({ identity, groupId, ciphersuite: rng.pick(["PANDA10_AES256GCM", "PANDA10_AES128GCM", "PANDA10_CHACHA20POLY1305"] as const) });
    const owner: Seat = { person: { name: "owner", identity }, state, joinEpoch: 0n, knownLt: new Set([0n]), pending: [] };
    return new LibraryModel(rng, history, stats, owner);
  }

  async step(step: number): Promise<void> {
    this.history.step = step;
    const r = this.rng.next();
    if (r < 0.3) await this.commit(step);
    else if (r < 0.96) await this.send(step);
    else this.persist();
    await this.deliver(step, false);
    await this.check();
    this.stats.steps++;
  }

  private members(): Seat[] {
    return this.seats.filter((s) => s !== this.owner);
  }

  private async commit(step: number): Promise<void> {
    const size = this.seats.length;
    const kinds: string[] = ["update", "rotate", "update-rotate"];
    if (size < MAX_MEMBERS) kinds.push("add", "add", ...(size < 4 ? ["add", "add"] : []));
    if (size > 1) kinds.push("remove", "remove", ...(size >= MAX_MEMBERS - 1 ? ["remove"] : []));
    const kind = this.rng.pick(kinds);
    // sender-ratchet messages must arrive before their epoch leaves the retained window
    await this.deliver(step, true);
    const rotate = kind === "rotate" || kind === "update-rotate" || (kind === "add" && this.rng.next() < 0.25) || (kind === "remove" && this.rng.next() < 0.8);
    let result: CommitResult;
    let joiners: { person: Person; secret: Uint8Array }[] = [];
    let victims: Seat[] = [];
    if (kind === "add") {
      const count = Math.min(1 + this.rng.int(3), MAX_MEMBERS - size);
      const active = new Set(this.seats.map((s) => s.person));
      const returning = this.people.filter((p) => !active.has(p));
      const persons: Person[] = [];
      for (let i = 0; i < count; i++) {
        const back = returning.filter((p) => !persons.includes(p));
        if (back.length > 0 && this.rng.next() < 0.3) persons.push(this.rng.pick(back));
        else {
          const person = { name: `p${this.people.length}`, identity: generateIdentity() };
          this.people.push(person);
          persons.push(person);
        }
      }
      const kps = await Promise.all(persons.map((p) => createKeyPackage(p.identity)));
      this.history.add(`add [${persons.map((p) => p.name).join(",")}] rotate=${rotate}`);
      result = await addMembers(this.owner.state, kps.map((k) => k.keyPackage), { rotate });
      joiners = persons.map((person, i) => ({ person, secret: (kps[i] as { secret: Uint8Array }).secret }));
    } else if (kind === "remove") {
      victims = this.rng.sample(this.members(), Math.min(1 + this.rng.int(2), size - 1));
      this.history.add(`remove [${victims.map((s) => s.person.name).join(",")}] rotate=${rotate}`);
      result = await removeMembers(this.owner.state, victims.map((s) => s.person.identity.publicKey), { rotate });
    } else {
      this.history.add(kind);
      result = kind === "rotate" ? await rotateLongTermSecret(this.owner.state) : await updateGroup(this.owner.state, { rotate });
    }
    this.owner.state = result.state;
    for (const seat of this.members()) seat.state = await processCommit(seat.state, result.commit);
    for (const seat of victims) {
      if (seat.state.status !== "removed") throw new Error(`${seat.person.name} not removed by the commit that removed it`);
      seat.removedAfter = this.mlsEpoch;
    }
    this.seats = this.seats.filter((s) => !victims.includes(s));
    this.removed.push(...victims);
    this.mlsEpoch++;
    if (rotate) this.ltLatest++;
    for (const seat of this.seats) seat.knownLt.add(this.ltLatest);
    for (const { person, secret } of joiners) {
      const state = await joinGroup({ identity: person.identity, secret, owner: this.owner.person.identity.publicKey, commit: result.commit });
      const knownLt = new Set(Array.from({ length: Number(this.ltLatest) + 1 }, (_, i) => BigInt(i)));
      // long-term: the whole past is readable; sender-ratchet: nothing from before the join
      const pending: Delivery[] = this.longTerm.map((message) => ({ message, due: step + LONG_TERM_DELAY }));
      for (const message of this.rng.sample(this.recentRatchet, 3)) pending.push({ message, due: step + LONG_TERM_DELAY });
      this.seats.push({ person, state, joinEpoch: this.mlsEpoch, knownLt, pending });
      this.stats.joins++;
    }
    this.stats.commits++;
  }

  private async send(step: number): Promise<void> {
    const sender = this.rng.pick(this.seats);
    const count = 1 + this.rng.int(3);
    for (let i = 0; i < count; i++) {
      const scheme: SchemeName = this.rng.next() < 0.5 ? "long-term" : "sender-ratchet";
      const id = this.nextMessage++;
      const plaintext = text(`message ${id} from ${sender.person.name}`);
      const aad = this.rng.next() < 0.5 ? new Uint8Array(0) : text(`field ${id}`);
      this.history.add(`send m${id} ${scheme} by ${sender.person.name} at mls ${this.mlsEpoch} lt ${this.ltLatest}`);
      const out = await encrypt(sender.state, plaintext, { scheme, aad });
      sender.state = out.state;
      const message: Message = { id, scheme, sender, mlsEpoch: this.mlsEpoch, ltEpoch: this.ltLatest, plaintext, aad, bytes: out.message };
      const due = step + (scheme === "long-term" ? LONG_TERM_DELAY : 1_000_000);
      for (const seat of [...this.seats, ...this.removed.slice(-REMOVED_WATCHED)]) {
        if (scheme === "sender-ratchet" && seat === sender) continue; // MLS deletes the sender's own key
        seat.pending.push({ message, due });
      }
      if (scheme === "long-term") this.longTerm.push(message);
      else {
        this.recentRatchet.push(message);
        if (this.recentRatchet.length > 40) this.recentRatchet.shift();
      }
      this.stats.messages++;
    }
  }

  /** A state survives its stored encoding. */
  private persist(): void {
    const seat = this.rng.pick([...this.seats, ...this.removed.slice(-2)]);
    this.history.add(`persist ${seat.person.name}`);
    seat.state = decodeGroupState(encodeGroupState(seat.state), { provider: seat.state.provider });
  }

  /** Delivers a random share of every seat's pending messages, in random order (all that are due when `forced`). */
  private async deliver(step: number, forced: boolean): Promise<void> {
    for (const seat of [...this.seats, ...this.removed]) {
      if (seat.pending.length === 0) continue;
      const now: Delivery[] = [];
      const later: Delivery[] = [];
      for (const d of seat.pending) {
        const urgent = d.due <= step || (d.message.scheme === "sender-ratchet" && seat.removedAfter === undefined && this.mlsEpoch + 1n - d.message.mlsEpoch > BigInt(RETAIN_EPOCHS));
        (urgent || (!forced && this.rng.next() < 0.4) ? now : later).push(d);
      }
      seat.pending = later;
      for (const d of this.rng.shuffle(now)) await this.read(seat, d, step);
    }
  }

  private async read(seat: Seat, d: Delivery, step: number): Promise<void> {
    const m = d.message;
    const what = `${seat.person.name} (joined mls ${seat.joinEpoch}${seat.removedAfter === undefined ? "" : `, removed after ${seat.removedAfter}`}) reads m${m.id} (${m.scheme}, mls ${m.mlsEpoch}, lt ${m.ltEpoch})`;
    let code: string | undefined;
    if (m.scheme === "long-term") {
      code = seat.knownLt.has(m.ltEpoch) ? undefined : "UNKNOWN_EPOCH";
    } else if (d.replay === true) {
      code = "REPLAY";
    } else {
      const wasMember = seat.joinEpoch <= m.mlsEpoch && (seat.removedAfter === undefined || seat.removedAfter >= m.mlsEpoch);
      code = wasMember ? undefined : "UNKNOWN_EPOCH";
    }
    if (code !== undefined) {
      await expectCode(() => decrypt(seat.state, m.bytes, { aad: m.aad }), code, what);
      this.stats.refusals++;
      if (m.scheme === "long-term" && seat.removedAfter !== undefined) await this.tryToDerive(seat, m, what);
      return;
    }
    const out = await decrypt(seat.state, m.bytes, { aad: m.aad }).catch((e: unknown) => {
      throw new Error(`${what}: ${String(e)}`, { cause: e });
    });
    if (!equalBytes(out.plaintext, m.plaintext)) throw new Error(`${what}: wrong plaintext`);
    seat.state = out.state;
    this.stats.reads++;
    if (m.scheme === "sender-ratchet" && this.rng.next() < 0.05) seat.pending.push({ message: m, due: step + 1, replay: true });
  }

  /**
   * A removed member that derives the secret of a later long-term epoch from the last MLS epoch
   * it knows (as if the owner had exported it before the removal) must still not read.
   */
  private async tryToDerive(seat: Seat, m: Message, what: string): Promise<void> {
    const s = seat.state;
    const guess = await deriveLongTermSecret(exporterOf(s.mls, s.provider), s.groupId, s.ciphersuite, m.ltEpoch);
    const ct = decodeSecretGroupMessage(m.bytes);
    if (ct.type !== "long-term") throw new Error(`${what}: not a long-term message`);
    await expectCode(async () => openLongTerm([guess], s.groupId, ct.ciphertext, m.aad), "DECRYPTION_FAILED", `${what} with a secret it derived itself`);
    this.stats.refusals++;
  }

  /** Every seat agrees with the owner and with the model. */
  private async check(): Promise<void> {
    const owner = this.owner.state;
    const expected = this.seats.map((s) => toHex(s.person.identity.publicKey)).sort().join(",");
    const exporter = toHex(await mlsExport(owner.mls, owner.provider, "churn model", 32));
    for (const seat of this.seats) {
      const s = seat.state;
      const name = seat.person.name;
      if (s.status !== "member") throw new Error(`${name} is ${s.status}, the model says member`);
      if (s.mlsEpoch !== this.mlsEpoch) throw new Error(`${name} at MLS epoch ${s.mlsEpoch}, the owner at ${this.mlsEpoch} (owner state ${owner.mlsEpoch})`);
      this.checkSecrets(seat);
      const members = groupMembers(s).map(toHex).sort().join(",");
      if (members !== expected) throw new Error(`${name} sees members ${members.split(",").length} that differ from the model ${this.seats.map((x) => x.person.name).join(",")}`);
      const mine = toHex(await mlsExport(s.mls, s.provider, "churn model", 32));
      if (mine !== exporter) throw new Error(`${name}'s exporter differs from the owner's`);
      this.stats.agreements++;
    }
    for (const seat of this.removed.slice(-REMOVED_WATCHED)) {
      if (seat.state.status !== "removed") throw new Error(`${seat.person.name} should be removed`);
      if (seat.state.mlsEpoch !== seat.removedAfter) throw new Error(`${seat.person.name} kept MLS epoch ${seat.state.mlsEpoch}, not ${seat.removedAfter}`);
      this.checkSecrets(seat);
    }
  }

  private checkSecrets(seat: Seat): void {
    const held = seat.state.secrets.map((x) => x.epoch).join(",");
    const model = [...seat.knownLt].sort((a, b) => (a < b ? -1 : 1)).join(",");
    if (held !== model) throw new Error(`${seat.person.name} holds long-term epochs [${held}], the model says [${model}]`);
  }

  summary(): string {
    return `members ${this.seats.map((s) => s.person.name).join(",")} mls ${this.mlsEpoch} lt ${this.ltLatest} removed ${this.removed.length} (${this.removed.slice(-3).map((s) => short(s.person.identity.publicKey)).join(",")})`;
  }
}

const { seeds, steps } = churnConfig({ seeds: [1, 2, 3, 4, 5], steps: 400 });
const total = newStats();

for (const seed of seeds) {
  test(`library churn model, seed ${seed}, ${steps} steps`, async (t) => {
    const stats = newStats();
    const started = Date.now();
    await runSeed("library", seed, steps, async (rng, history) => {
      const model = await LibraryModel.create(rng, history, stats);
      for (let step = 0; step < steps; step++) await model.step(step);
      t.diagnostic(model.summary());
    });
    for (const k of Object.keys(stats) as (keyof ChurnStats)[]) total[k] += stats[k];
    t.diagnostic(`seed ${seed}: ${JSON.stringify(stats)} in ${Date.now() - started} ms`);
  });
}

test("library churn model totals", () => {
  console.log(`library churn model: seeds ${seeds.join(",")} x ${steps} steps: ${JSON.stringify(total)}`);
});
