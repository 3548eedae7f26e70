/**
 * The node identity file: a p2panda Ed25519 key pair, stored as versioned JSON with owner-only
 * permissions. The CLI creates one in the data folder when none is given.
 *
 * @module
 */
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fromHex, toHex } from "../bytes.js";
import { ErrorCode, UsageError } from "../errors.js";
import type { Identity } from "../identity.js";
import { assertIdentity, generateIdentity } from "../identity.js";

const FORMAT = "secret-group-identity";
const VERSION = 1;

/**
 * Reads and checks an identity file: the public key must belong to the secret key.
 *
 * @example
 * ```ts
 * const identity = await readIdentityFile("./data/identity.json")
 * ```
 */
export async function readIdentityFile(path: string): Promise<Identity> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new UsageError(ErrorCode.InvalidArgument, `cannot read identity file ${path}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(ErrorCode.InvalidArgument, `identity file ${path} is not JSON`);
  }
  const record = parsed as { format?: unknown; version?: unknown; publicKey?: unknown; secretKey?: unknown };
  if (record?.format !== FORMAT || record.version !== VERSION) {
    throw new UsageError(ErrorCode.InvalidArgument, `identity file ${path} is not a version ${VERSION} ${FORMAT} file`);
  }
  if (typeof record.publicKey !== "string" || typeof record.secretKey !== "string") {
    throw new UsageError(ErrorCode.InvalidArgument, `identity file ${path} lacks its keys`);
  }
  const identity = { publicKey: fromHex(record.publicKey), secretKey: fromHex(record.secretKey) };
  try {
    assertIdentity(identity);
  } catch (e) {
    throw new UsageError(ErrorCode.InvalidArgument, `identity file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return identity;
}

/**
 * Writes an identity file readable only by its owner.
 *
 * @example
 * ```ts
 * await writeIdentityFile("./data/identity.json", generateIdentity())
 * ```
 */
export async function writeIdentityFile(path: string, identity: Identity): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const body = { format: FORMAT, version: VERSION, publicKey: toHex(identity.publicKey), secretKey: toHex(identity.secretKey) };
  await writeFile(path, JSON.stringify(body, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  await chmod(path, 0o600);
}

/**
 * Reads the identity at `path`, creating a new one there when the file does not exist.
 *
 * @example
 * ```ts
 * const { identity, created } = await loadOrCreateIdentity("./data/identity.json")
 * ```
 */
export async function loadOrCreateIdentity(path: string): Promise<{ identity: Identity; created: boolean }> {
  try {
    await readFile(path);
  } catch {
    const identity = generateIdentity();
    await writeIdentityFile(path, identity);
    return { identity, created: true };
  }
  return { identity: await readIdentityFile(path), created: false };
}
