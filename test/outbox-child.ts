/**
 * The process test/engine-outbox.test.ts kills right after `rotate()` returns: it opens the
 * owner's engine (arguments: database folder, secret key hex, group id hex), rotates, reports
 * the commit it was given to the parent and waits to be killed, never publishing it.
 *
 * @module
 */
import { fromHex, toHex } from "../src/bytes.js";
import { SecretGroupEngine } from "../src/engine/engine.js";
import { identityFromSecretKey } from "../src/identity.js";

const [path, secretKey, groupId] = process.argv.slice(2) as [string, string, string];
const engine = await SecretGroupEngine.open({ path, identity: identityFromSecretKey(fromHex(secretKey)), threads: 1 });
const { documents } = await engine.rotate(groupId);
process.send?.({ rotated: documents.map(toHex) });
// the application would publish now: it is killed first
setInterval(() => undefined, 1000);
