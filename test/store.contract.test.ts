/** The Store contract, run against every implementation. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryStore } from "../src/store/memoryStore.js";
import { SqliteStore } from "../src/store/sqliteStore.js";
import { uuidv7Floor } from "../src/store/retention.js";
import type { Store } from "../src/store/store.js";
import { A, B, message, messageAt, ROOM } from "./helpers/storeRows.js";

const DM = A < B ? `dm:${A}:${B}` : `dm:${B}:${A}`;
const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

/** `count` messages in `key`, one a day from day `from`; returns their texts, oldest first. */
function fill(store: Store, key: string, from: number, count: number, n0: number): string[] {
  const messages = Array.from({ length: count }, (_, i) => messageAt(T0 + (from + i) * DAY, n0 + i, key));
  store.write(messages.map((m) => ({ type: "message_added" as const, key, message: m })));
  store.commit();
  return messages.map((m) => m.text);
}

/** A whole conversation, paged back two at a time: also checks that paging still works after pruning. */
function texts(store: Store, key: string): string[] {
  const pages: string[][] = [];
  let before: string | undefined;
  for (;;) {
    const page = store.page(key, 2, before);
    pages.unshift(page.messages.map((m) => m.text));
    if (!page.has_more) return pages.flat();
    before = page.messages[0]!.id;
  }
}

const total = (store: Store, keys: string[]) => keys.reduce((sum, k) => sum + store.page(k, 10_000).messages.length, 0);

