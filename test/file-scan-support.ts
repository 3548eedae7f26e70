/**
 * Searches every file under a folder for secrets: each secret raw, in lowercase and uppercase
 * hex, and in base64 and base64url at each of the three byte alignments it can have inside a
 * longer encoded buffer (the whole 3-byte groups of `secret[k..]`, k = 0..2). LevelDB compresses
 * table blocks with Snappy, which keeps incompressible bytes (keys, random plaintexts) as
 * literals, so a secret stored in the clear is found raw in a .log or .ldb file.
 *
 * @module
 */
import { copyFile, mkdir, readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** One secret to look for, named for the report. */
export interface Needle {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** A found secret: which, in which encoding, in which file. */
export interface Finding {
  readonly name: string;
  readonly encoding: string;
  readonly file: string;
}

/** The encodings of `bytes` searched for. @example `encodings(key).length // 10` */
export function encodings(bytes: Uint8Array): Array<[string, Buffer]> {
  const b = Buffer.from(bytes);
  const out: Array<[string, Buffer]> = [
    ["raw", b],
    ["hex", Buffer.from(b.toString("hex"), "latin1")],
    ["HEX", Buffer.from(b.toString("hex").toUpperCase(), "latin1")],
  ];
  for (let k = 0; k < 3; k++) {
    const whole = b.subarray(k, k + Math.floor((b.length - k) / 3) * 3);
    out.push([`base64@${k}`, Buffer.from(whole.toString("base64"), "latin1")], [`base64url@${k}`, Buffer.from(whole.toString("base64url"), "latin1")]);
  }
  return out;
}

async function files(folder: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) out.push(...(await files(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/**
 * Every needle found in any file under `folder` (any encoding).
 *
 * @example
 * ```ts
 * assert.deepEqual(await scanFolder(path, needles), [])
 * ```
 */
export async function scanFolder(folder: string, needles: readonly Needle[]): Promise<Finding[]> {
  const found: Finding[] = [];
  const forms = needles.flatMap((n) => encodings(n.bytes).map(([encoding, bytes]) => ({ name: n.name, encoding, bytes })));
  for (const file of await files(folder)) {
    const content = await readFile(file).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return Buffer.alloc(0); // gone meanwhile
      throw e;
    });
    for (const f of forms) if (content.includes(f.bytes)) found.push({ name: f.name, encoding: f.encoding, file: file.slice(folder.length + 1) });
  }
  return found;
}

/**
 * Copies a store folder as it is now (the engine may be open) for a later scan; a file that goes
 * meanwhile (the keyring's temporary file, a compacted table) is skipped.
 *
 * @example `await snapshot(node.path, copy)`
 */
export async function snapshot(folder: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const file of await files(folder)) {
    const target = join(to, file.slice(folder.length + 1));
    await mkdir(dirname(target), { recursive: true });
    await copyFile(file, target).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    });
  }
}

/** Number of files under `folder`. @example `await fileCount(path)` */
export async function fileCount(folder: string): Promise<number> {
  return (await files(folder)).length;
}
