/**
 * The public surface is documented (GUIDE "Public API", README "Errors"): every export of
 * src/index.ts carries TSDoc with an `@example`, every error code is a row of README's error
 * table with its source, and the package exports its types and declares no side effects.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { ErrorCode, SecretGroupError } from "../src/errors.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

test("every export of src/index.ts has TSDoc with an @example", () => {
  const index = `${root}src/index.ts`;
  const program = ts.createProgram([index], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true, noLib: true, types: [] });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(index)!)!;
  const exports = checker.getExportsOfModule(moduleSymbol);
  assert.ok(exports.length > 50, `read ${exports.length} exports`);
  const missing = exports.filter((e) => {
    const symbol = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e;
    return !(symbol.getDeclarations() ?? []).some((d) => ts.getJSDocTags(d).some((t) => t.tagName.text === "example"));
  });
  assert.deepEqual(missing.map((e) => e.name), []);
});

test("README's error table lists every error code once, with its source", () => {
  const readme = readFileSync(`${root}README.md`, "utf8");
  const rows = new Map<string, string>();
  for (const [, code, source] of readme.matchAll(/^\| `([A-Z_]+)` \| (\w+) \|/gm)) {
    assert.ok(!rows.has(code!), `${code} listed twice`);
    rows.set(code!, source!);
  }
  for (const code of Object.values(ErrorCode)) assert.equal(rows.get(code), new SecretGroupError(code, "").source, `${code} in README's error table`);
  assert.equal(rows.size, Object.values(ErrorCode).length, "no row for a code that does not exist");
});

test("package.json exports the types beside the module and declares no side effects", () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { sideEffects: unknown; types: string; exports: Record<string, { types?: string; import?: string }> };
  assert.equal(pkg.sideEffects, false);
  const main = pkg.exports["."]!;
  assert.equal(main.types, pkg.types);
  assert.equal(main.types, main.import?.replace(/\.js$/, ".d.ts"));
  assert.ok(Object.keys(main)[0] === "types", "types first, so resolvers pick it before the module");
});
