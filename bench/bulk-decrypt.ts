/**
 * Bulk decryption, against baselines measured in the same run (DESIGN.md section 6).
 *
 * Library level (long-term scheme, PANDA10_AES256GCM, 16 B / 1 KiB / 64 KiB values): our full
 * `decrypt(state, message)` (decode the SecretGroupMessage, find the secret, AEAD open) and
 * `openLongTerm` on already decoded ciphertexts with the node and the noble backend, against raw
 * `node:crypto` (one `createDecipheriv` per message) and raw `@noble/ciphers` `gcm` on the same
 * keys, nonces and ciphertexts. Variants are interleaved (order rotated per repetition), median
 * of 3. Ratios are baseline ms / candidate ms: below 1 against raw node:crypto is the cost of
 * our framing, above 1 against noble is the speed-up of the node backend.
 *
 * Engine level: a group built through engines exchanging documents (owner engine createGroup,
 * members publishKeyPackage, owner addMembers, members ingest; one member is a bare library
 * state that joins from the commit document). Long-term: 10,000 x 1 KiB messages (written by
 * the library member) bulk-decrypted by member engines with 1 and 2 worker threads, in one
 * group and split over two groups, against the bare library `decrypt` loop over the same
 * messages. Sender-ratchet: 1,000 x 1 KiB written by the owner engine, bulk-decrypted once by
 * each member engine (keys are consumed), against the library loop and raw ts-mls
 * `processMessage` on the library member's state (immutable, so repeatable). Also measured in
 * the main thread: the parts of the engine's cost that are not decryption (peeking every
 * header, structured-cloning the batch to the worker and the plaintexts back).
 *
 * Throughput labels: MB = 10^6 bytes of plaintext. Engine labels add process CPU time (all
 * threads). Run alone: `node dist/bench/run.js --only bulk-decrypt [--quick]`.
 *
 * @module
 */
import { createDecipheriv, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gcm } from "@noble/ciphers/aes.js";
import { equalBytes } from "../src/bytes.js";
import { encodeSecretGroupCommit } from "../src/commit.js";
import { decodeDocument, keyPackageDocument, readSecretGroupCommit, SchemaId } from "../src/documents/index.js";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { createGroup, decrypt, encrypt, joinGroup, peekMessage } from "../src/group/index.js";
import type { GroupState } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { createKeyPackage } from "../src/keyPackage.js";
import { nobleAead, nodeAead } from "../src/lts/aead.js";
import type { LongTermSecretCiphertext } from "../src/lts/ciphertext.js";
import { openLongTerm, sealLongTerm } from "../src/lts/encrypt.js";
import { decodeSecretGroupMessage, encodeSecretGroupMessage } from "../src/message.js";
import { open as tsMlsOpen, suiteImpl } from "./mlsHarness.js";
import { timedCpu, type Benchmark, type BenchOptions, type BenchRow, type Measurement } from "./registry.js";

const SUITE = "PANDA10_AES256GCM" as const;
const TAG = 16;

interface Timing {
  ms: number[];
  cpu: number[];
}

const medianOf = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** "12.3k msg/s, 45 MB/s" for `n` messages of `size` bytes in `ms`. */
function rate(ms: number, n: number, size: number): string {
  const perS = (n / ms) * 1000;
  const mbs = (n * size) / ms / 1000;
  const msgs = perS >= 1e5 ? `${(perS / 1e3).toFixed(0)}k` : perS >= 1e3 ? `${(perS / 1e3).toFixed(1)}k` : perS.toFixed(0);
  return `${msgs} msg/s, ${mbs >= 100 ? mbs.toFixed(0) : mbs.toFixed(1)} MB/s`;
}

function measured(name: string, t: Timing, n: number, size: number, withCpu = false): Measurement {
  const ms = medianOf(t.ms);
  const cpu = withCpu ? `, cpu ${medianOf(t.cpu).toFixed(0)} ms` : "";
  return { label: `${name}: ${rate(ms, n, size)}${cpu}`, ms };
}

