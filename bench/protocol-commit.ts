/**
 * Receiver cost of the protocol at 100 and 1000 members: `processCommit` of the owner's
 * update and rotation commits (MLS commit + secret list), and the size and encode/decode time
 * of the receiver's stored state. Runs on the "default" provider (baseline) and, when it is
 * available, on "node" (the same states, only the runtime provider differs).
 *
 * @module
 */
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import {
  addMembers,
  createGroup,
  decodeGroupState,
  encodeGroupState,
  joinGroup,
  processCommit,
  removeMembers,
  rotateLongTermSecret,
  updateGroup,
} from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { getSuite } from "../src/mls/suite.js";
import type { ProviderName } from "../src/mls/suite.js";
import { RETAIN_EPOCHS } from "../src/constants.js";
import type { Benchmark, BenchRow, Measurement } from "./registry.js";

/** Numbers measured for one group size. */
export interface ProtocolCommitNumbers {
  readonly members: number;
  /** Receiver processCommit of an update commit, ms (median), per provider. */
  readonly updateMs: Readonly<Partial<Record<ProviderName, number>>>;
  /** Receiver processCommit of a rotation commit, ms (median), per provider. */
  readonly rotateMs: Readonly<Partial<Record<ProviderName, number>>>;
  /** Receiver processCommit of a remove commit (rotates), ms (median), per provider. */
  readonly removeMs: Readonly<Partial<Record<ProviderName, number>>>;
  /** Owner's commit creation (update), ms, per provider. */
  readonly ownerUpdateMs: Readonly<Partial<Record<ProviderName, number>>>;
  /** Encoded receiver state after the commits, bytes. */
  readonly stateBytes: number;
  readonly encodeMs: number;
  readonly decodeMs: number;
  /** Time to build the group (setup, not a measurement of interest). */
  readonly setupMs: number;
  /** With `fillEpochs`: encoded receiver state once every retained past epoch is filled. */
  readonly fullRetention?: { readonly pastEpochs: number; readonly stateBytes: number; readonly encodeMs: number; readonly decodeMs: number };
}

async function medianMs(times: number, fn: () => Promise<unknown>): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await fn();
    runs.push(performance.now() - t0);
  }
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)] as number;
}

async function availableProviders(): Promise<ProviderName[]> {
  const out: ProviderName[] = ["default"];
  try {
    await getSuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", "node");
    out.push("node");
  } catch {
    // "node" provider not wired into src/mls/suite.ts yet
  }
  return out;
}

/**
 * Builds a group of `members` (owner plus one joined receiver; the others only exist in the
 * tree), then times the receiver's processCommit of update, rotation and remove commits.
 *
 * @example
 * ```ts
 * const n = await measureProtocolCommit(100, { repeat: 3 })
 * console.log(n.updateMs.default, n.stateBytes)
 * ```
 */
