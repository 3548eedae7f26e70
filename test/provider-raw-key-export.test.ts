/**
 * Raw OKP key export (src/mls/crypto/rawKey.ts): right bytes for every curve, and no deadlock
 * (also for the HPKE ephemeral key pairs, which read an imported key's public key from its JWK).
 * Node 20's JWK export of an OKP key holds the key's mutex while it allocates; a garbage
 * collection there that frees the KeyGenJob of a generateKeyPairSync key takes the same mutex
 * and the thread hangs for ever (a benchmark run hung so, in an owner's HPKE seals). A child
 * generates and exports keys under allocation pressure and must finish in time: with the JWK
 * export it hangs within the first thousand keys.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { diffieHellman, generateKeyPairSync } from "node:crypto";
import { ephemeralKeyPair } from "../src/mls/crypto/x25519.js";
import { importedPublicOf, privateOf, publicOf, rawKey } from "../src/mls/crypto/rawKey.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const bytes = (h: string) => new Uint8Array(Buffer.from(h, "hex"));

test("publicOf and privateOf give the raw keys of RFC 8032 and RFC 7748 vectors, and JWK's bytes for Ed448 and X448", () => {
  // RFC 8032 7.1 TEST 1
  const edSeed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
  const ed = rawKey("Ed25519", "private", bytes(edSeed));
  assert.equal(hex(publicOf(ed)), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  assert.equal(hex(privateOf(ed)), edSeed);
  // RFC 7748 6.1 (Alice)
  const xSk = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
  const x = rawKey("X25519", "private", bytes(xSk));
  assert.equal(hex(publicOf(x)), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  assert.equal(hex(privateOf(x)), xSk);
  assert.equal(hex(publicOf(rawKey("X25519", "public", publicOf(x)))), hex(publicOf(x)));
  for (const curve of ["ed448", "x448"] as const) {
    const { privateKey, publicKey } = generateKeyPairSync(curve as "ed448");
    const jwk = privateKey.export({ format: "jwk" });
    assert.equal(hex(privateOf(privateKey)), Buffer.from(jwk.d as string, "base64url").toString("hex"));
    assert.equal(hex(publicOf(publicKey)), Buffer.from(jwk.x as string, "base64url").toString("hex"));
  }
  assert.throws(() => publicOf(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey), TypeError);
});

test("an HPKE ephemeral key pair's public key is X25519(sk, 9) of its private key, and every private key is new", () => {
  // RFC 7748 6.1 (Bob): an imported key's public key as its JWK export gives it
  assert.equal(hex(importedPublicOf(rawKey("X25519", "private", bytes("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")))), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const base = rawKey("X25519", "public", Uint8Array.of(9, ...new Uint8Array(31)));
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const { privateKey, publicRaw } = ephemeralKeyPair();
    assert.equal(hex(publicRaw), hex(diffieHellman({ privateKey, publicKey: base })));
    assert.equal(hex(publicRaw), hex(publicOf(privateKey)));
    seen.add(hex(privateOf(privateKey)));
  }
  assert.equal(seen.size, 200);
});

test("generating and exporting many keys under allocation pressure does not deadlock", async () => {
  const child = fileURLToPath(new URL("./raw-key-export-child.js", import.meta.url));
  const proc = spawn(process.execPath, [child, process.env.RAW_KEY_EXPORT_KEYS ?? "20000"], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const limit = Number(process.env.RAW_KEY_EXPORT_TIMEOUT_MS ?? 60_000);
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      resolve("timeout");
    }, limit);
    proc.on("exit", (c) => {
      clearTimeout(timer);
      resolve(c ?? -1);
    });
  });
  assert.equal(code, 0, `the child did not finish in ${limit} ms (a deadlock in key export); it reported: ${out.trim()}`);
  assert.match(out, /done \d+/);
});