/** Runs each variant `reps` times, rotating which goes first; every run must return `expect` bytes. */
async function interleave(variants: Record<string, () => Promise<number> | number>, reps: number, expect: number): Promise<Record<string, Timing>> {
  const names = Object.keys(variants);
  const out: Record<string, Timing> = Object.fromEntries(names.map((n) => [n, { ms: [], cpu: [] }]));
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + r) % names.length] as string;
      const { ms, cpuMs, value } = await timedCpu(variants[name] as () => Promise<number> | number);
      if (value !== expect) throw new Error(`${name} returned ${value} plaintext bytes, expected ${expect}`);
      (out[name] as Timing).ms.push(ms);
      (out[name] as Timing).cpu.push(cpuMs);
    }
  }
  return out;
}

// ---------------------------------------------------------------- library level

async function libraryRows(size: number, n: number, reps: number, log: BenchOptions["log"]): Promise<BenchRow[]> {
  const owner = generateIdentity();
  const state = await createGroup({ identity: owner, groupId: new Uint8Array(randomBytes(32)), ciphersuite: SUITE });
  const secret = state.secrets.at(-1)!;
  const plaintext = new Uint8Array(randomBytes(size));
  // random nonces: how a nonce was derived does not change decryption, and deriving 20,000
  // through the MLS exporter would dominate the setup
  const cts: LongTermSecretCiphertext[] = [];
  const messages: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const ct = sealLongTerm(secret, new Uint8Array(randomBytes(12)), plaintext);
    cts.push(ct);
    messages.push(encodeSecretGroupMessage({ type: "long-term", ciphertext: ct }));
  }
  // one message through the real encrypt path, so the decrypt variants read what encrypt writes
  const real = await encrypt(state, plaintext, { scheme: "long-term" });
  messages[0] = real.message;
  const first = decodeSecretGroupMessage(real.message);
  if (first.type !== "long-term") throw new Error("encrypt wrote a non long-term message");
  cts[0] = first.ciphertext;
  if (!equalBytes((await decrypt(state, real.message)).plaintext, plaintext)) throw new Error("round trip failed");

  const key = secret.value;
  const aad = state.groupId; // AEAD associated data = group_id || aad, aad empty
  const nonces = cts.map((c) => c.nonce);
  const bodies = cts.map((c) => c.ciphertext.subarray(0, c.ciphertext.length - TAG));
  const tags = cts.map((c) => c.ciphertext.subarray(c.ciphertext.length - TAG));
  const whole = cts.map((c) => c.ciphertext);
  const expect = n * size;
  log(`  bulk-decrypt: ${n} x ${size} B`);
  const t = await interleave(
    {
      rawNode: () => {
        let bytes = 0;
        for (let i = 0; i < n; i++) {
          const d = createDecipheriv("aes-256-gcm", key, nonces[i] as Uint8Array, { authTagLength: TAG });
          d.setAuthTag(tags[i] as Uint8Array);
          d.setAAD(aad);
          bytes += d.update(bodies[i] as Uint8Array).length + d.final().length;
        }
        return bytes;
      },
      rawNoble: () => {
        let bytes = 0;
        for (let i = 0; i < n; i++) bytes += gcm(key, nonces[i] as Uint8Array, aad).decrypt(whole[i] as Uint8Array).length;
        return bytes;
      },
      openNode: () => {
        let bytes = 0;
        for (const ct of cts) bytes += openLongTerm(state.secrets, state.groupId, ct, undefined, nodeAead).length;
        return bytes;
      },
      openNoble: () => {
        let bytes = 0;
        for (const ct of cts) bytes += openLongTerm(state.secrets, state.groupId, ct, undefined, nobleAead).length;
        return bytes;
      },
      decrypt: async () => {
        let bytes = 0;
        for (const m of messages) bytes += (await decrypt(state, m)).plaintext.length;
        return bytes;
      },
      decodeOnly: () => {
        let count = 0;
        for (const m of messages) count += decodeSecretGroupMessage(m).type === "long-term" ? size : 0;
        return count;
      },
    },
    reps,
    expect,
  );
  const m = (name: string, key: string) => measured(name, t[key] as Timing, n, size);
  const what = `long-term decrypt ${n} x ${size} B`;
  const full = m("decrypt(state, msg)", "decrypt");
  return [
    { case: `${what}: our framing vs raw`, size, baseline: m("raw node:crypto", "rawNode"), candidates: [m("openLongTerm node", "openNode"), full] },
    { case: `${what}: node vs noble`, size, baseline: m("openLongTerm noble", "openNoble"), candidates: [m("openLongTerm node", "openNode")] },
    { case: `${what}: node vs noble (raw)`, size, baseline: m("raw noble gcm", "rawNoble"), candidates: [m("raw node:crypto", "rawNode")] },
    { case: `${what}: part of decrypt()`, size, baseline: full, candidates: [share("decode SecretGroupMessage", t.decodeOnly as Timing, full.ms)] },
  ];
}

