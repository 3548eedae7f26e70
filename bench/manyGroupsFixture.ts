/**
 * The many-groups scenario's input, built in a child process so that the measuring process's
 * peak RSS is the engine's (main thread, its workers, LevelDB) and not the fixture's: making
 * 10,000 groups of 3 and their documents leaves ~500 MiB of RSS behind in the process that
 * made them (freed heap is not returned to the system at once). The child opens an engine on
 * `<dir>/db`, makes the groups (bench/groupStream.ts), closes the engine and writes the engine's
 * identity, the shuffled stream in `chunks` files and each group's encrypted operation in
 * `chunks` files; the measuring process reads one chunk at a time.
 *
 *   node dist/bench/manyGroupsFixture.js <dir> <groups> <chunks>   (what buildManyGroupsFixture runs)
 *
 * @module
 */
import { fork } from "node:child_process";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Random } from "../src/cli/random.js";
import { identityFromSecretKey } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { benchPool, EngineNode } from "./fixtures.js";
import { packFramed, unpackFramed } from "./framed.js";
import { ownerOperation, threeMemberGroup } from "./groupStream.js";

/** A built fixture: where its files are and how many chunks each list has. @example `await fixture.stream(0)` */
export interface ManyGroupsFixture {
  /** The engine's database folder (the engine's published key packages). */
  readonly db: string;
  readonly identity: Identity;
  /** Documents in the stream (3 per group). */
  readonly documents: number;
  /** Chunks of the stream. */
  readonly chunks: number;
  /** Chunks of the operations (fewer than `chunks` with fewer groups than chunks). */
  readonly operationChunks: number;
  /** Chunk `i` of the shuffled document stream, read from its file. */
  stream(i: number): Promise<Uint8Array[]>;
  /** Chunk `i` of the groups' encrypted operations. */
  operations(i: number): Promise<Uint8Array[]>;
}

const split = <T>(items: readonly T[], chunks: number): T[][] => {
  const size = Math.ceil(items.length / Math.min(chunks, items.length));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

async function build(dir: string, groups: number, chunks: number, progress: (g: number) => void): Promise<void> {
  const pool = benchPool();
  try {
    const node = await EngineNode.open(pool);
    const docs: Uint8Array[] = [];
    const operations: Uint8Array[] = [];
    for (let g = 0; g < groups; g++) {
      if (g % 100 === 0) progress(g);
      const { owner, state, documents } = await threeMemberGroup(node);
      operations.push((await ownerOperation(owner, state, `operation of group ${g}`, g, "long-term")).doc.bytes);
      docs.push(...documents);
    }
    await node.engine.close();
    await rm(join(dir, "db"), { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await rename(node.path, join(dir, "db"));
    await writeFile(join(dir, "identity.bin"), node.identity.secretKey);
    const stream = split(new Random(groups).shuffle(docs), chunks);
    const ops = split(operations, chunks);
    for (const [i, c] of stream.entries()) await writeFile(join(dir, `stream-${i}.bin`), packFramed(c));
    for (const [i, c] of ops.entries()) await writeFile(join(dir, `operations-${i}.bin`), packFramed(c));
    await writeFile(join(dir, "fixture.json"), JSON.stringify({ groups, documents: docs.length, chunks: stream.length, operationChunks: ops.length }));
  } finally {
    await pool.destroy();
  }
}

/**
 * Builds the fixture of `groups` groups in a child process under `dir` (replaced) and opens it.
 *
 * @example
 * ```ts
 * const fixture = await buildManyGroupsFixture(dir, 10_000, 40, (g) => ctx.progress.phase(`writing group ${g}`))
 * ```
 */
export async function buildManyGroupsFixture(dir: string, groups: number, chunks: number, progress: (g: number) => void = () => {}): Promise<ManyGroupsFixture> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [dir, String(groups), String(chunks)], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    child.on("message", (m) => progress(Number(m)));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`fixture process exited with ${code}`))));
  });
  return openManyGroupsFixture(dir);
}

/**
 * Opens a fixture built earlier by {@link buildManyGroupsFixture} (its database used in place:
 * copy `db` first to ingest it more than once).
 *
 * @example
 * ```ts
 * const fixture = await openManyGroupsFixture("/tmp/mem6-fixture-10000")
 * ```
 */
export async function openManyGroupsFixture(dir: string): Promise<ManyGroupsFixture> {
  const meta = JSON.parse(await readFile(join(dir, "fixture.json"), "utf8")) as { documents: number; chunks: number; operationChunks: number };
  // copies: a chunk's documents must not keep its whole file buffer alive
  const read = async (name: string): Promise<Uint8Array[]> => unpackFramed(await readFile(join(dir, name))).map((b) => b.slice());
  return {
    db: join(dir, "db"),
    identity: identityFromSecretKey(await readFile(join(dir, "identity.bin"))),
    documents: meta.documents,
    chunks: meta.chunks,
    operationChunks: meta.operationChunks,
    stream: (i) => read(`stream-${i}.bin`),
    operations: (i) => read(`operations-${i}.bin`),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, groups, chunks] = process.argv.slice(2);
  await build(dir as string, Number(groups), Number(chunks), (g) => process.send?.(g));
}