export async function measureProtocolCommit(
  members: number,
  options: { repeat?: number; log?: (line: string) => void; fillEpochs?: boolean } = {},
): Promise<ProtocolCommitNumbers> {
  const repeat = options.repeat ?? 3;
  const log = options.log ?? (() => {});
  const setupStart = performance.now();
  const owner = generateIdentity();
  const groupId = new Uint8Array(32).fill(members & 0xff);
  let ownerState = await createGroup({ identity: owner, groupId, ciphersuite: "PANDA10_AES256GCM" });
  const receiver = generateIdentity();
  const receiverKp = await createKeyPackage(receiver);
  const others: Identity[] = [];
  const packages: Uint8Array[] = [receiverKp.keyPackage];
  for (let i = 0; i < members - 2; i++) {
    const id = generateIdentity();
    others.push(id);
    packages.push((await createKeyPackage(id)).keyPackage);
  }
  log(`  ${members} members: key packages ready`);
  const added = await addMembers(ownerState, packages);
  ownerState = added.state;
  let receiverState: GroupState = await joinGroup({ identity: receiver, secret: receiverKp.secret, owner: owner.publicKey, commit: added.commit });
  const setupMs = performance.now() - setupStart;
  log(`  ${members} members: group built in ${setupMs.toFixed(0)} ms`);

  const providers = await availableProviders();
  const ownerUpdateMs: Partial<Record<ProviderName, number>> = {};
  for (const p of providers) ownerUpdateMs[p] = await medianMs(1, () => updateGroup({ ...ownerState, provider: p }));
  const update = await updateGroup(ownerState);
  const updateMs: Partial<Record<ProviderName, number>> = {};
  for (const p of providers) updateMs[p] = await medianMs(repeat, () => processCommit({ ...receiverState, provider: p }, update.commit));
  ownerState = update.state;
  receiverState = await processCommit(receiverState, update.commit);

  const rotate = await rotateLongTermSecret(ownerState);
  const rotateMs: Partial<Record<ProviderName, number>> = {};
  for (const p of providers) rotateMs[p] = await medianMs(repeat, () => processCommit({ ...receiverState, provider: p }, rotate.commit));
  ownerState = rotate.state;
  receiverState = await processCommit(receiverState, rotate.commit);

  const victim = others[others.length - 1];
  const removeMs: Partial<Record<ProviderName, number>> = {};
  if (victim !== undefined) {
    const removed = await removeMembers(ownerState, [victim.publicKey]);
    for (const p of providers) removeMs[p] = await medianMs(repeat, () => processCommit({ ...receiverState, provider: p }, removed.commit));
    ownerState = removed.state;
    receiverState = await processCommit(receiverState, removed.commit);
  }

  let bytes: Uint8Array = new Uint8Array(0);
  const encodeMs = await medianMs(repeat, async () => {
    bytes = encodeGroupState(receiverState);
  });
  const decodeMs = await medianMs(repeat, async () => {
    decodeGroupState(bytes);
  });
  const base = { members, updateMs, rotateMs, removeMs, ownerUpdateMs, stateBytes: bytes.length, encodeMs, decodeMs, setupMs };
  if (options.fillEpochs !== true) return base;
  // Steady state: RETAIN_EPOCHS past epochs kept, each with its own ratchet and secret tree.
  for (let i = 0; i < RETAIN_EPOCHS; i++) {
    const r = await updateGroup(ownerState);
    ownerState = r.state;
    receiverState = await processCommit(receiverState, r.commit);
  }
  let full: Uint8Array = new Uint8Array(0);
  const fullEncodeMs = await medianMs(repeat, async () => {
    full = encodeGroupState(receiverState);
  });
  const fullDecodeMs = await medianMs(repeat, async () => {
    decodeGroupState(full);
  });
  return {
    ...base,
    fullRetention: { pastEpochs: receiverState.mls.historicalReceiverData.size, stateBytes: full.length, encodeMs: fullEncodeMs, decodeMs: fullDecodeMs },
  };
}

function row(name: string, size: number, values: Partial<Record<ProviderName, number>>): BenchRow | undefined {
  const base = values.default;
  if (base === undefined) return undefined;
  const candidates: Measurement[] = values.node === undefined ? [] : [{ label: "node", ms: values.node }];
  return { case: name, size, baseline: { label: "default", ms: base }, candidates };
}

/**
 * `npm run bench` entry: receiver commit processing at 100 and 1000 members (10 and 50 with
 * `--quick`).
 *
 * @example
 * ```ts
 * const rows = await protocolCommitBenchmark.run({ quick: true, log: console.error })
 * ```
 */
export const protocolCommitBenchmark: Benchmark = {
  name: "protocol-commit",
  async run({ quick, log }) {
    const rows: BenchRow[] = [];
    for (const members of quick ? [10, 50] : [100, 1000]) {
      const n = await measureProtocolCommit(members, { repeat: quick ? 1 : 3, log });
      for (const r of [
        row("receiver processCommit (update)", members, n.updateMs),
        row("receiver processCommit (rotate)", members, n.rotateMs),
        row("receiver processCommit (remove+rotate)", members, n.removeMs),
      ]) {
        if (r !== undefined) rows.push(r);
      }
      const owner = row("owner updateGroup (creates the commit)", members, n.ownerUpdateMs);
      if (owner !== undefined) rows.push(owner);
      rows.push({ case: `encodeGroupState (${(n.stateBytes / 1024).toFixed(0)} KiB)`, size: members, baseline: { label: "default", ms: n.encodeMs }, candidates: [] });
      rows.push({ case: `decodeGroupState (${(n.stateBytes / 1024).toFixed(0)} KiB)`, size: members, baseline: { label: "default", ms: n.decodeMs }, candidates: [] });
      log(`  ${members} members: ${JSON.stringify(n, (_k, v) => (typeof v === "number" ? Math.round(v * 10) / 10 : v))}`);
    }
    return rows;
  },
};

// `node dist/bench/protocol-commit.js [members...]` prints the numbers directly.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n >= 2);
  for (const members of sizes.length > 0 ? sizes : [100, 1000]) {
    const n = await measureProtocolCommit(members, { log: (l) => console.error(l), fillEpochs: true });
    console.log(JSON.stringify(n, (_k, v) => (typeof v === "number" ? Math.round(v * 10) / 10 : v)));
  }
}