const dir = mkdtempSync(join(tmpdir(), "chat-contract-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const stores: Array<[string, () => Store]> = [
  ["SqliteStore (:memory:)", () => new SqliteStore(":memory:")],
  // On a file, commits go through the changes journal before SQLite.
  ["SqliteStore (file)", () => new SqliteStore(join(dir, `${++files}.db`))],
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

  it("pages forward after a message, oldest first, up to before when given", () => {
    const store = makeStore();
    store.write(Array.from({ length: 250 }, (_, i) => ({ type: "message_added" as const, key: "all", message: message(i + 1, "all") })));
    store.commit();
    const first = store.page("all", 100, undefined, message(10, "all").id);
    expect(first.messages.map((m) => m.text)).toEqual(Array.from({ length: 100 }, (_, i) => `m${11 + i}`));
    expect(first.has_more).toBe(true);
    const rest = store.page("all", 200, undefined, first.messages[99]!.id);
    expect(rest.messages.map((m) => m.text)).toEqual(Array.from({ length: 140 }, (_, i) => `m${111 + i}`));
    expect(rest.has_more).toBe(false);
    // Between two messages: after m5, before m9.
    const between = store.page("all", 100, message(9, "all").id, message(5, "all").id);
    expect(between).toEqual({ messages: [6, 7, 8].map((n) => message(n, "all")), has_more: false });
    expect(store.page("all", 2, message(9, "all").id, message(5, "all").id).has_more).toBe(true);
    expect(store.page("all", 10, undefined, message(250, "all").id)).toEqual({ messages: [], has_more: false });
  });

  it("finds a message by its sender and client id while it is stored", () => {
    const store = makeStore();
    const withId = { ...message(1, "all"), client_msg_id: "c-1" };
    store.write([{ type: "message_added", key: "all", message: withId }]);
    expect(store.sentBy(A, "c-1")).toBeUndefined();
    store.commit();
    expect(store.sentBy(A, "c-1")).toEqual(withId);
    expect(store.sentBy(B, "c-1")).toBeUndefined();
    expect(store.sentBy(A, "c-2")).toBeUndefined();
    store.prune({ keepPerConversation: 0, beforeId: "ffffffff" }, 100);
    expect(store.sentBy(A, "c-1")).toBeUndefined();
  });

  it("forgets a deleted room's messages by id and by client id, and answers for edits and deletes at once", () => {
    const store = makeStore();
    const [m1, m2] = [{ ...message(1, ROOM), client_msg_id: "c-1" }, { ...message(2, ROOM), client_msg_id: "c-2" }];
    store.write([{ type: "room_put", id: ROOM, name: "Tea", ownerId: A }, { type: "message_added", key: ROOM, message: m1 }, { type: "message_added", key: ROOM, message: m2 }]);
    store.commit();
    store.write([{ type: "message_edited", key: ROOM, message: { ...m1, text: "edited" } }, { type: "message_deleted", key: ROOM, id: m2.id }]);
    store.commit();
    expect(store.message(m1.id)).toEqual({ key: ROOM, message: { ...m1, text: "edited" } });
    expect(store.sentBy(A, "c-1")?.text).toBe("edited");
    expect([store.message(m2.id), store.sentBy(A, "c-2")]).toEqual([undefined, undefined]);
    store.write([{ type: "room_deleted", id: ROOM }]);
    store.commit();
    expect([store.message(m1.id), store.sentBy(A, "c-1")]).toEqual([undefined, undefined]);
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

  describe("prune", () => {
    it("deletes the messages older than beforeId in every conversation, and nothing from that instant on", () => {
      const store = makeStore();
      const lobby = fill(store, "all", 0, 10, 1);
      const room = fill(store, ROOM, 5, 3, 100);
      fill(store, DM, 0, 4, 200);
      // Day 6 onwards stays, the message made at the very first millisecond of day 6 included.
      expect(store.prune({ beforeId: uuidv7Floor(T0 + 6 * DAY) }, 100)).toBe(6 + 1 + 4);
      expect(texts(store, "all")).toEqual(lobby.slice(6));
      expect(texts(store, ROOM)).toEqual(room.slice(1));
      expect(texts(store, DM)).toEqual([]);
      expect(store.prune({ beforeId: uuidv7Floor(T0 + 6 * DAY) }, 100)).toBe(0);
    });

    it("keeps the newest keepPerConversation of each conversation, and keeps that count as messages arrive", () => {
      const store = makeStore();
      const lobby = fill(store, "all", 0, 10, 1);
      const room = fill(store, ROOM, 0, 2, 100);
      const dm = fill(store, DM, 0, 5, 200);
      expect(store.prune({ keepPerConversation: 3 }, 100)).toBe(7 + 2);
      expect(texts(store, "all")).toEqual(lobby.slice(-3));
      expect(texts(store, ROOM)).toEqual(room);
      expect(texts(store, DM)).toEqual(dm.slice(-3));
      const later = fill(store, "all", 20, 4, 50);
      expect(store.prune({ keepPerConversation: 3 }, 100)).toBe(4);
      expect(texts(store, "all")).toEqual(later.slice(-3));
      // A larger count later keeps what is there; a smaller one cuts further.
      expect(store.prune({ keepPerConversation: 5 }, 100)).toBe(0);
      expect(store.prune({ keepPerConversation: 1 }, 100)).toBe(2 + 1 + 2);
      expect(texts(store, "all")).toEqual(later.slice(-1));
    });

    it("applies both rules together: whichever deletes more in a conversation", () => {
      const store = makeStore();
      const lobby = fill(store, "all", 0, 10, 1);
      const room = fill(store, ROOM, 0, 10, 100);
      store.write([{ type: "room_put", id: ROOM, name: "Tea", ownerId: A }]);
      store.commit();
      store.prune({ beforeId: uuidv7Floor(T0 + 8 * DAY), keepPerConversation: 5 }, 100);
      expect(texts(store, "all")).toEqual(lobby.slice(8));
      expect(texts(store, ROOM)).toEqual(room.slice(8));
      fill(store, ROOM, 30, 10, 300);
      store.prune({ beforeId: uuidv7Floor(T0 + 8 * DAY), keepPerConversation: 5 }, 100);
      expect(texts(store, ROOM)).toHaveLength(5);
      expect(store.load().recent.get(ROOM)).toHaveLength(5);
    });

    it("deletes at most budget rows a call, returns budget until a call gets round, and ends where one pass would", () => {
      const store = makeStore();
      const keys = ["all", ROOM, DM];
      const kept = keys.map((k, i) => fill(store, k, 0, 25, 1 + 100 * i).slice(-5));
      const returns: number[] = [];
      for (;;) {
        const before = total(store, keys);
        const r = store.prune({ keepPerConversation: 5 }, 7);
        returns.push(r);
        expect(before - total(store, keys)).toBeLessThanOrEqual(7);
        if (r < 7) break;
      }
      expect(returns.length).toBeGreaterThanOrEqual(Math.ceil(60 / 7));
      expect(returns.slice(0, -1).every((r) => r === 7)).toBe(true);
      expect(keys.map((k) => texts(store, k))).toEqual(kept);
    });

    it("looks at no more than budget conversations a call, and each gets its turn", () => {
      const store = makeStore();
      const rooms = Array.from({ length: 10 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`);
      for (const [i, r] of rooms.entries()) fill(store, r, 0, 3, 10 * i);
      const prune = () => store.prune({ keepPerConversation: 1 }, 4);
      const returns: number[] = [];
      for (let r = 4; r === 4; ) returns.push((r = prune()));
      // 20 rows to delete, 4 a call; the sixth call finds the end of the round.
      expect(returns).toEqual([4, 4, 4, 4, 4, 0]);
      expect(rooms.map((r) => texts(store, r).length)).toEqual(rooms.map(() => 1));
      // Nothing left to delete: a round still takes three calls of at most 4 conversations.
      expect([prune(), prune(), prune()]).toEqual([4, 4, 0]);
    });

    it("touches no uncommitted write, and does nothing without a rule or a budget", () => {
      const store = makeStore();
      const lobby = fill(store, "all", 0, 5, 1);
      expect(store.prune({}, 100)).toBe(0);
      expect(store.prune({ keepPerConversation: 0 }, 100)).toBe(0);
      expect(store.prune({ keepPerConversation: 1 }, 0)).toBe(0);
      expect(texts(store, "all")).toEqual(lobby);
      const pending = messageAt(T0 + 9 * DAY, 99, "all");
      store.write([{ type: "message_added", key: "all", message: pending }]);
      expect(store.prune({ keepPerConversation: 2 }, 100)).toBe(3);
      store.commit();
      expect(texts(store, "all")).toEqual([...lobby.slice(-2), pending.text]);
    });

    it("keeps paging right and the highest id known after pruning", () => {
      const store = makeStore();
      const lobby = fill(store, "all", 0, 9, 1);
      store.prune({ keepPerConversation: 4 }, 100);
      const first = store.page("all", 3);
      expect(first.messages.map((m) => m.text)).toEqual(lobby.slice(-3));
      expect(first.has_more).toBe(true);
      const rest = store.page("all", 3, first.messages[0]!.id);
      expect(rest.messages.map((m) => m.text)).toEqual(lobby.slice(-4, -3));
      expect(rest.has_more).toBe(false);
      expect(store.lastMessageId()).toBe(messageAt(T0 + 8 * DAY, 9, "all").id);
    });

    it("counts a conversation longer than the budget allows in one call, over several calls", () => {
      const store = makeStore();
      const lobby = fill(store, "all", 0, 300, 1);
      let calls = 0;
      while (store.prune({ keepPerConversation: 200 }, 2) === 2) calls++;
      expect(calls).toBeGreaterThan(1);
      expect(texts(store, "all")).toEqual(lobby.slice(-200));
    });
  });

  it("probes", () => {
    const store = makeStore();
    expect(() => store.probe()).not.toThrow();
  });
});
