/**
 * A read the database fails (here: closed underneath the store) is a StorageError of code
 * STORAGE_ERROR naming what was read, for every read of the store (point reads, scans, pages,
 * keys, raw rows).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { StorageError } from "../src/errors.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { withStore } from "./engine-helpers.js";

test("every read the database fails is a StorageError naming what was read", () =>
  withStore(async ({ store }) => {
    await store.batch([{ sub: Sublevel.Docs, key: "ab", value: new Uint8Array([1]) }]);
    // withStore's close closes it again: a no-op on a closed database
    await (store as unknown as { db: { close(): Promise<void> } }).db.close();
    const fault = (what: string) => (e: unknown) => e instanceof StorageError && e.code === "STORAGE_ERROR" && e.message.startsWith(`reading ${what}: `);
    await assert.rejects(store.get(Sublevel.Docs, "ab", "document"), fault("document"));
    await assert.rejects(store.has(Sublevel.Docs, "ab"), fault("docs"));
    await assert.rejects(store.scan(Sublevel.Docs, "", "document"), fault("docs"));
    await assert.rejects(store.rawScan(Sublevel.Docs, ""), fault("docs"));
    await assert.rejects(store.scanAfter(Sublevel.Docs, "", undefined, "document", 10), fault("document"));
    await assert.rejects(store.keys(Sublevel.Docs, ""), fault("docs"));
    await assert.rejects(store.lastKey(Sublevel.Docs, ""), fault("docs"));
    await assert.rejects(
      (async () => {
        for await (const _ of store.rawEntries(Sublevel.Docs)) void _;
      })(),
      fault("docs"),
    );
  }));
