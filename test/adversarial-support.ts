/**
 * Shared by the adversarial tests: a dump of every LevelDB entry of an engine's database (to
 * prove refused input changed nothing), and commits for groups the receiving node has never
 * seen (a stranger's flood).
 *
 * @module
 */
import { toHex } from "../src/bytes.js";
import { createGroup, updateGroup } from "../src/group/index.js";
import { generateIdentity } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import { secretGroupCommitDocument } from "../src/documents/index.js";
import { rawDb } from "./storage-support.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import type { EngineStore } from "../src/engine/store/store.js";
import { newGroupId } from "./group-fixtures.js";

/** Every entry of the database at `path` (closed), key -> hex value. @example `const before = await dumpDb(node.path)` */
export async function dumpDb(path: string): Promise<Map<string, string>> {
  const db = rawDb(path);
  const out = new Map<string, string>();
  for await (const [k, v] of db.iterator()) out.set(k, toHex(v));
  await db.close();
  return out;
}

/** Keys added, changed or removed between two dumps (only those starting with one of `only`, when given). @example `diffDb(before, after)` */
export function diffDb(a: Map<string, string>, b: Map<string, string>, only?: readonly string[]): string[] {
  const keep = (k: string): boolean => only === undefined || only.some((p) => k.startsWith(p));
  const out: string[] = [];
  for (const [k, v] of a) if (keep(k) && b.get(k) !== v) out.push(`${b.has(k) ? "changed" : "removed"} ${k}`);
  for (const k of b.keys()) if (keep(k) && !a.has(k)) out.push(`added ${k}`);
  return out;
}

/** Entries of a dump under a sublevel whose key (inside it) starts with `prefix`. @example `countDb(dump, "materialise", "q/")` */
export function countDb(dump: Map<string, string>, sublevel: string, prefix = ""): number {
  let n = 0;
  for (const k of dump.keys()) if (k.startsWith(`!${sublevel}!${prefix}`)) n++;
  return n;
}

/**
 * `count` valid SecretGroupCommit documents of fresh groups (a real MLS commit each), signed by
 * a stranger, whose `previous_commit` names a commit nobody has: a node buffers every one.
 *
 * @example
 * ```ts
 * const flood = await strangerCommits(10)
 * ```
 */
export async function strangerCommits(count: number, stranger: Identity = generateIdentity()): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const groupId = newGroupId();
    const state = await createGroup({ identity: stranger, groupId, ciphersuite: "PANDA10_AES128GCM" });
    const { parts } = await updateGroup(state);
    out.push(secretGroupCommitDocument(stranger, { secretGroup: groupId, previousCommit: newGroupId(), commit: parts }).bytes);
  }
  return out;
}

/**
 * Every entry of an open engine's database, `<sublevel>/<key>` -> hex, read through the engine's
 * own store (no close needed, so it can run after every case).
 *
 * @example
 * ```ts
 * const before = await liveDump(engine)
 * ```
 */
export async function liveDump(engine: unknown): Promise<Map<string, string>> {
  const store = (engine as { ctx: { store: EngineStore } }).ctx.store;
  const out = new Map<string, string>();
  for (const sub of Object.values(Sublevel)) {
    for await (const [k, v] of store.reader(sub).iterator({ gte: "", lt: "\uffff" })) out.set(`${sub}/${String(k)}`, toHex(v as Uint8Array));
  }
  return out;
}