function share(name: string, t: Timing, totalMs: number): Measurement {
  const ms = medianOf(t.ms);
  return { label: `${name}: ${((ms / totalMs) * 100).toFixed(0)}% of baseline`, ms };
}

// ---------------------------------------------------------------- engine level

interface Node {
  readonly identity: Identity;
  readonly engine: SecretGroupEngine;
}

interface EngineWorld {
  readonly owner: Node;
  readonly members: readonly Node[]; // threads 1, threads 2
  readonly lib: Identity;
}

const createdDirs: string[] = [];

/**
 * Every temporary engine folder this process's runs created (all removed when a run ends),
 * so a test can check the clean-up without guessing at other processes' folders.
 *
 * @example
 * ```ts
 * for (const dir of bulkDecryptDirs()) assert.equal(existsSync(dir), false)
 * ```
 */
export function bulkDecryptDirs(): readonly string[] {
  return [...createdDirs];
}

async function openNode(dirs: string[], threads: number): Promise<Node> {
  const path = await mkdtemp(join(tmpdir(), "sg-bench-bulk-"));
  dirs.push(path);
  createdDirs.push(path);
  const identity = generateIdentity();
  return { identity, engine: await SecretGroupEngine.open({ path, identity, threads }) };
}

/** One group through engines and documents; returns its id and the library member's state. */
async function buildGroup(w: EngineWorld): Promise<{ gid: Uint8Array; lib: GroupState }> {
  const created = await w.owner.engine.createGroup({ ciphersuite: SUITE });
  const gid = created.groupId as Uint8Array;
  const kps: Uint8Array[] = [];
  for (const m of w.members) kps.push(...(await m.engine.publishKeyPackage()).documents);
  const libKp = await createKeyPackage(w.lib);
  kps.push(keyPackageDocument(w.lib, { keyPackage: libKp.keyPackage }).bytes);
  const added = await w.owner.engine.addMembers(gid, kps);
  const all = [...created.documents, ...kps, ...added.documents];
  for (const m of w.members) {
    await m.engine.ingest(all);
    if ((await m.engine.status(gid)) !== "member") throw new Error("member engine did not join");
  }
  const commitDoc = added.documents.map((b) => decodeDocument(b)).find((d) => d.schema === SchemaId.SecretGroupCommit);
  if (commitDoc === undefined) throw new Error("addMembers published no commit document");
  const commit = encodeSecretGroupCommit(readSecretGroupCommit(commitDoc).commit);
  const lib = await joinGroup({ identity: w.lib, secret: libKp.secret, owner: w.owner.identity.publicKey, commit });
  return { gid, lib };
}

async function libWrite(state: GroupState, n: number, plaintext: Uint8Array): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  let s = state;
  for (let i = 0; i < n; i++) {
    const r = await encrypt(s, plaintext, { scheme: "long-term" });
    s = r.state;
    out.push(r.message);
  }
  return out;
}

/** Per engine, what each timed `decrypt` call spent in the worker and in the store (engine.stats() deltas). */
const inside = new Map<SecretGroupEngine, { work: number[]; persist: number[] }>();

