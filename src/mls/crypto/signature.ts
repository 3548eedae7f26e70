/**
 * Ed25519, Ed448 and ECDSA (P-256/384/521) signatures for ts-mls on `node:crypto`.
 *
 * Why: the default provider re-imports the Ed25519 key into WebCrypto on every sign and
 * verify (and runs ECDSA and Ed448 in pure JS). Parsed `KeyObject`s are cached per key in
 * a bounded LRU, so a member that verifies the same 1000 leaf signatures again and again
 * parses each key once.
 *
 * Key formats follow the default provider exactly: Ed25519 secret keys are the 32-byte
 * seed or a PKCS#8 DER blob (what WebCrypto's keygen exports), Ed448 keys are raw 57
 * bytes, ECDSA secret keys are raw scalars and public keys SEC1 points (compressed from
 * keygen, as `@noble/curves` does); ECDSA signatures are DER over SHA-2 of the message.
 *
 * @module
 */
import {
  ECDH,
  createECDH,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomFillSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from "node:crypto";
import type { Signature, SignatureAlgorithm } from "ts-mls/crypto/signature.js";
import { VERIFY_CHUNK, VERIFY_SYNC_MAX } from "../../constants.js";
import { Ed25519Backend, ed25519Backend, verifyEd25519Node, verifyEd25519OnPool, verifyEd25519Sync } from "../../ed25519Verify.js";
import { ed25519SignerOf, ed25519SignerOfKey, type Ed25519Signer } from "../../ed25519Sign.js";
import { LruCache, bytesKey, fresh, owned } from "./lru.js";
import { verifyEd25519Shared } from "./verifyRun.js";
import { privateOf, publicOf, rawKey } from "./rawKey.js";

/**
 * How many parsed keys of each kind (private, public) are kept.
 *
 * @example
 * ```ts
 * KEY_CACHE_SIZE; // 1024
 * ```
 */
export const KEY_CACHE_SIZE = 1024;

const privateKeys = new LruCache<string, KeyObject>(KEY_CACHE_SIZE);
const ed25519Signers = new LruCache<string, Ed25519Signer>(KEY_CACHE_SIZE);
const publicKeys = new LruCache<string, KeyObject>(KEY_CACHE_SIZE);

// PKCS#8 prefix of a 32-byte Ed25519 seed (RFC 8410), the format WebCrypto exports.
const ED25519_PKCS8 = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

function cached(cache: LruCache<string, KeyObject>, tag: string, raw: Uint8Array, make: () => KeyObject): KeyObject {
  return cache.getOrAdd(tag + bytesKey(raw), make);
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}


function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.byteLength < prefix.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

interface PendingVerify {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
  readonly resolve: (ok: boolean) => void;
}
let pendingVerifies: PendingVerify[] = [];
// How many callers of verifyingInline are running on this thread (see there).
let inlineDepth = 0;

/**
 * Runs `run` with this thread's Ed25519 verifications done here, at once, rather than shared
 * with libuv's thread pool (with libsodium: no shared run of src/mls/crypto/verifyRun.ts; with
 * node:crypto: not handed over one by one, though a long run of {@link VERIFY_CHUNK} still goes
 * to the pool, as it is a large tree's). For a caller that knows every core is already busy (a
 * pool worker running a batch of small joins while main and the other worker work): a hand-over
 * costs this thread some work and buys no parallelism then.
 *
 * @example
 * ```ts
 * const states = await verifyingInline(() => Promise.all(joins.map(join)));
 * ```
 */
export async function verifyingInline<T>(run: () => Promise<T>): Promise<T> {
  inlineDepth++;
  try {
    return await run();
  } finally {
    inlineDepth--;
  }
}

// node:crypto only (libsodium checks at once, in verify): a few verifications requested in the
// same turn of the event loop run here, at once (a dispatch costs about as much as a
// verification); more (a joiner checking N leaves, an owner checking N key packages) go to
// libuv's thread pool through node:crypto's callback form, so they use every core.
function flushVerifies(): void {
  const batch = pendingVerifies;
  pendingVerifies = [];
  if (batch.length > VERIFY_SYNC_MAX && inlineDepth === 0) return dispatchToPool(batch);
  for (const v of batch) v.resolve(verifyEd25519Node(v.publicKey, v.message, v.signature));
}

function dispatchToPool(batch: readonly PendingVerify[]): void {
  for (const v of batch) void verifyEd25519OnPool(v.publicKey, v.message, v.signature).then(v.resolve);
}

function verifyBatched(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    pendingVerifies.push({ publicKey, message, signature, resolve });
    if (pendingVerifies.length === 1) setImmediate(flushVerifies);
    else if (pendingVerifies.length === VERIFY_CHUNK) {
      // a long run (a joiner's N leaves) starts on the thread pool while this thread still
      // encodes the next leaves and hashes the tree, not all at the end of the turn
      const chunk = pendingVerifies;
      pendingVerifies = [];
      dispatchToPool(chunk);
    }
  });
}

