/**
 * Raw OKP key export (src/mls/crypto/rawKey.ts): right bytes for every curve, and no deadlock.
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
import { generateKeyPairSync } from "node:crypto";
import { privateOf, publicOf, rawKey } from "../src/mls/crypto/rawKey.js";

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
