/**
 * Throughput of signed documents: sign, verify-and-decode, for small operations (a 256-byte
 * field) and for a 64 KiB commit-sized field. Run alone with `node dist/bench/documents.js`, or
 * from bench/run.ts through {@link runDocumentsBench}.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { decodeDocument, signDocument } from "../src/documents/document.js";
import { publicKeyOfSeed } from "../src/documents/ed25519.js";

/** One measured row. @example `{ case: "256 B field", signPerSecond: 8000, decodePerSecond: 4500 }` */
export interface DocumentsBenchRow {
  readonly case: string;
  readonly signPerSecond: number;
  readonly decodePerSecond: number;
}

function rate(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(200, n); i++) fn(i);
  const start = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return Math.round((n / (performance.now() - start)) * 1000);
}

/**
 * Measures document signing and decoding; returns one row per payload size.
 *
 * @example
 * ```ts
 * console.table(runDocumentsBench())
 * ```
 */
export function runDocumentsBench(count = 3000): DocumentsBenchRow[] {
  const secretKey = new Uint8Array(32).fill(9);
  const identity = { publicKey: publicKeyOfSeed(secretKey), secretKey };
  const rows: DocumentsBenchRow[] = [];
  for (const [label, size, n] of [["256 B field", 256, count], ["64 KiB field", 65536, Math.max(50, count / 20)]] as const) {
    const body = new Uint8Array(size).fill(1);
    const docs: Uint8Array[] = [];
    const signPerSecond = rate(n, (i) => {
      docs[i] = signDocument(identity, "chat_v1", { body, n: i }, { timestamp: i }).bytes;
    });
    const decodePerSecond = rate(n, (i) => {
      decodeDocument(docs[i]!);
    });
    rows.push({ case: label, signPerSecond, decodePerSecond });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) console.table(runDocumentsBench());
