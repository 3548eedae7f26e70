#!/usr/bin/env node
/*
 * Install step: builds the addon (native/aead.c, the one-shot AEAD, and native/hmac.c, HMAC, on
 * Node's own OpenSSL: src/native.ts) with node-gyp, the one npm ships. Never fails the install:
 * where no compiler or no Node headers are at hand node:crypto does the same work, and this says so.
 * SECRET_GROUP_NATIVE=0 skips the build.
 */
"use strict";
const { spawnSync } = require("node:child_process");
const { existsSync } = require("node:fs");
const { dirname, join } = require("node:path");

const here = __dirname;
if (process.env.SECRET_GROUP_NATIVE === "0") {
  console.log("secret-group: SECRET_GROUP_NATIVE=0, native addon not built (node:crypto is used)");
  process.exit(0);
}

/** npm's own node-gyp: npm names it in npm_config_node_gyp; else the copy beside npm's cli. */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), "..", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  candidates.push(join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  return candidates.find((c) => typeof c === "string" && c.length > 0 && existsSync(c));
}

const gyp = nodeGyp();
if (gyp === undefined) {
  console.warn("secret-group: node-gyp not found, native addon not built (node:crypto is used)");
  process.exit(0);
}
// the headers of the running Node where they sit beside it (no download), unless npm names a folder
const prefix = join(dirname(process.execPath), "..");
const local = !process.env.npm_config_nodedir && existsSync(join(prefix, "include", "node", "node_api.h"));
const result = spawnSync(process.execPath, [gyp, "rebuild", ...(local ? [`--nodedir=${prefix}`] : [])], { cwd: here, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
if (result.status !== 0) {
  const why = `${result.stderr ?? ""}${result.error ? String(result.error) : ""}`.trim().split("\n").slice(-5).join("\n");
  console.warn(`secret-group: native addon not built (node:crypto is used):\n${why}`);
  process.exit(0);
}
console.log("secret-group: native addon built (native/build/Release/secret_group_native.node)");
