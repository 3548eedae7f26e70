/**
 * Fast import and export of raw Edwards/Montgomery keys as `node:crypto` KeyObjects.
 *
 * Why: importing a raw key wrapped in PKCS#8/SPKI DER goes through OpenSSL 3's generic
 * decoders and costs about 700 us (private) and 200 us (public) on these machines; the
 * JWK path creates the key straight from its raw bytes in about 70 us and 25 us. A
 * receiver imports one key per path node and per verified leaf, so this matters.
 * Node's JWK import of an OKP private key uses only `d` (the `x` member just has to be a
 * string); should a Node version ever insist on `x`, the DER path is the fallback.
 *
 * @module
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { fresh } from "./lru.js";

/**
 * Curves handled here, by their JWK `crv` name.
 *
 * @example
 * ```ts
 * const crv: OkpCurve = "X25519";
 * ```
 */
export type OkpCurve = "Ed25519" | "Ed448" | "X25519";

const OIDS: Record<OkpCurve, number> = { Ed25519: 0x70, Ed448: 0x71, X25519: 0x6e };

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

// RFC 8410 DER wrappers, for the fallback path only.
function pkcs8(crv: OkpCurve, raw: Uint8Array): Buffer {
  const n = raw.byteLength;
  const head = [0x30, n + 14, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, OIDS[crv], 0x04, n + 2, 0x04, n];
  return Buffer.concat([Uint8Array.from(head), raw]);
}

function spki(crv: OkpCurve, raw: Uint8Array): Buffer {
  const n = raw.byteLength;
  const head = [0x30, n + 11, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, OIDS[crv], 0x03, n + 1, 0x00];
  return Buffer.concat([Uint8Array.from(head), raw]);
}

/**
 * KeyObject from raw key bytes (private: the RFC 8032/7748 secret; public: the encoding).
 * Throws when the bytes have the wrong length for the curve.
 *
 * @example
 * ```ts
 * const sk = rawKey("Ed25519", "private", seed32);
 * const pk = rawKey("X25519", "public", pub32);
 * ```
 */
export function rawKey(crv: OkpCurve, type: "private" | "public", raw: Uint8Array): KeyObject {
  const encoded = b64url(raw);
  try {
    return type === "private"
      ? createPrivateKey({ key: { kty: "OKP", crv, d: encoded, x: "" }, format: "jwk" })
      : createPublicKey({ key: { kty: "OKP", crv, x: encoded }, format: "jwk" });
  } catch (jwkError) {
    try {
      return type === "private"
        ? createPrivateKey({ key: pkcs8(crv, raw), format: "der", type: "pkcs8" })
        : createPublicKey({ key: spki(crv, raw), format: "der", type: "spki" });
    } catch {
      throw jwkError;
    }
  }
}

/**
 * Raw public key bytes of a private or public OKP KeyObject, as a fresh Uint8Array.
 *
 * @example
 * ```ts
 * publicOf(rawKey("X25519", "private", sk)).length; // 32
 * ```
 */
export function publicOf(key: KeyObject): Uint8Array {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  const der = pub.export({ format: "der", type: "spki" });
  // SubjectPublicKeyInfo (RFC 8410): 12 header bytes, the last two a BIT STRING's length (key + 1) and 0 unused bits
  if (der.byteLength <= SPKI_HEADER || der[SPKI_HEADER - 2] !== der.byteLength - SPKI_HEADER + 1) throw new TypeError("not an OKP public key");
  return fresh(der.subarray(SPKI_HEADER));
}

/**
 * Raw private key bytes of a private OKP KeyObject, as a fresh Uint8Array.
 *
 * @example
 * ```ts
 * privateOf(rawKey("Ed25519", "private", seed)); // equals seed
 * ```
 */
export function privateOf(key: KeyObject): Uint8Array {
  const der = key.export({ format: "der", type: "pkcs8" });
  // OneAsymmetricKey v1 (RFC 8410): 16 header bytes, the last one the inner OCTET STRING's length
  if (der.byteLength <= PKCS8_HEADER || der[PKCS8_HEADER - 1] !== der.byteLength - PKCS8_HEADER) throw new TypeError("not a private OKP key");
  return fresh(der.subarray(PKCS8_HEADER));
}

// Raw OKP keys are read from DER, never from a JWK export: Node 20's JWK export of an OKP key
// holds the key's mutex while it allocates, and a garbage collection in that allocation that
// frees the KeyGenJob which made the key (generateKeyPairSync) takes the same mutex: the thread
// deadlocks (seen in a benchmark run; reproduced by generating and JWK-exporting keys in a loop,
// test/provider-raw-key-export.test.ts). DER export takes no such lock. The one exception is
// importedPublicOf below, for keys no KeyGenJob ever held.
const SPKI_HEADER = 12;
const PKCS8_HEADER = 16;

/**
 * The raw public key of a private OKP key that {@link rawKey} imported, read from its JWK
 * export: OpenSSL computed it at the import, where {@link publicOf}'s SPKI encoder costs more
 * than a scalar multiplication. Only for a key made by `rawKey`, and before any other KeyObject
 * of it is made (`createPublicKey`): the export holds the key's mutex while it allocates, and a
 * garbage collection there that frees another holder of the same key data takes it too (the
 * deadlock above). An imported key has no other holder. Measured (session 23, 20,000 keys a run
 * with garbage to collect): JWK exports of generated pairs' public keys hung in every run within
 * 30 s, of their private keys alone did not, and 300,000 exports of imported keys among
 * generated keys' garbage ran through; test/provider-raw-key-export.test.ts makes ephemeral pairs
 * under that pressure and fails (hangs) if they are made from a generated pair's public key.
 *
 * @example
 * ```ts
 * importedPublicOf(rawKey("X25519", "private", sk32)); // X25519(sk, 9)
 * ```
 */
export function importedPublicOf(key: KeyObject): Uint8Array {
  const x = key.export({ format: "jwk" }).x;
  if (typeof x !== "string") throw new TypeError("not an OKP key");
  // a short Buffer.from lies in node's shared pool: fresh gives the key bytes of their own
  return fresh(Buffer.from(x, "base64url"));
}
