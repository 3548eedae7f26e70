/**
 * An MLS exporter written for the differential test from RFC 9420 alone (sections 2.1.2,
 * 5.1, 8 and 8.5), over node:crypto's HMAC, sharing no code with ts-mls or with our
 * src/lts. core-crypto exports only with the label "exporter"; this function reproduces
 * that value from the epoch's exporter_secret, and then gives the value of any other label
 * (our long-term key and nonce labels) for the same epoch.
 *
 * @module
 */
import { createHash, createHmac } from "node:crypto";

const HASH = "sha256"; // both shared suites (1 and 3) hash with SHA-256
const HASH_LEN = 32;

/** RFC 9420 2.1.2 variable-length vector length prefix. */
function varint(n: number): Uint8Array {
  if (n < 0x40) return Uint8Array.of(n);
  if (n < 0x4000) return Uint8Array.of(0x40 | (n >> 8), n & 0xff);
  return Uint8Array.of(0x80 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** RFC 5869 HKDF-Expand with HMAC-SHA256. */
function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let t = new Uint8Array(0);
  for (let i = 1, at = 0; at < length; i++) {
    t = new Uint8Array(createHmac(HASH, prk).update(concat(t, info, Uint8Array.of(i))).digest());
    out.set(t.subarray(0, Math.min(t.length, length - at)), at);
    at += t.length;
  }
  return out;
}

/** RFC 9420 5.1 ExpandWithLabel: KDFLabel = uint16 length, opaque label<V> = "MLS 1.0 " + Label, opaque context<V>. */
function expandWithLabel(secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  const fullLabel = new TextEncoder().encode(`MLS 1.0 ${label}`);
  const kdfLabel = concat(Uint8Array.of(length >> 8, length & 0xff), varint(fullLabel.length), fullLabel, varint(context.length), context);
  return hkdfExpand(secret, kdfLabel, length);
}

/**
 * RFC 9420 8.5: `MLS-Exporter(Label, Context, Length) =
 * ExpandWithLabel(DeriveSecret(exporter_secret, Label), "exported", Hash(Context), Length)`.
 *
 * @example
 * ```ts
 * rfcExporter(exporterSecret, "exporter", new Uint8Array(), 32)
 * ```
 */
export function rfcExporter(exporterSecret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  const derived = expandWithLabel(exporterSecret, label, new Uint8Array(0), HASH_LEN); // DeriveSecret
  const contextHash = new Uint8Array(createHash(HASH).update(context).digest());
  return expandWithLabel(derived, "exported", contextHash, length);
}
