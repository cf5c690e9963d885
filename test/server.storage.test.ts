/**
 * The server over its store. A commit that fails (disk full, I/O error): no reply
 * may claim what was not stored, the server stays up serving reads, refuses writes
 * with `unavailable`, and takes writes again by itself once the store does.
 * Retention: expired messages leave the store and the state's recent messages.
 * The commit window: changes applied within `commitWindowMs` of the last commit are
 * committed together, and nothing they cause (replies, pushes, reads) is sent before
 * that commit. Fewer fsyncs under load, the same guarantee: a reply means stored.
 */
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatClient } from "../src/client/index.js";
import type { Frame } from "../src/client/types.js";
import { DEFAULTS, type Options } from "../src/config.js";
import { startServer, type ChatServer } from "../src/server/httpServer.js";
import { hashToken } from "../src/server/tokens.js";
import { MemoryStore } from "../src/store/memoryStore.js";
import type { LogPosition } from "../src/store/store.js";
import { FailingStore, UnreadableStore } from "./helpers/failingStore.js";
import { httpUrl, rawSocket, rejection } from "./helpers/server.js";
import { A, messageAt, ROOM } from "./helpers/storeRows.js";

let server: ChatServer | undefined;
const clients: ChatClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) if (!c.closed) c.close();
  await server?.close();
  server = undefined;
});

/** Rate limits and quotas out of the way, for tests that send as fast as they can. */
const UNLIMITED = { ratePerSecond: 1_000_000, rateBurst: 1_000_000, accountsPerMinutePerIp: 1_000_000, roomsPerMinutePerIp: 1_000_000 };

async function start(store: MemoryStore, fatal: unknown[], overrides: Partial<Options> = {}): Promise<ChatServer> {
  server = await startServer({
    options: { ...DEFAULTS, port: 0, host: "127.0.0.1", db: ":memory:", ...overrides },
    logger: pino({ level: "silent" }),
    store,
    onFatal: (err) => fatal.push(err),
  });
  return server;
}

