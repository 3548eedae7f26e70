/**
 * Our patches reach an application that installs our packed package without running our
 * scripts: `npm pack` bundles the patched ts-mls and cborg (bundleDependencies), and an empty
 * application installs the tarball with `--ignore-scripts`, verifies Ed25519 with libsodium
 * (sodium-native's prebuild), joins a group after removals and reads back a document whose text
 * starts with U+FEFF, through the public API. Without our install script the long-term AEAD runs
 * on node:crypto; `npm rebuild secret-group` then runs it (native/build.cjs), and the application
 * opens the same values through the addon.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
const npm = (cwd: string, args: string[]): string =>
  execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 240_000 });

// Run in a fresh application: joins after removing leaves 1 and 5 (refused by unpatched ts-mls 1.6.4).
const APP = `
import { generateIdentity, createKeyPackage, createGroup, addMembers, joinGroup, removeMembers, signDocument, decodeDocument, ed25519Backend, aeadBackend, encrypt, decrypt } from "secret-group";
// sodium-native's prebuild reaches the application (installed without scripts, as it needs none)
if (ed25519Backend() !== "libsodium") throw new Error("Ed25519 verified by " + ed25519Backend());
const owner = generateIdentity();
let state = await createGroup({ identity: owner, groupId: new Uint8Array(32).fill(7), ciphersuite: "PANDA10_AES128GCM" });
const ids = Array.from({ length: 9 }, () => generateIdentity());
const kps = await Promise.all(ids.map((id) => createKeyPackage(id)));
state = (await addMembers(state, kps.slice(0, 7).map((k) => k.keyPackage))).state;
state = (await removeMembers(state, [ids[0].publicKey, ids[4].publicKey])).state;
const added = await addMembers(state, kps.slice(7).map((k) => k.keyPackage));
for (const i of [7, 8]) {
  const joined = await joinGroup({ identity: ids[i], secret: kps[i].secret, owner: owner.publicKey, commit: added.commit });
  if (joined.status !== "member") throw new Error("not a member");
}
// refused by unpatched cborg 4.5.8, whose decoder dropped the leading U+FEFF
const doc = signDocument(owner, "chat_v1", { body: "\\uFEFFfrom a file with a byte order mark" });
if (decodeDocument(doc.bytes).fields.body !== "\\uFEFFfrom a file with a byte order mark") throw new Error("U+FEFF lost");
// a long-term value round trip on whichever AEAD this install has
const sealed = await encrypt(state, new TextEncoder().encode("long-term"), { scheme: "long-term" });
if (new TextDecoder().decode((await decrypt(sealed.state, sealed.message)).plaintext) !== "long-term") throw new Error("long-term value lost");
console.log("joined " + aeadBackend());
`;

test("a packed install carries the patched ts-mls and cborg, joins after removals, keeps a leading U+FEFF, and builds the AEAD addon when its script runs", { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sg-pack-"));
  try {
    npm(root, ["pack", "--ignore-scripts", "--pack-destination", dir]);
    const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
    assert.ok(tarball, "npm pack wrote a tarball");
    const app = join(dir, "app");
    execFileSync("mkdir", [app]);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", type: "module", private: true }));
    npm(app, ["install", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund", join(dir, tarball)]);
    const installed = join(app, "node_modules/secret-group/node_modules/ts-mls/dist/src/clientState.js");
    assert.match(readFileSync(installed, "utf8"), /secret-group patch, RFC 9420/);
    const cborg = join(app, "node_modules/secret-group/node_modules/cborg/lib/3string.js");
    assert.match(readFileSync(cborg, "utf8"), /secret-group patch, RFC 8949/);
    writeFileSync(join(app, "main.mjs"), APP);
    const out = execFileSync(process.execPath, ["main.mjs"], { cwd: app, encoding: "utf8", timeout: 60_000 });
    assert.equal(out.trim(), "joined node:crypto", "installed without scripts: no addon, node:crypto");
    // our install script builds the AEAD addon inside the application's copy of the package
    npm(app, ["rebuild", "secret-group"]);
    const rebuilt = execFileSync(process.execPath, ["main.mjs"], { cwd: app, encoding: "utf8", timeout: 60_000 });
    assert.equal(rebuilt.trim(), "joined native");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
