/**
 * Shared by the frozen storage fixture's test and its generator: the fixture's plain JSON form
 * and raw database access with the encodings EngineStore uses.
 *
 * @module
 */
import { Level } from "level";
import { toHex } from "../src/bytes.js";

/** Plain JSON form of fixture values: bytes as hex, bigints as decimal strings. @example `plain({ a: 1n }) // { a: "1" }` */
export function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** Raw view of an engine database (utf8 keys, byte values). @example `const db = rawDb(path)` */
export const rawDb = (path: string): Level<string, Uint8Array> => new Level<string, Uint8Array>(path, { keyEncoding: "utf8", valueEncoding: "view" });
