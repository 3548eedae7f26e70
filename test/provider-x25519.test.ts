/**
 * X25519 for HPKE (src/mls/crypto/x25519.ts): libsodium where sodium-native loads, node:crypto
 * where it does not (this file runs again in provider-sodium-fallback's child, without the addon).
 * Whichever runs must give RFC 7748's answers, node:crypto's answers on random and non-canonical
 * keys, and refuse exactly the small-order public keys (RFC 9180 7.1.4).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CryptoError } from "ts-mls/mlsError.js";
import { fromHex } from "../src/bytes.js";
import { encap, kemSharedSecret, makeHpkeSuite } from "../src/mls/crypto/hpkeCore.js";
import { importedPublicOf, rawKey } from "../src/mls/crypto/rawKey.js";
import { encapDh, x25519, x25519Backend, x25519PublicOf, x25519Raw } from "../src/mls/crypto/x25519.js";

const withoutSodium = process.env.SECRET_GROUP_TEST_NO_SODIUM === "1";
const priv = (raw: Uint8Array) => () => rawKey("X25519", "private", raw);
const pub = (raw: Uint8Array) => () => rawKey("X25519", "public", raw);
/** node:crypto's X25519, the reference: OpenSSL on imported keys. */
const reference = (secret: Uint8Array, publicRaw: Uint8Array): Uint8Array => x25519(priv(secret)(), pub(publicRaw)());

// The small-order u-coordinates (RFC 7748 has no others): 0, 1, the two of order 8, p - 1, and
// the non-canonical p and p + 1; each also with bit 255 set, which X25519 ignores.
const P_MINUS = (low: number): string => low.toString(16).padStart(2, "0") + "ff".repeat(30) + "7f";
const SMALL_ORDER = [
  "00".repeat(32),
  "01" + "00".repeat(31),
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  P_MINUS(0xec),
  P_MINUS(0xed),
  P_MINUS(0xee),
].flatMap((hex) => {
  const top = fromHex(hex);
  top[31] = top[31]! | 0x80;
  return [fromHex(hex), top];
});

test("the backend is libsodium where sodium-native loads, node:crypto in the fallback's child", () => {
  assert.equal(x25519Backend(), withoutSodium ? "node:crypto" : "libsodium");
});

test("RFC 7748 5.2 and 6.1: the function's vectors and the Diffie-Hellman example", () => {
  const vectors: Array<[string, string, string]> = [
    ["a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"],
    ["4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d", "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493", "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"],
  ];
  for (const [scalar, u, out] of vectors) {
    assert.deepEqual(x25519Raw(fromHex(scalar), fromHex(u), priv(fromHex(scalar)), pub(fromHex(u))), fromHex(out));
    assert.deepEqual(reference(fromHex(scalar), fromHex(u)), fromHex(out));
  }
  const alice = fromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const bob = fromHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const alicePublic = fromHex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const bobPublic = fromHex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const shared = fromHex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  assert.deepEqual(x25519PublicOf(alice, priv(alice)), alicePublic);
  assert.deepEqual(x25519PublicOf(bob, priv(bob)), bobPublic);
  // encapDh with a given one-time secret: its public key (enc) and the DH
  const a = encapDh(bobPublic, pub(bobPublic), alice);
  assert.deepEqual(a.enc, alicePublic);
  assert.deepEqual(a.dh, shared);
  assert.deepEqual(x25519Raw(bob, alicePublic, priv(bob), pub(alicePublic)), shared);
});

test("agrees with node:crypto on random keys, non-canonical public keys and keys with bit 255 set", () => {
  for (let i = 0; i < 200; i++) {
    const secret = randomBytes(32);
    const peer = randomBytes(32);
    if (i % 4 === 1) peer[31] = peer[31]! | 0x80; // bit 255: ignored (RFC 7748 5)
    if (i % 4 === 2) peer.set(fromHex(P_MINUS(0xef + (i % 16)))); // p + 2 .. p + 17: non-canonical, reduced mod p
    let expected: Uint8Array | undefined;
    try {
      expected = reference(secret, peer);
    } catch {
      expected = undefined;
    }
    let got: Uint8Array | undefined;
    try {
      got = x25519Raw(secret, peer, priv(secret), pub(peer));
    } catch {
      got = undefined;
    }
    assert.deepEqual(got, expected, `key ${i}`);
    assert.deepEqual(x25519PublicOf(secret, priv(secret)), importedPublicOf(rawKey("X25519", "private", secret)));
    const e = encapDh(peer, pub(peer), secret);
    assert.deepEqual(e.enc, importedPublicOf(rawKey("X25519", "private", secret)));
    assert.deepEqual(e.dh, expected);
  }
});

test("every small-order public key is refused with a CryptoError, as node:crypto refuses its all-zero output", () => {
  assert.equal(SMALL_ORDER.length, 14);
  const s = makeHpkeSuite({ kdf: "HKDF-SHA256", aead: "AES128GCM" });
  for (const [i, point] of SMALL_ORDER.entries()) {
    const secret = randomBytes(32);
    assert.throws(() => reference(secret, point), CryptoError, `node:crypto, point ${i}`);
    assert.throws(() => x25519Raw(secret, point, priv(secret), pub(point)), CryptoError, `point ${i}`);
    assert.throws(() => encap(s, point, pub(point)), CryptoError, `encap, point ${i}`);
  }
  assert.throws(() => x25519Raw(new Uint8Array(31), new Uint8Array(32).fill(9), priv(new Uint8Array(32)), pub(new Uint8Array(32).fill(9))));
});

test("encap: a fresh one-time key each time, and the shared secret of RFC 9180's ExtractAndExpand over its DH", () => {
  const s = makeHpkeSuite({ kdf: "HKDF-SHA256", aead: "AES128GCM" });
  const recipient = randomBytes(32);
  const recipientPublic = importedPublicOf(rawKey("X25519", "private", recipient));
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const { enc, shared } = encap(s, recipientPublic, pub(recipientPublic));
    seen.add(Buffer.from(enc).toString("hex"));
    // the recipient's side: Decap's DH with its own key
    assert.deepEqual(shared, kemSharedSecret(s, reference(recipient, enc), enc, recipientPublic));
  }
  assert.equal(seen.size, 50);
});