async function connect(s: ChatServer): Promise<ChatClient> {
  const c = await ChatClient.connect(s.url, { WebSocket });
  clients.push(c);
  return c;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("a failed commit", () => {
  it("answers unavailable instead of what was not stored, keeps serving reads, and takes writes again once the store does", async () => {
    const store = new FailingStore();
    const fatal: unknown[] = [];
    const s = await start(store, fatal);
    const [a, b] = [await connect(s), await connect(s)];
    const { room } = await a.request("create_room", { room_name: "kept" });
    await b.request("choose_room", { room_id: room.id });
    const seen: string[] = [];
    b.on("frame", (f) => seen.push(f.event));

    store.failing = true;
    const lost = await rejection(a.request("create_room", { room_name: "lost" }));
    expect(lost.code).toBe("unavailable");
    expect(lost.details?.retry_after_ms).toBeGreaterThan(0);
    // Now refused before it is applied.
    const refused = await rejection(a.request("send_message", { room_id: room.id, message: "not stored" }));
    expect(refused).toMatchObject({ code: "unavailable", request: "send_message" });
    // Reads keep working, and show nothing that was not stored.
    expect((await b.request("show_rooms")).rooms.map((r) => r.name)).toEqual(["kept"]);
    expect((await b.request("history", { room_id: room.id })).messages).toEqual([]);
    expect((await b.request("choose_room", { room_id: room.id })).room.name).toBe("kept");
    expect(seen).not.toContain("message");
    expect(seen).not.toContain("room_created");
    const ready = await fetch(httpUrl(s, "/readyz"));
    expect(ready.status).toBe(503);
    expect(await ready.text()).toMatch(/read-only: the disk is full/);
    expect((await fetch(httpUrl(s, "/healthz"))).status).toBe(200);

    store.failing = false;
    await until(() => s.hub.unavailable === undefined);
    expect((await fetch(httpUrl(s, "/readyz"))).status).toBe(200);
    // The lost room was rolled back, in the store and in memory: its name is free.
    expect([...store.load().rooms.values()].map((r) => r.name)).toEqual(["kept"]);
    expect((await a.request("create_room", { room_name: "lost" })).room.name).toBe("lost");
    expect((await a.request("send_message", { room_id: room.id, message: "stored" })).message.text).toBe("stored");
    expect(store.page(room.id, 10).messages.map((m) => m.text)).toEqual(["stored"]);
    expect(fatal).toEqual([]);
    expect(a.closed).toBeNull();
    expect(b.closed).toBeNull();
  });

  it("puts the connections of a del_user whose commit failed back on their account", async () => {
    const store = new FailingStore();
    const s = await start(store, []);
    const [one, two] = [await connect(s), await connect(s)];
    await one.request("change_name", { username: "kept" });
    await two.request("auth", { user_id: one.user.id, token: one.token! });
    const id = one.user.id;

    store.failing = true;
    expect((await rejection(one.request("del_user"))).code).toBe("unavailable");
    store.failing = false;
    await until(() => s.hub.unavailable === undefined);
    expect([...(s.hub.state.sessions.get(id) ?? [])]).toHaveLength(2);
    expect(store.load().users.get(id)?.username).toBe("kept");
    expect((await one.request("change_name", { username: "still here" })).user.id).toBe(id);
    expect(one.user.id).toBe(id);
    expect(two.user.id).toBe(id);
  });
});

describe("message retention", () => {
  it("deletes messages past the age and count limits from the store and from choose_room's recent messages", async () => {
    const store = new MemoryStore();
    const day = 86_400_000;
    const now = Date.now();
    store.write([
      { type: "user_put", id: A, username: "a", tokenHash: "h" },
      { type: "room_put", id: ROOM, name: "old times", ownerId: A },
      { type: "member_added", roomId: ROOM, userId: A },
      // Three messages ten days old, then six from today: a 7-day, 4-message rule keeps the newest four.
      ...[0, 1, 2].map((n) => ({ type: "message_added" as const, key: ROOM, message: messageAt(now - 10 * day, n, ROOM) })),
      ...[3, 4, 5, 6, 7, 8].map((n) => ({ type: "message_added" as const, key: ROOM, message: messageAt(now - 1000 + n, n, ROOM) })),
      ...[0, 1].map((n) => ({ type: "message_added" as const, key: "all", message: messageAt(now - 10 * day, n, "all") })),
    ]);
    store.commit();
    server = await startServer({
      options: { ...DEFAULTS, port: 0, host: "127.0.0.1", db: ":memory:", retainDays: 7, retainMessages: 4 },
      logger: pino({ level: "silent" }),
      store,
    });
    await until(() => store.page(ROOM, 100).messages.length === 4);
    expect(store.page(ROOM, 100).messages.map((m) => m.text)).toEqual(["m5", "m6", "m7", "m8"]);
    expect(store.page("all", 100).messages).toEqual([]);
    const c = await connect(server);
    expect((await c.request("choose_room", { room_id: ROOM })).history.map((m) => m.text)).toEqual(["m5", "m6", "m7", "m8"]);
  });
});

describe("names settled at an upgrade", () => {
  it("tells an account the upgrade renamed at its next sign-in, once, with the name it had", async () => {
    const store = new MemoryStore();
    store.write([{ type: "user_put", id: A, username: "alice (2)", tokenHash: hashToken("secret"), renamedFrom: "Alice" }]);
    store.commit();
    const s = await start(store, []);
    const first = await (await connect(s)).request("auth", { user_id: A, token: "secret" });
    expect(first.user.username).toBe("alice (2)");
    expect(first.renamed_from).toBe("Alice");
    const again = await (await connect(s)).request("auth", { user_id: A, token: "secret" });
    expect(again.renamed_from).toBeUndefined();
    expect(store.load().users.get(A)?.renamedFrom).toBeUndefined();
  });
});

describe("a failure the state cannot come back from", () => {
  it("stops: onFatal is called, connections are closed with 1011, and /readyz answers 503 from then on", async () => {
    const store = new UnreadableStore();
    const fatal: unknown[] = [];
    const s = await start(store, fatal);
    const a = await connect(s);
    expect((await fetch(httpUrl(s, "/readyz"))).status).toBe(200);
    const closed = new Promise<number>((resolve) => a.on("close", (ev) => resolve(ev.code)));
    store.failing = true;
    await a.request("send_message", { room_id: "all", message: "lost" }).catch(() => undefined);
    expect(await closed).toBe(1011);
    expect(fatal).toHaveLength(1);
    const ready = await fetch(httpUrl(s, "/readyz"));
    expect(ready.status).toBe(503);
    expect(await ready.text()).toMatch(/shutting down/);
  });
});

/** Counts commits and remembers every message id committed so far. */
class RecordingStore extends FailingStore {
  // Stands in for a database file, whose commits the window groups.
  override readonly syncs = true;
  commits = 0;
  readonly committed = new Set<string>();
  override commit(position?: LogPosition): void {
    super.commit(position);
    this.commits++;
    for (const key of ["all", ...this.load().rooms.keys()]) for (const m of this.page(key, 100).messages) this.committed.add(m.id);
  }
}

describe("the commit window", () => {
  it("commits what arrives within it together, and sends no reply or push before the commit that holds it", async () => {
    const store = new RecordingStore();
    const s = await start(store, [], { ...UNLIMITED, commitWindowMs: 300 });
    const senders = await Promise.all(Array.from({ length: 20 }, () => connect(s)));
    const early: string[] = [];
    for (const c of senders) {
      c.on("frame", (f: Frame) => {
        const id = f.event === "message" ? (f.data as { id: string }).id : f.event === "send_message" ? (f.data as { message: { id: string } }).message.id : undefined;
        if (id !== undefined && !store.committed.has(id)) early.push(`${f.event} ${id}`);
      });
    }
    await senders[0]!.request("send_message", { room_id: "all", message: "opens the window" });
    const before = store.commits;
    // Sent 10 ms apart, in turns of their own: without the window each would be a commit.
    const pending = [];
    for (const [i, c] of senders.entries()) {
      pending.push(c.request("send_message", { room_id: "all", message: `m${i}` }));
      await new Promise((r) => setTimeout(r, 10));
    }
    const replies = await Promise.all(pending);
    expect(replies).toHaveLength(20);
    expect(store.commits - before).toBeLessThan(20);
    expect(store.page("all", 100).messages).toHaveLength(21);
    expect(early).toEqual([]);
  });

  it("judges a repeated client id within the window as it will once committed: a deleted original frees it", async () => {
    const s = await start(new RecordingStore(), [], { ...UNLIMITED, commitWindowMs: 300 });
    const raw = await rawSocket(s.url);
    await raw.next();
    raw.ws.send(JSON.stringify({ event: "send_message", data: { room_id: "all", message: "opens the window" }, ref: 0 }));
    const frames: Frame[] = [];
    while (!frames.some((f) => f.ref === 0)) frames.push(await raw.next());
    // All three inside the window the first commit opened: the original is deleted before any of it is committed.
    raw.ws.send(JSON.stringify({ event: "send_message", data: { room_id: "all", message: "once", client_msg_id: "c-1" }, ref: 1 }));
    while (!frames.some((f) => f.ref === 1)) frames.push(await raw.next());
    const original = (frames.find((f) => f.ref === 1)!.data as { message: { id: string } }).message.id;
    raw.ws.send(JSON.stringify({ event: "delete_message", data: { message_id: original }, ref: 2 }));
    raw.ws.send(JSON.stringify({ event: "send_message", data: { room_id: "all", message: "again", client_msg_id: "c-1" }, ref: 3 }));
    while (!frames.some((f) => f.ref === 3)) frames.push(await raw.next());
    const again = frames.find((f) => f.ref === 3)!.data as { message: { id: string; text: string } };
    expect(again.message.id).not.toBe(original);
    expect(again.message.text).toBe("again");
    raw.ws.close();
  });

  it("answers a read sent in the same write as a send after that send's commit, with the message in it", async () => {
    const s = await start(new RecordingStore(), [], { ...UNLIMITED, commitWindowMs: 300 });
    const raw = await rawSocket(s.url);
    await raw.next();
    raw.ws.send(JSON.stringify({ event: "send_message", data: { room_id: "all", message: "first" }, ref: 1 }));
    raw.ws.send(JSON.stringify({ event: "send_message", data: { room_id: "all", message: "second" }, ref: 2 }));
    raw.ws.send(JSON.stringify({ event: "history", data: { room_id: "all" }, ref: 3 }));
    const frames: Frame[] = [];
    while (!frames.some((f) => f.ref === 3)) frames.push(await raw.next());
    const history = frames.find((f) => f.ref === 3)!.data as { messages: Array<{ text: string }> };
    expect(history.messages.map((m) => m.text)).toEqual(["first", "second"]);
    expect(frames.filter((f) => f.ref !== undefined).map((f) => f.ref)).toEqual([1, 2, 3]);
    raw.ws.close();
  });

  it("at shutdown, commits and answers what waits in the window before saying goodbye", async () => {
    const store = new RecordingStore();
    const s = await start(store, [], { ...UNLIMITED, commitWindowMs: 60_000 });
    const a = await connect(s);
    await a.request("send_message", { room_id: "all", message: "opens the window" });
    const waiting = a.request("send_message", { room_id: "all", message: "waits for the window" });
    // Applied (the state has it), not yet committed or answered.
    await expect.poll(() => s.hub.state.recent.get("all")?.length).toBe(2);
    const closed = new Promise<number>((resolve) => a.on("close", (ev) => resolve(ev.code)));
    await s.close(1001);
    server = undefined;
    expect((await waiting).message.text).toBe("waits for the window");
    expect(await closed).toBe(1001);
    expect(store.page("all", 10).messages.map((m) => m.text)).toEqual(["opens the window", "waits for the window"]);
  });

  it("answers unavailable to every request a failed commit held, and pushes none of it", async () => {
    const store = new RecordingStore();
    const s = await start(store, [], { ...UNLIMITED, commitWindowMs: 300 });
    const [a, b, listener] = [await connect(s), await connect(s), await connect(s)];
    await a.request("send_message", { room_id: "all", message: "stored" });
    await listener.request("ping");
    const heard: string[] = [];
    listener.on("message", (m) => heard.push(m.text));
    store.failing = true;
    const lost = await Promise.all([a, b, a, b].map((c, i) => rejection(c.request("send_message", { room_id: "all", message: `lost ${i}` }))));
    expect(lost.map((e) => e.code)).toEqual(["unavailable", "unavailable", "unavailable", "unavailable"]);
    store.failing = false;
    while (s.hub.unavailable !== undefined) await new Promise((r) => setTimeout(r, 20));
    await listener.request("ping");
    expect(heard).toEqual([]);
    expect(store.page("all", 100).messages.map((m) => m.text)).toEqual(["stored"]);
  });
});
