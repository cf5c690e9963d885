/** The Store contract, run against every implementation. */
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../src/store/memoryStore.js";
import { SqliteStore } from "../src/store/sqliteStore.js";
import type { Store } from "../src/store/store.js";
import { A, B, message } from "./helpers/storeRows.js";

const stores: Array<[string, () => Store]> = [
  ["SqliteStore (:memory:)", () => new SqliteStore(":memory:")],
  ["MemoryStore", () => new MemoryStore()],
];

describe.each(stores)("%s", (_name, makeStore) => {
  it("pages through a long conversation by id, newest page first, oldest first within it", () => {
    const store = makeStore();
    store.write(Array.from({ length: 250 }, (_, i) => ({ type: "message_added" as const, key: "all", message: message(i + 1, "all") })));
    store.commit();
    const first = store.page("all", 100);
    expect(first.messages.map((m) => m.text)).toEqual(Array.from({ length: 100 }, (_, i) => `m${151 + i}`));
    expect(first.has_more).toBe(true);
    const second = store.page("all", 100, first.messages[0]!.id);
    expect(second.messages[0]!.text).toBe("m51");
    const last = store.page("all", 100, second.messages[0]!.id);
    expect(last.messages.map((m) => m.text)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i + 1}`));
    expect(last.has_more).toBe(false);
  });

  it("deletes a direct conversation with its pair", () => {
    const store = makeStore();
    const key = A < B ? `dm:${A}:${B}` : `dm:${B}:${A}`;
    store.write([
      { type: "user_put", id: A, username: null, tokenHash: "ha" },
      { type: "user_put", id: B, username: null, tokenHash: "hb" },
      { type: "direct_pair_added", a: A, b: B },
      { type: "message_added", key, message: message(1, key) },
    ]);
    store.commit();
    expect(store.load().directPeers.get(B)).toEqual(new Set([A]));
    store.write([{ type: "direct_pair_deleted", a: B, b: A }, { type: "user_deleted", id: B }]);
    store.commit();
    expect(store.page(key, 10).messages).toEqual([]);
    expect(store.load().directPeers.size).toBe(0);
  });


  it("knows the highest message id stored", () => {
    const store = makeStore();
    expect(store.lastMessageId()).toBeUndefined();
    store.write([3, 1, 2].map((n) => ({ type: "message_added" as const, key: `room-${n}`, message: message(n, `room-${n}`) })));
    store.commit();
    expect(store.lastMessageId()).toBe(message(3, "x").id);
  });

  it("applies nothing before commit", () => {
    const store = makeStore();
    store.write([{ type: "user_put", id: A, username: "a", tokenHash: "ha" }, { type: "message_added", key: "all", message: message(1, "all") }]);
    expect(store.load().users.size).toBe(0);
    expect(store.page("all", 10).messages).toEqual([]);
    store.commit();
    expect(store.load().users.get(A)?.username).toBe("a");
    expect(store.page("all", 10).messages).toHaveLength(1);
  });
});
