/**
 * The crash test's application (test/engine-crash.test.ts runs it in test/crash-child.ts and
 * kills it): a seeded script of steps over three engines (owner, alice, bob), the files it keeps
 * (the "network" it publishes to, its position, what each role has read), and the checks of the
 * end state. Every file write the application relies on is an fsync'ed append, so the files
 * hold exactly what was published or done before a kill.
 *
 * @module
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { SchemeName } from "../src/constants.js";
import { rng } from "./prng.js";

/** Highest MLS epoch a script reaches (the engine retains 16 past epochs). */
export const MAX_EPOCH = 15;

/** The three engines of the script. */
export const ROLES = ["owner", "alice", "bob"] as const;
/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** One step of the script; commit steps carry the owner's MLS epoch after them. */
export type Step =
  | { readonly kind: "keyPackage"; readonly who: Role }
  | { readonly kind: "create" }
  | { readonly kind: "add" | "remove"; readonly who: Role; readonly epoch: number }
  | { readonly kind: "update" | "rotate"; readonly epoch: number }
  | { readonly kind: "encrypt"; readonly who: Role; readonly scheme: SchemeName }
  | { readonly kind: "ingest" | "decrypt"; readonly who: Role };

/** What the child reads: the seed, the identities' secret keys, the steps. */
export interface Script {
  readonly seed: number;
  readonly secretKeys: Record<Role, string>;
  readonly nonceBlock: number;
  readonly steps: readonly Step[];
}

/**
 * A deterministic script: alice joins first, then `length` random steps of commits (bob added
 * and removed again and again, updates, rotations), encryptions by every member in both schemes,
 * ingests and decryptions. Commits stay below {@link MAX_EPOCH}, so every epoch's keys are still
 * retained at the end (the nonce check opens every message's sender data).
 */
export function makeScript(seed: number, length: number, secretKeys: Record<Role, string>): Script {
  const r = rng(seed);
  const steps: Step[] = [{ kind: "keyPackage", who: "alice" }, { kind: "create" }, { kind: "add", who: "alice", epoch: 1 }, { kind: "ingest", who: "alice" }];
  let epoch = 1;
  // bob: "out" (no key package), "ready" (key package published), "added" (not ingested yet), "in"
  let bob: "out" | "ready" | "added" | "in" = "out";
  // about a dozen commits whatever the length
  const commits = Math.min(0.2, 12 / length);
  while (steps.length < length) {
    const x = r.next() * (1 - 0.2 + commits) + 0.2 - commits;
    if (x < 0.2 && epoch < MAX_EPOCH) {
      const kinds: Step["kind"][] = ["update", "rotate"];
      if (bob === "ready") kinds.push("add", "add");
      if (bob === "in" || bob === "added") kinds.push("remove");
      const kind = r.pick(kinds);
      epoch++;
      if (kind === "add") {
        steps.push({ kind: "add", who: "bob", epoch });
        bob = "added";
      } else if (kind === "remove") {
        steps.push({ kind: "remove", who: "bob", epoch });
        bob = "out";
      } else {
        steps.push({ kind: kind as "update" | "rotate", epoch });
      }
    } else if (x < 0.25 && bob === "out") {
      steps.push({ kind: "keyPackage", who: "bob" });
      bob = "ready";
    } else if (x < 0.6) {
      const who = r.pick<Role>(bob === "in" ? ["owner", "alice", "bob"] : ["owner", "alice"]);
      steps.push({ kind: "encrypt", who, scheme: r.pick<SchemeName>(["long-term", "sender-ratchet"]) });
    } else if (x < 0.8) {
      const who = r.pick<Role>(["alice", "bob"]);
      steps.push({ kind: "ingest", who });
      if (who === "bob" && bob === "added") bob = "in";
    } else {
      steps.push({ kind: "decrypt", who: r.pick<Role>(bob === "in" ? ["owner", "alice", "bob"] : ["owner", "alice"]) });
    }
  }
  return { seed, secretKeys, nonceBlock: 3, steps };
}

/** One line of the network log: a created document, or a message, published during `step`. */
export interface Published {
  readonly step: number;
  readonly who: Role;
  readonly type: "document" | "message";
  readonly scheme?: SchemeName;
  readonly hex: string;
}

/** One line of a role's read log: the message (by the step that encrypted it) and its text. */
export interface ReadLine {
  readonly message: number;
  readonly text: string;
}

/** Paths of the application's files in the run folder `dir`. */
export const files = (dir: string) => ({
  script: join(dir, "script.json"),
  network: join(dir, "network.jsonl"),
  done: join(dir, "done.jsonl"),
  reads: (role: Role) => join(dir, `reads-${role}.jsonl`),
  replays: (role: Role) => join(dir, `replays-${role}.jsonl`),
  summary: join(dir, "summary.json"),
  engine: (role: Role) => join(dir, role),
});

/** Appends one JSON line and fsyncs it: on disk before the call returns. */
export function appendDurable(path: string, value: unknown): void {
  const fd = openSync(path, "a");
  try {
    writeSync(fd, JSON.stringify(value) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Every complete JSON line of `path` (none if it does not exist). */
export function readLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  const out: T[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.length === 0) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a torn last line (a machine crash, never a process kill) was not written
    }
  }
  return out;
}

/** Steps done so far (the next one to run). */
export function position(dir: string): number {
  return readLines<number>(files(dir).done).reduce((a, b) => Math.max(a, b + 1), 0);
}

/** What the final pass reports of one role. */
export interface RoleSummary {
  readonly status: string;
  readonly mlsEpoch: string;
  readonly ltsEpoch: string;
  readonly members: string[];
  /** Messages (by encrypting step) this role read, during the run or in the final pass. */
  readonly readable: number[];
  /** Messages whose sender-ratchet key this role had spent without the application keeping the text (seen during the run or in the final pass). */
  readonly replays: number[];
  readonly outboxLeft: number;
}

/** The final pass's report. */
export interface Summary {
  readonly roles: Record<Role, RoleSummary>;
  /** Distinct published documents by schema. */
  readonly documents: Record<string, number>;
  /** Distinct encrypting steps with a published message. */
  readonly messages: number[];
  /** `group/ltsEpoch/nonce` of every published long-term ciphertext. */
  readonly longTermNonces: string[];
  /** `group/epoch/leaf/generation` of every published sender-ratchet message. */
  readonly ratchetKeys: string[];
  /** Sender-ratchet messages whose sender data could not be opened (epoch not retained). */
  readonly unchecked: number;
}
