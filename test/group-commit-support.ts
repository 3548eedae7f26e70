/** What test/store-group-commit.test.ts and its child write: one group's batch of several keys. */
import type { StoreOp } from "../src/engine/store/store.js";
import type { SublevelName } from "../src/engine/store/sublevels.js";

/** Keys written per group. */
export const KEYS_PER_GROUP = 8;

/** One group's batch: {@link KEYS_PER_GROUP} keys `g<group>/<k>` under `sub`. */
export const groupOps = (sub: SublevelName, group: number): StoreOp[] =>
  Array.from({ length: KEYS_PER_GROUP }, (_, k) => ({ sub, key: `g${String(group).padStart(6, "0")}/${k}`, value: new Uint8Array(64).fill(group & 0xff) }));