async function engineDecrypt(engine: SecretGroupEngine, messages: readonly Uint8Array[]): Promise<number> {
  const before = engine.stats();
  let bytes = 0;
  for (const r of await engine.decrypt(messages)) {
    if (r instanceof Error) throw r;
    bytes += r.length;
  }
  const after = engine.stats();
  if (after.workerMisses !== before.workerMisses) throw new Error("the worker lost its cached state during a timed run");
  const log = inside.get(engine) ?? { work: [], persist: [] };
  log.work.push(after.workMs - before.workMs);
  log.persist.push(after.persistMs + after.stageMs - before.persistMs - before.stageMs);
  inside.set(engine, log);
  return bytes;
}

/**
 * Median worker / store time of `engine`'s timed runs since the last call, as shares of
 * `totalMs`; resets. The engine times only worker tasks that change the state, so this is
 * empty for long-term decryption (whose worker part is the library loop itself).
 */
function insideParts(engine: SecretGroupEngine, totalMs: number): Measurement[] {
  const log = inside.get(engine) ?? { work: [], persist: [] };
  inside.delete(engine);
  return [
    share("worker task: library decrypt loop (stats.workMs)", { ms: log.work, cpu: [] }, totalMs),
    share("stage + persist state (stats)", { ms: log.persist, cpu: [] }, totalMs),
  ];
}

