/**
 * The sealer's subkey derivation (src/engine/store/seal.ts `sessionSubkey`, HMAC written out)
 * gives the bytes of `hkdfSync("sha256", key, salt, STORAGE_SESSION_LABEL, 32)`, the derivation
 * every stored value was sealed under: over random keys and salts, and a value sealed under a
 * subkey from `hkdfSync` opens.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, hkdfSync, randomBytes } from "node:crypto";
import { utf8 } from "../src/bytes.js";
import { Writer } from "../src/codec/tls.js";
import { STORAGE_AAD_LABEL, STORAGE_KEY_SIZE, STORAGE_SESSION_LABEL } from "../src/constants.js";
import { Sealer, SealKind, sessionSubkey } from "../src/engine/store/seal.js";

test("sessionSubkey equals HKDF-SHA256 (hkdfSync) over random keys and salts", () => {
  for (let i = 0; i < 500; i++) {
    const key = randomBytes(STORAGE_KEY_SIZE);
    const salt = randomBytes(16);
    const expected = Buffer.from(hkdfSync("sha256", key, salt, STORAGE_SESSION_LABEL, STORAGE_KEY_SIZE));
    assert.deepEqual(sessionSubkey(key, salt), expected);
  }
});

test("an own-key value sealed under an hkdfSync subkey opens; a changed salt does not", () => {
  const own = randomBytes(32);
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const plain = randomBytes(100);
  // the SealedValue layout of seal.ts, own-key kind: version, kind, salt, nonce, ciphertext, tag
  const header = Buffer.concat([Buffer.of(2, SealKind.OwnKey), salt, nonce]);
  const sealer = new Sealer(new Map([[0, randomBytes(32)]]), 0);
  // seal.ts's associated data: label, sublevel, key, header
  const aad = new Writer(64).opaque(utf8(STORAGE_AAD_LABEL)).opaque(utf8("keypkgs")).opaque(utf8("ab")).opaque(header).finish();
  const cipher = createCipheriv("aes-256-gcm", Buffer.from(hkdfSync("sha256", own, salt, STORAGE_SESSION_LABEL, 32)), nonce, { authTagLength: 16 });
  cipher.setAAD(aad);
  const sealed = Buffer.concat([header, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  assert.deepEqual(Buffer.from(sealer.open("keypkgs", "ab", sealed, () => own)), plain);
  const moved = Buffer.from(sealed);
  moved[2]! ^= 1;
  assert.throws(() => sealer.open("keypkgs", "ab", moved, () => own));
});
