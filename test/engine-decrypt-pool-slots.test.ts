/**
 * The shared output slots of bulk long-term decryption (src/engine/poolSlots.ts): best fit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { giveSlotBack, takeSlot } from "../src/engine/poolSlots.js";
import type { PoolSlot } from "../src/engine/poolSlots.js";

const slotOf = (bytes: number): PoolSlot => ({ output: new Uint8Array(new SharedArrayBuffer(bytes)) });

test("a chunk takes the smallest kept slot that fits: a small chunk leaves the large slot to a large one", () => {
  const small = slotOf(777);
  const large = slotOf(3 * 1024 * 1024);
  giveSlotBack(small);
  giveSlotBack(large); // the most recent: a chunk that took the last fitting slot would take it
  assert.equal(takeSlot(700), small);
  assert.equal(takeSlot(2 * 1024 * 1024), large);
});
