/**
 * Child of provider-raw-key-export.test.ts: generates keys and exports them raw, with garbage to
 * collect, and makes HPKE ephemeral key pairs (imported keys read back through their JWK export)
 * among the generated keys' garbage.
 */
import { generateKeyPairSync } from "node:crypto";
import { ephemeralKeyPair } from "../src/mls/crypto/x25519.js";
import { privateOf, publicOf } from "../src/mls/crypto/rawKey.js";

const keys = Number(process.argv[2] ?? 20000);
let junk: unknown[] = [];
for (let i = 0; i < keys; i++) {
  const { privateKey, publicKey } = i % 2 === 0 ? generateKeyPairSync("x25519") : generateKeyPairSync("ed25519");
  publicOf(publicKey);
  publicOf(privateKey);
  privateOf(privateKey);
  ephemeralKeyPair();
  junk.push(new Array(64).fill(i));
  if (junk.length > 1000) junk = [];
}
process.stdout.write(`done ${keys}\n`);
