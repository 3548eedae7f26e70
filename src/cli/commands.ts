/**
 * The actions behind each `secret-group` command. Output goes to stdout (tables, or JSON with
 * `--json`); progress goes to stderr and only on a terminal.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import cliProgress from "cli-progress";
import Table from "cli-table3";
import { toHex } from "../bytes.js";
import { SecretGroupEngine } from "../engine/engine.js";
import { IngestRefusedError } from "../engine/ingest.js";
import type { IngestReport } from "../engine/ingest.js";
import { runVectorsCommand } from "./vectors.js";
import { ErrorCode, UsageError } from "../errors.js";
import type { Identity } from "../identity.js";
import { StreamFormat, readDocumentStream, writeDocumentStream } from "./documentStream.js";
import { decodeDocument } from "../documents/index.js";
import { loadOrCreateIdentity, readIdentityFile, writeIdentityFile } from "./identityFile.js";
import { runSimulation } from "./simulate.js";
import { checkSimulation } from "./simulationCheck.js";
import type { SimulationSummary } from "./simulate.js";
import { generateIdentity } from "../identity.js";

/** Tables without colour codes when stdout is not a terminal (files, pipes, CI logs). */
const tableStyle = (): { style: { head: string[]; border: string[] } } | Record<string, never> =>
  process.stdout.isTTY ? {} : { style: { head: [], border: [] } };
const out = (text: string): void => void process.stdout.write(text.endsWith("\n") ? text : text + "\n");
const json = (value: unknown): void => out(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? toHex(v) : v)));

async function openNode(options: { data: string; identity?: string }, create: boolean): Promise<{ engine: SecretGroupEngine; identity: Identity }> {
  const identityPath = options.identity ?? join(options.data, "identity.json");
  const identity =
    options.identity !== undefined || !create ? await readIdentityFile(identityPath) : (await loadOrCreateIdentity(identityPath)).identity;
  const engine = await SecretGroupEngine.open({ path: join(options.data, "db"), identity });
  return { engine, identity };
}