function ed25519(): Signature {
  // src/ed25519Sign.ts: libsodium where it loads (the same signatures: Ed25519 is deterministic)
  const signerOf = (signKey: Uint8Array): Ed25519Signer =>
    ed25519Signers.getOrAdd(bytesKey(signKey), () => {
      // Same rule as the default provider: 32 bytes is a seed, anything else is PKCS#8.
      if (signKey.byteLength === 32) return ed25519SignerOf(fresh(signKey));
      if (signKey.byteLength === 48 && startsWith(signKey, ED25519_PKCS8)) return ed25519SignerOf(fresh(signKey.subarray(ED25519_PKCS8.byteLength)));
      const key = createPrivateKey({ key: Buffer.from(signKey), format: "der", type: "pkcs8" });
      if (key.asymmetricKeyType !== "ed25519") throw new TypeError("not an Ed25519 private key");
      return ed25519SignerOfKey(key);
    });
  return {
    async sign(signKey, message) {
      return signerOf(signKey).sign(message);
    },
    async verify(publicKey, message, signature) {
      if (publicKey.byteLength !== 32) throw new RangeError("Ed25519 public key must be 32 bytes");
      // libsodium's check costs about half node:crypto's, less than a hand-over to libuv's pool
      // (session 24); a long stretch (a joiner's N leaves) is shared with a pool thread through
      // the addon, unless every core is known to be busy (verifyingInline)
      if (ed25519Backend() === Ed25519Backend.Libsodium)
        return inlineDepth > 0 ? verifyEd25519Sync(publicKey, message, signature) : verifyEd25519Shared(publicKey, message, signature);
      return verifyBatched(publicKey, message, signature);
    },
    async keygen() {
      const { privateKey: sk } = generateKeyPairSync("ed25519");
      const seed = privateOf(sk);
      // PKCS#8, like WebCrypto's export in the default provider.
      const signKey = new Uint8Array(ED25519_PKCS8.byteLength + 32);
      signKey.set(ED25519_PKCS8, 0);
      signKey.set(seed, ED25519_PKCS8.byteLength);
      return { signKey, publicKey: publicOf(sk) };
    },
  };
}

function ed448(): Signature {
  const privateKey = (signKey: Uint8Array): KeyObject =>
    cached(privateKeys, "ed448:", signKey, () => {
      if (signKey.byteLength !== 57) throw new RangeError("Ed448 secret key must be 57 bytes");
      return rawKey("Ed448", "private", signKey);
    });
  return {
    async sign(signKey, message) {
      return owned(nodeSign(null, message, privateKey(signKey)));
    },
    async verify(publicKey, message, signature) {
      if (publicKey.byteLength !== 57) throw new RangeError("Ed448 public key must be 57 bytes");
      const key = cached(publicKeys, "ed448:", publicKey, () => rawKey("Ed448", "public", publicKey));
      return nodeVerify(null, message, key, signature);
    },
    async keygen() {
      const signKey = randomFillSync(new Uint8Array(57));
      return { signKey, publicKey: publicOf(privateKey(signKey)) };
    },
  };
}

const EC = {
  P256: { curve: "prime256v1", jwk: "P-256", hash: "sha256", size: 32 },
  P384: { curve: "secp384r1", jwk: "P-384", hash: "sha384", size: 48 },
  P521: { curve: "secp521r1", jwk: "P-521", hash: "sha512", size: 66 },
} as const;

function ecdsa(alg: keyof typeof EC): Signature {
  const { curve, jwk, hash, size } = EC[alg];
  const point = (uncompressed: Uint8Array) => ({
    x: b64url(uncompressed.subarray(1, 1 + size)),
    y: b64url(uncompressed.subarray(1 + size)),
  });
  const privateKey = (signKey: Uint8Array): KeyObject =>
    cached(privateKeys, `${alg}:`, signKey, () => {
      if (signKey.byteLength !== size) throw new RangeError(`${alg} secret key must be ${size} bytes`);
      const ecdh = createECDH(curve);
      ecdh.setPrivateKey(signKey);
      const d = b64url(signKey);
      return createPrivateKey({ key: { kty: "EC", crv: jwk, d, ...point(ecdh.getPublicKey()) }, format: "jwk" });
    });
  const publicKey = (raw: Uint8Array): KeyObject =>
    cached(publicKeys, `${alg}:`, raw, () => {
      // Accept compressed and uncompressed SEC1 points, like @noble/curves.
      const full = ECDH.convertKey(raw, curve, undefined, undefined, "uncompressed") as Buffer;
      return createPublicKey({ key: { kty: "EC", crv: jwk, ...point(full) }, format: "jwk" });
    });
  return {
    async sign(signKey, message) {
      return owned(nodeSign(hash, message, { key: privateKey(signKey), dsaEncoding: "der" }));
    },
    async verify(pub, message, signature) {
      let key: KeyObject;
      try {
        key = publicKey(pub);
      } catch {
        return false; // @noble/curves returns false for points it cannot parse
      }
      return nodeVerify(hash, message, { key, dsaEncoding: "der" }, signature);
    },
    async keygen() {
      const ecdh = createECDH(curve);
      ecdh.generateKeys();
      const d = ecdh.getPrivateKey();
      const signKey = new Uint8Array(size);
      signKey.set(d, size - d.byteLength); // getPrivateKey drops leading zero bytes
      return { signKey, publicKey: fresh(ecdh.getPublicKey(null, "compressed")) };
    },
  };
}

/**
 * `node:crypto` signature scheme for a ts-mls algorithm, or `undefined` where node
 * cannot do it (ML-DSA-87), so the caller delegates that one.
 *
 * @example
 * ```ts
 * const s = makeNodeSignature("Ed25519")!;
 * const { signKey, publicKey } = await s.keygen();
 * await s.verify(publicKey, msg, await s.sign(signKey, msg)); // true
 * ```
 */
export function makeNodeSignature(alg: SignatureAlgorithm): Signature | undefined {
  switch (alg) {
    case "Ed25519":
      return ed25519();
    case "Ed448":
      return ed448();
    case "P256":
    case "P384":
    case "P521":
      return ecdsa(alg);
    default:
      return undefined;
  }
}

/**
 * Empties the parsed-key caches (tests use it to measure cold paths; nothing else needs to).
 *
 * @example
 * ```ts
 * clearKeyCaches();
 * ```
 */
export function clearKeyCaches(): void {
  privateKeys.clear();
  ed25519Signers.clear();
  publicKeys.clear();
}
