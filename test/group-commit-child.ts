/**
 * The process test/store-group-commit.test.ts kills while it writes: it opens a store (arguments:
 * database folder, secret key hex) and writes groups' synced batches, many at once (so they
 * share LevelDB writes), reporting each group to the parent as its `batch` resolves.
 *
 * @module
 */
import { fromHex } from "../src/bytes.js";
import { identityFromSecretKey } from "../src/identity.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { openStore } from "./engine-helpers.js";
import { groupOps } from "./group-commit-support.js";

const [path, secretKey] = process.argv.slice(2) as [string, string];
const store = await openStore(path, identityFromSecretKey(fromHex(secretKey)));
for (let round = 0; ; round++) {
  await Promise.all(
    Array.from({ length: 16 }, async (_, i) => {
      const group = round * 16 + i;
      await store.batch(groupOps(Sublevel.Docs, group), { sync: true });
      process.send?.({ group });
    }),
  );
}