/** `secret-group simulate`. @example `await simulateCommand({ data: "./data", identities: 8, groups: 4, members: 4, messages: 2, seed: 1 })` */
export async function simulateCommand(options: {
  data: string;
  identities: number;
  groups: number;
  members: number;
  messages: number;
  seed: number;
  threads?: number;
  json?: boolean;
}): Promise<void> {
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({ format: "simulate [{bar}] {percentage}% {value}/{total} {phase}", stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  const summary = await runSimulation(
    {
      dataDir: join(options.data, "simulate"),
      identities: options.identities,
      groups: options.groups,
      members: options.members,
      messages: options.messages,
      seed: options.seed,
      ...(options.threads === undefined ? {} : { threads: options.threads }),
    },
    bar && {
      start: (total) => bar.start(total, 0, { phase: "" }),
      tick: (done, phase) => bar.update(done, { phase }),
    },
  );
  bar?.stop();
  if (options.json) json(summary);
  else out(summaryTable(summary));
  // the run checks itself: a member that cannot read, a non-member that can, a wrong plaintext,
  // a node that missed a commit
  checkSimulation(summary);
}

function summaryTable(s: SimulationSummary): string {
  const table = new Table({ head: ["simulation", "value"], ...tableStyle() });
  const codes = (record: Record<string, number>) =>
    Object.entries(record)
      .map(([code, n]) => `${code} ${n}`)
      .join(", ") || "none";
  table.push(
    ["identities", s.identities],
    ["groups", s.groups],
    ["members (owners included)", s.members],
    ["commits", s.commits],
    ["documents published", s.documents],
    ["deliveries (shuffled)", s.deliveries],
    ["operations long-term / sender-ratchet", `${s.messages["long-term"]} / ${s.messages["sender-ratchet"]}`],
    ["commits indexed by every node", `${s.indexedCommits} of ${s.commits}`],
    ...(["long-term", "sender-ratchet"] as const).flatMap((scheme) => {
      const t = s.schemes[scheme];
      return [
        [`${scheme}: readable by the protocol`, t.readable],
        [`${scheme}: read (no decrypt call)`, t.read],
        [`${scheme}: missing`, `${t.missing}${t.missing > 0 ? ` (${codes(t.missingBy)})` : ""}`],
        [`${scheme}: unreadable by reason`, codes(t.unreadable)],
      ];
    }),
    ["wrong values", s.mismatched],
    ["read by non-members", s.leaked],
    ["refused documents", `${s.refused} (${codes(s.refusedByCode)})`],
    ["time", `${s.seconds} s`],
  );
  return table.toString();
}

/** `secret-group ingest <file>`. @example `await ingestCommand("docs.cbor", { data: "./data" })` */
export async function ingestCommand(file: string, options: { data: string; identity?: string; json?: boolean }): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch {
    throw new UsageError(ErrorCode.InvalidArgument, `cannot read ${file}`);
  }
  const documents = readDocumentStream(bytes);
  const { engine } = await openNode(options, true);
  let report: IngestReport;
  let refused: { index: number; code: string; message: string }[] = [];
  try {
    try {
      report = await engine.ingest(documents);
    } catch (e) {
      if (!(e instanceof IngestRefusedError)) throw e;
      report = e.report;
      refused = e.refused.map((r) => ({ index: r.index, code: r.error.code, message: r.error.message }));
    }
  } finally {
    await engine.close();
  }
  const counts: Record<string, number> = {};
  for (const outcome of report.outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
  if (options.json) json({ documents: documents.length, ...counts, refused });
  else {
    out(`${documents.length} documents: ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ") || "none"}`);
    for (const r of refused) out(`  refused #${r.index + 1}: ${r.message} (${r.code})`);
  }
  if (refused.length > 0) process.exitCode = 2;
}

/** `secret-group inspect --operation <id>`: one operation as the engine materialised it. */
async function inspectOperation(engine: SecretGroupEngine, id: string, asJson: boolean): Promise<void> {
  const view = await engine.read(id);
  if (view === null) throw new UsageError(ErrorCode.InvalidArgument, `unknown operation ${id}`);
  const errors = Object.fromEntries(Object.entries(view.errors).map(([name, e]) => [name, { code: e.code, message: e.message }]));
  if (asJson) return json({ ...view, errors });
  const show = (v: unknown): string => (v instanceof Uint8Array ? `<${v.length} bytes> ${toHex(v).slice(0, 32)}${v.length > 16 ? "..." : ""}` : JSON.stringify(v));
  const table = new Table({ ...tableStyle() });
  table.push(
    { operation: toHex(view.operationId) },
    { document: toHex(view.documentId) },
    { group: view.groupId === null ? "none (nothing encrypted)" : toHex(view.groupId) },
    { schema: view.schema },
    { author: toHex(view.author) },
    ...Object.entries(view.fields).map(([name, v]) => ({
      [`field ${name}`]: view.pending.includes(name) ? `pending: ${show(v)}` : errors[name] !== undefined ? `${errors[name].code}: ${show(v)}` : show(v),
    })),
  );
  out(table.toString());
}

/** `secret-group inspect [groupId] [--operation id]`. @example `await inspectCommand(undefined, { data: "./data" })` */
export async function inspectCommand(groupId: string | undefined, options: { data: string; identity?: string; json?: boolean; operation?: string }): Promise<void> {
  const { engine } = await openNode(options, false);
  try {
    if (options.operation !== undefined) return await inspectOperation(engine, options.operation, options.json === true);
    const groups = groupId === undefined ? await engine.groups() : [await engine.describe(groupId)];
    const withHistory = await Promise.all(groups.map(async (g) => ({ ...g, history: await engine.history(g.groupId) })));
    if (options.json) return json(withHistory);
    if (withHistory.length === 0) return out("no groups");
    for (const g of withHistory) {
      const table = new Table({ ...tableStyle() });
      table.push(
        { group: toHex(g.groupId) },
        { status: g.status },
        { owner: g.owner === undefined ? "unknown" : toHex(g.owner) },
        { ciphersuite: g.ciphersuite ?? "unknown" },
        { "mls epoch": g.mlsEpoch.toString() },
        { "long-term epoch": g.ltsEpoch.toString() },
        { members: g.members.map((m) => toHex(m)).join("\n") || "unknown" },
      );
      out(table.toString());
      if (g.history.length > 0) {
        const history = new Table({ head: ["epoch", "kind", "commit", "added", "removed"], ...tableStyle() });
        for (const h of g.history) {
          history.push([h.epoch.toString(), h.kind, toHex(h.commitId).slice(0, 16), h.added.map((k) => toHex(k).slice(0, 16)).join("\n"), h.removed.map((k) => toHex(k).slice(0, 16)).join("\n")]);
        }
        out(history.toString());
      }
    }
  } finally {
    await engine.close();
  }
}

/**
 * `secret-group outbox [--out file] [--acknowledge]`: the documents this node created and has not
 * acknowledged as published (newline-delimited base64, what `ingest` reads), to stdout or a
 * file; `--acknowledge` removes them from the outbox once they are written.
 *
 * @example
 * ```ts
 * await outboxCommand({ data: "./data", out: "publish.b64", acknowledge: true })
 * ```
 */
export async function outboxCommand(options: { data: string; identity?: string; out?: string; acknowledge?: boolean; json?: boolean }): Promise<void> {
  const { engine } = await openNode(options, false);
  try {
    const docs = await engine.outbox();
    const stream = writeDocumentStream(docs, StreamFormat.Base64Lines);
    if (options.out !== undefined) {
      try {
        await writeFile(options.out, stream);
      } catch {
        throw new UsageError(ErrorCode.InvalidArgument, `cannot write ${options.out}`);
      }
    }
    const ids = docs.map((d) => decodeDocument(d).id);
    if (options.json) json({ documents: docs.map((d, i) => ({ id: ids[i], schema: decodeDocument(d).schema })), acknowledged: options.acknowledge === true, ...(options.out === undefined ? { base64: new TextDecoder().decode(stream) } : {}) });
    else if (options.out === undefined) process.stdout.write(stream);
    else out(`${docs.length} documents written to ${options.out}`);
    // only once they are written out: a crash before this leaves them in the outbox
    if (options.acknowledge === true) await engine.acknowledge(ids);
  } finally {
    await engine.close();
  }
}

/** `secret-group keygen`. @example `await keygenCommand({ out: "./id.json" })` */
export async function keygenCommand(options: { out: string; json?: boolean }): Promise<void> {
  const identity = generateIdentity();
  try {
    await writeIdentityFile(options.out, identity);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new UsageError(ErrorCode.InvalidArgument, `${options.out} exists already`);
    throw new UsageError(ErrorCode.InvalidArgument, `cannot write ${options.out}`);
  }
  if (options.json) json({ publicKey: identity.publicKey, file: options.out });
  else out(`${toHex(identity.publicKey)} written to ${options.out}`);
}

/** `secret-group vectors <file>`. @example `await vectorsCommand("passive-client-welcome.json", {})` */
export async function vectorsCommand(file: string, options: { threads?: number }): Promise<void> {
  const failed = await runVectorsCommand(file, { out: process.stdout, ...(options.threads === undefined ? {} : { threads: options.threads }) });
  if (failed > 0) process.exitCode = 1;
}

/**
 * `secret-group bench [--full] [suite options]`: runs the benchmark suite. The suite lives in
 * `bench/` of a repository checkout and uses development dependencies (tinybench), so it is not
 * part of the published package: it is loaded here only when present, by a computed path.
 *
 * @example
 * ```ts
 * await benchCommand(["--only", "bulk"])
 * ```
 */
export async function benchCommand(args: readonly string[]): Promise<void> {
  const runner = new URL("../../bench/run.js", import.meta.url);
  if (!existsSync(fileURLToPath(runner))) {
    throw new UsageError(
      ErrorCode.InvalidArgument,
      "the benchmark suite is not part of the published package: in a clone of the repository run `npm ci && npm run bench` (or `npm run build` then `secret-group bench`)",
    );
  }
  const suite = (await import(runner.href)) as { main(argv: readonly string[]): Promise<number> };
  process.exitCode = await suite.main(args);
}
