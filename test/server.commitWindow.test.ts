/**
 * The commit window: changes applied within `commitWindowMs` of the last commit are
 * committed together, and nothing they cause (replies, pushes, reads) is sent before
 * that commit. Fewer fsyncs under load, the same guarantee: a reply means stored.
 */
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatClient } from "../src/client/index.js";
import { DEFAULTS } from "../src/config.js";
import type { Frame } from "../src/client/types.js";
import type { LogPosition } from "../src/store/store.js";
import { startServer, type ChatServer } from "../src/server/httpServer.js";
import { MemoryStore } from "../src/store/memoryStore.js";
import { FailingStore } from "./helpers/failingStore.js";
import { rawSocket, rejection } from "./helpers/server.js";

/** Counts commits and remembers every message id committed so far. */
class RecordingStore extends FailingStore {
  commits = 0;
  readonly committed = new Set<string>();
  override commit(position?: LogPosition): void {
    super.commit(position);
    this.commits++;
    for (const key of ["all", ...this.load().rooms.keys()]) for (const m of this.page(key, 100).messages) this.committed.add(m.id);
  }
}

let server: ChatServer | undefined;
const clients: ChatClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) if (!c.closed) c.close();
  await server?.close();
  server = undefined;
});

async function start(store: MemoryStore, commitWindowMs: number): Promise<ChatServer> {
  const unlimited = { ratePerSecond: 1_000_000, rateBurst: 1_000_000, accountsPerMinutePerIp: 1_000_000, roomsPerMinutePerIp: 1_000_000 };
  server = await startServer({ options: { ...DEFAULTS, port: 0, host: "127.0.0.1", db: ":memory:", ...unlimited, commitWindowMs }, logger: pino({ level: "silent" }), store, onFatal: () => {} });
  return server;
}

async function connect(s: ChatServer): Promise<ChatClient> {
  const c = await ChatClient.connect(s.url, { WebSocket });
  clients.push(c);
  return c;
}

describe("the commit window", () => {
  it("commits what arrives within it together, and sends no reply or push before the commit that holds it", async () => {
    const store = new RecordingStore();
    const s = await start(store, 300);
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

  it("answers a read sent in the same write as a send after that send's commit, with the message in it", async () => {
    const s = await start(new MemoryStore(), 300);
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
    const s = await start(store, 60_000);
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
    const s = await start(store, 300);
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