async function engineRows(quick: boolean, log: BenchOptions["log"]): Promise<BenchRow[]> {
  const n = quick ? 500 : 10_000;
  const nSr = quick ? 50 : 1_000;
  const reps = quick ? 1 : 5; // engine runs are short and noisy on a shared machine: median of 5
  const size = 1024;
  const plaintext = new Uint8Array(randomBytes(size));
  const dirs: string[] = [];
  const nodes: Node[] = [];
  try {
    const owner = await openNode(dirs, 1);
    nodes.push(owner);
    const members = [await openNode(dirs, 1), await openNode(dirs, 2)];
    nodes.push(...members);
    const w: EngineWorld = { owner, members, lib: generateIdentity() };
    log("  bulk-decrypt: building two groups through engines");
    const a = await buildGroup(w);
    const b = await buildGroup(w);
    log(`  bulk-decrypt: writing ${n} + ${n} long-term and ${nSr} sender-ratchet messages`);
    const inA = await libWrite(a.lib, n, plaintext);
    const half = [...(await libWrite(a.lib, n / 2, plaintext)), ...(await libWrite(b.lib, n / 2, plaintext))];
    const srWarm: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) srWarm.push(await owner.engine.encrypt(a.gid, plaintext, { scheme: "sender-ratchet" }));
    const sr: Uint8Array[] = [];
    for (let i = 0; i < nSr; i++) sr.push(await owner.engine.encrypt(a.gid, plaintext, { scheme: "sender-ratchet" }));
    // warm up (untimed): hydrate the actors and the workers' cached states, and let every
    // reader (library state included) read the first 50 sender-ratchet messages in order
    for (const m of members) await engineDecrypt(m.engine, [inA[0] as Uint8Array, half.at(-1) as Uint8Array, ...srWarm]);
    let srStart = a.lib;
    for (const m of srWarm) srStart = (await decrypt(srStart, m)).state;

    // which state reads which message is settled before timing: the bare loop knows its group
    const stateOf = new Map<Uint8Array, GroupState>([...inA, ...half].map((m) => [m, equalBytes(peekMessage(m).groupId, a.gid) ? a.lib : b.lib]));
    const libLoop = async (msgs: readonly Uint8Array[]): Promise<number> => {
      let bytes = 0;
      for (const m of msgs) bytes += (await decrypt(stateOf.get(m) as GroupState, m)).plaintext.length;
      return bytes;
    };
    const [t1, t2] = members as [Node, Node];
    log(`  bulk-decrypt: engines, ${n} long-term messages, one group and two groups`);
    inside.clear();
    const one = await interleave({ lib: () => libLoop(inA), t1: () => engineDecrypt(t1.engine, inA), t2: () => engineDecrypt(t2.engine, inA) }, reps, n * size);
    inside.clear();
    const two = await interleave({ lib: () => libLoop(half), t1: () => engineDecrypt(t1.engine, half), t2: () => engineDecrypt(t2.engine, half) }, reps, n * size);

    log(`  bulk-decrypt: ${nSr} sender-ratchet messages`);
    const cs = await suiteImpl("node", a.lib.mls.groupContext.cipherSuite);
    const mlsBytes = sr.map((m) => {
      const d = decodeSecretGroupMessage(m);
      if (d.type !== "mls") throw new Error("expected a sender-ratchet message");
      return d.mlsMessage;
    });
    const srLib = await interleave(
      {
        lib: async () => {
          let s = srStart; // immutable: every repetition starts from the same unread keys
          let bytes = 0;
          for (const m of sr) {
            const r = await decrypt(s, m);
            s = r.state;
            bytes += r.plaintext.length;
          }
          return bytes;
        },
        tsmls: async () => {
          let s = srStart.mls;
          let bytes = 0;
          for (const m of mlsBytes) {
            const r = await tsMlsOpen(cs, s, m);
            s = r.state;
            bytes += r.plaintext.length;
          }
          return bytes;
        },
      },
      reps,
      nSr * size,
    );
    // an engine reads a sender-ratchet message once (the key is deleted): one run per engine
    inside.clear();
    const srEngine = await interleave({ t1: () => engineDecrypt(t1.engine, sr), t2: () => engineDecrypt(t2.engine, sr) }, 1, nSr * size);
    const srInside = insideParts(t1.engine, medianOf((srEngine.t1 as Timing).ms));

    const m = (name: string, t: Timing, count: number, cpu = true) => measured(name, t, count, size, cpu);
    const libOne = m("library loop", one.lib as Timing, n);
    const engT1 = m("engine threads 1", one.t1 as Timing, n);
    return [
      { case: `engine decrypt ${n} x 1 KiB long-term, 1 group`, size, baseline: libOne, candidates: [engT1, m("engine threads 2", one.t2 as Timing, n)] },
      {
        case: `engine decrypt ${n} x 1 KiB long-term, 2 groups`,
        size,
        baseline: m("library loop", two.lib as Timing, n),
        candidates: [m("engine threads 1", two.t1 as Timing, n), m("engine threads 2", two.t2 as Timing, n)],
      },
      {
        case: `decrypt ${nSr} x 1 KiB sender-ratchet`,
        size,
        baseline: m("raw ts-mls processMessage", srLib.tsmls as Timing, nSr),
        candidates: [m("library loop", srLib.lib as Timing, nSr)],
      },
      {
        case: `engine decrypt ${nSr} x 1 KiB sender-ratchet (once)`,
        size,
        baseline: m("library loop", srLib.lib as Timing, nSr),
        candidates: [m("engine threads 1", srEngine.t1 as Timing, nSr), m("engine threads 2", srEngine.t2 as Timing, nSr)],
      },
      {
        case: `engine ${nSr} x 1 KiB sender-ratchet, threads 1: parts`,
        size,
        baseline: m("engine threads 1", srEngine.t1 as Timing, nSr),
        candidates: srInside,
      },
    ];
  } finally {
    // remove the folders even when an engine fails to close; then report that failure
    const closed = await Promise.allSettled(nodes.map((node) => node.engine.close()));
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    const failed = closed.find((c): c is PromiseRejectedResult => c.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }
}

/**
 * The bulk-decryption benchmark: library level (long-term, three sizes) and engine level.
 *
 * @example
 * ```ts
 * const rows = await bulkDecryptBenchmark.run({ quick: true, log: console.error })
 * ```
 */
export const bulkDecryptBenchmark: Benchmark = {
  name: "bulk-decrypt",
  async run({ quick, log }) {
    // [value size, messages]: noble needs about 6 ms per 64 KiB message, hence fewer of those
    const cases: ReadonlyArray<readonly [number, number]> = quick ? [[16, 200], [1024, 200], [65536, 20]] : [[16, 20_000], [1024, 20_000], [65536, 1_000]];
    const reps = quick ? 1 : 3;
    const rows: BenchRow[] = [];
    for (const [size, n] of cases) rows.push(...(await libraryRows(size, n, reps, log)));
    rows.push(...(await engineRows(quick, log)));
    return rows;
  },
};
