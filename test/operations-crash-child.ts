/**
 * Child process of test/engine-operations-crash.test.ts: opens an engine, watches it, and
 * ingests a stream of documents one by one; prints `R <operationId>` for every decryption as
 * the engine reports it (after its batch is written) and `DONE` at the end. The parent kills it
 * with SIGKILL at random points; the child kills itself as it starts the document at index
 * `killAtDoc` if nothing killed it before (the parent's bound: every killed run ends before the
 * stream does).
 *
 * argv: database path, identity file (JSON, hex keys), stream file (JSON, hex documents),
 * optionally `killAtDoc`.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { fromHex, toHex } from "../src/bytes.js";
import { SecretGroupEngine } from "../src/engine/engine.js";

const [path, identityFile, streamFile, killAt] = process.argv.slice(2) as [string, string, string, string | undefined];
const killAtDoc = killAt === undefined ? undefined : Number(killAt);
const id = JSON.parse(await readFile(identityFile, "utf8")) as { publicKey: string; secretKey: string };
const stream = (JSON.parse(await readFile(streamFile, "utf8")) as string[]).map(fromHex);
const engine = await SecretGroupEngine.open({ path, identity: { publicKey: fromHex(id.publicKey), secretKey: fromHex(id.secretKey) }, threads: 1 });
const watching = (async () => {
  for await (const e of engine.watch()) if (e.type === "decrypted") process.stdout.write(`R ${toHex(e.operationId)}\n`);
})();
process.stdout.write("READY\n");
for (const [index, doc] of stream.entries()) {
  if (index === killAtDoc) process.kill(process.pid, "SIGKILL");
  await engine.ingest([doc]);
}
await engine.close();
await watching;
process.stdout.write("DONE\n");
