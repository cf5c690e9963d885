/**
 * What one client can cost the server however its requests arrive: queued bytes
 * bounded by the cap plus one reply, replies bounded by a size budget, listings
 * paged, and permanent accounts and rooms bounded per address.
 */
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Options } from "../src/config.js";
import { WebSocket } from "ws";
import { clientFrame, rawSocket, rejection, startHarness, take, type Harness } from "./helpers/server.js";

let h: Harness | undefined;
afterEach(async () => {
  const done = h;
  h = undefined;
  await done?.close();
  expect(done?.problems ?? []).toEqual([]);
});

async function start(overrides: Partial<Options> = {}): Promise<Harness> {
  h = await startHarness(overrides);
  return h;
}

/** A WebSocket client on a bare TCP socket that completes the handshake and then never reads again. */
async function nonReader(port: number): Promise<{ socket: Socket }> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  const key = randomBytes(16).toString("base64");
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let head = "";
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.pause();
      resolve();
    };
    socket.on("data", onData);
  });
  expect(head).toMatch(/^HTTP\/1\.1 101/);
  return { socket };
}

describe("a client that never reads", () => {
  it("costs at most its cap plus one reply when 60 large history requests arrive in one TCP write, and is closed", async () => {
    const cap = 256 * 1024;
    const s = await start({ maxBufferedBytes: cap, heartbeatMs: 0 });
    const writer = await s.client();
    const emoji = "😀".repeat(4000); // 16,000 bytes of UTF-8 a message
    for (let i = 0; i < 100; i++) await writer.request("send_message", { room_id: "all", message: emoji });

    const { socket } = await nonReader(s.server.port);
    expect(s.server.hub.connectionCount).toBe(2);
    const burst = Buffer.concat(
      Array.from({ length: 60 }, (_, i) => clientFrame(JSON.stringify({ event: "history", data: { room_id: "all", limit: 100 }, ref: i }))),
    );
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let sampling = true;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
      if (sampling) setImmediate(sample);
    };
    sample();
    socket.write(burst);
    // The server drops it: it cannot tell by reading, since the socket is never read again.
    while (s.server.hub.connectionCount > 1) await new Promise((resolve) => setTimeout(resolve, 20));
    sampling = false;
    socket.destroy();
    // Unbounded, the 60 pages of ~1.6 MB each would queue ~96 MB; the kernel's buffers hold a few MB more.
    expect(peak).toBeLessThan(16 * 1024 * 1024);
    // Everyone else is unharmed.
    expect((await writer.request("ping")).ts).toBeTypeOf("string");
  });
});

describe("reply budget", () => {
  it("cuts a history page that would pass maxReplyBytes short, newest kept, and paging on returns every message once", async () => {
    const s = await start({ maxReplyBytes: 64 * 1024 });
    const a = await s.client();
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) sent.push((await a.request("send_message", { room_id: "all", message: `${i} ${"é".repeat(3990)}` })).message.id);
    const first = await a.request("history", { room_id: "all", limit: 100 });
    expect(first.has_more).toBe(true);
    expect(first.messages.length).toBeGreaterThan(0);
    expect(first.messages.length).toBeLessThan(20);
    expect(first.messages.at(-1)!.id).toBe(sent.at(-1));
    const seen = first.messages.map((m) => m.id);
    let page = first;
    while (page.has_more) {
      page = await a.request("history", { room_id: "all", limit: 100, before: page.messages[0]!.id });
      seen.unshift(...page.messages.map((m) => m.id));
    }
    expect(seen).toEqual(sent);
    // Read forward, a page keeps its oldest messages, and paging on with after returns every message once.
    const forward: string[] = [];
    let after = sent[0]!;
    do {
      page = await a.request("history", { room_id: "all", limit: 100, after });
      expect(page.messages.length).toBeLessThan(20);
      forward.push(...page.messages.map((m) => m.id));
      after = page.messages.at(-1)?.id ?? after;
    } while (page.has_more);
    expect(forward).toEqual(sent.slice(1));
  });
});

describe("reply budget beyond history", () => {
  it("keeps choose_room's recent messages and show_rooms' pages within maxReplyBytes, and bounds rooms joined", async () => {
    const budget = 16 * 1024;
    const s = await start({ maxReplyBytes: budget, maxRoomsJoined: 3 });
    const [a, b] = await s.clients(2);
    const { room } = await a.request("create_room", { room_name: "loud" });
    // Control characters are escaped to six bytes each: 50 of these would be 600 KB.
    const sent: string[] = [];
    for (let i = 0; i < 50; i++) sent.push((await a.request("send_message", { room_id: room.id, message: `${i}${"\u0001".repeat(2000)}` })).message.id);
    const joined = await b.request("choose_room", { room_id: room.id });
    expect(Buffer.byteLength(JSON.stringify(joined))).toBeLessThanOrEqual(budget);
    expect(joined.history.length).toBeGreaterThan(0);
    expect(joined.history.map((m) => m.id)).toEqual(sent.slice(sent.length - joined.history.length));

    const long = (i: number) => `${String(i).padStart(3, "0")} ${"名".repeat(60)}`;
    const c = await s.client();
    for (let i = 0; i < 60; i++) {
      const { room: made } = await c.request("create_room", { room_name: long(i) });
      await c.request("exit_room", { room_id: made.id });
    }
    const listed: string[] = [];
    let page = await c.request("show_rooms");
    expect(page.has_more).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThanOrEqual(budget);
    listed.push(...page.rooms.map((r) => r.name));
    while (page.has_more) {
      page = await c.request("show_rooms", { after: listed.at(-1)! });
      listed.push(...page.rooms.map((r) => r.name));
    }
    expect(listed).toEqual(["loud", ...Array.from({ length: 60 }, (_, i) => long(i))].sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : 1)));

    // Rooms joined per account: a is in "loud"; two more, then no more, whether joined or created.
    const idOf = (name: string) => [...s.server.hub.state.rooms.values()].find((r) => r.name === name)!.id;
    for (const name of [long(0), long(1)]) await a.request("choose_room", { room_id: idOf(name) });
    const full = await rejection(a.request("create_room", { room_name: "one more" }));
    expect(full).toMatchObject({ code: "limit_reached", message: "An account may be in at most 3 rooms; leave one first." });
    expect((await rejection(a.request("choose_room", { room_id: idOf(long(5)) }))).code).toBe("limit_reached");
  });
});

describe("show_rooms pages", () => {
  it("lists rooms a page at a time with has_more and after; non-object data still gets the first page", async () => {
    const s = await start();
    const a = await s.client();
    const names = ["delta", "Alpha", "charlie", "Bravo", "echo"];
    for (const room_name of names) await a.request("create_room", { room_name });
    const first = await a.request("show_rooms", { limit: 2 });
    expect(first.rooms.map((r) => r.name)).toEqual(["Alpha", "Bravo"]);
    expect(first.has_more).toBe(true);
    const second = await a.request("show_rooms", { limit: 2, after: "bravo" });
    expect(second.rooms.map((r) => r.name)).toEqual(["charlie", "delta"]);
    const last = await a.request("show_rooms", { limit: 2, after: "delta" });
    expect(last).toMatchObject({ rooms: [{ name: "echo" }], has_more: false });
    const all = await a.request("show_rooms", "anything" as never);
    expect(all.rooms).toHaveLength(5);
    expect(all.has_more).toBe(false);
    const bad = await rejection(a.request("show_rooms", { limit: 501 }));
    expect(bad.code).toBe("bad_request");
  });
});

describe("per-address quotas", () => {
  it("refuses a new permanent account over the address's allowance with rate_limited, and leaves it unapplied", async () => {
    const s = await start({ accountsPerMinutePerIp: 3 });
    const clients = await s.clients(5);
    await clients[0].request("change_name", { username: "fine" });
    // A name another account holds makes no account permanent: it costs nothing.
    expect((await rejection(clients[1].request("change_name", { username: "FINE" }))).code).toBe("name_taken");
    for (const [i, c] of clients.slice(1, 3).entries()) await c.request("change_name", { username: `fine ${i}` });
    const refused = await rejection(clients[3].request("change_name", { username: "one too many" }));
    expect(refused.code).toBe("rate_limited");
    expect(refused.details?.retry_after_ms).toBeGreaterThan(0);
    expect(refused.message).toMatch(/new accounts/);
    expect(s.server.hub.state.users.get(clients[3].user.id)?.username).toBeNull();
    // A direct message would make its pristine recipient permanent: it counts too.
    const dm = await rejection(clients[0].request("send_message", { user_id: clients[4].user.id, message: "hi" }));
    expect(dm.code).toBe("rate_limited");
    // Accounts that are already permanent are not limited.
    expect((await clients[0].request("change_name", { username: "again" })).user.username).toBe("again");
    expect((await clients[1].request("send_message", { room_id: "all", message: "still talking" })).message.text).toBe("still talking");
  });

  it("refuses rooms over the address's allowance, counting only rooms really made", async () => {
    const s = await start({ roomsPerMinutePerIp: 2 });
    const [a, b] = await s.clients(2);
    await a.request("create_room", { room_name: "one" });
    // A refused name costs nothing.
    expect((await rejection(b.request("create_room", { room_name: "ONE" }))).code).toBe("name_taken");
    await b.request("create_room", { room_name: "two" });
    const refused = await rejection(b.request("create_room", { room_name: "three" }));
    expect(refused.code).toBe("rate_limited");
    expect(refused.message).toMatch(/new rooms/);
    expect([...s.server.hub.state.rooms.values()].map((r) => r.name).sort()).toEqual(["one", "two"]);
  });
});

describe("strings that are not well-formed Unicode", () => {
  it("refuses lone surrogates with bad_request naming the field, in names, messages and refs", async () => {
    const s = await start();
    const a = await s.client();
    const name = await rejection(a.request("change_name", { username: "a\ud800" }));
    expect(name.code).toBe("bad_request");
    expect(name.details?.fields).toEqual([{ pointer: "/data/username", reason: "must be well-formed Unicode (no lone surrogate)" }]);
    const message = await rejection(a.request("send_message", { room_id: "all", message: "x\udfff" }));
    expect(message.details?.fields?.[0]?.pointer).toBe("/data/message");
    // Escaped in the JSON text itself, as a hostile client would send it.
    a.sendRaw('{"event":"create_room","data":{"room_name":"t\\ud801ea"},"ref":"r"}');
    a.sendRaw('{"event":"ping","ref":"\\ud800"}');
    await s.settle(a);
    expect(s.server.hub.state.rooms.size).toBe(0);
    // The ping's ref cannot be echoed as it came, so its refusal carries none.
    const unreferenced = a.pushes.filter((f) => f.event === "error");
    expect(unreferenced.map((f) => (f.data as { details?: { fields?: unknown } }).details?.fields)).toEqual([
      [{ pointer: "/ref", reason: "must be well-formed Unicode (no lone surrogate)" }],
    ]);
    expect((await a.request("change_name", { username: "ok 😀" })).user.username).toBe("ok 😀");
  });
});

describe("sign_out and replace_token", () => {
  it("signs one connection out onto a fresh guest; the account and its token stay", async () => {
    const s = await start();
    const [a, other] = await s.clients(2);
    await a.request("change_name", { username: "ann" });
    const id = a.user.id;
    const token = a.token!;
    const welcomed = a.next("welcome");
    expect(await a.request("sign_out")).toEqual({ user_id: id });
    const guest = await welcomed;
    expect(guest.user).toMatchObject({ username: null });
    expect(guest.user.id).not.toBe(id);
    expect(a.user.id).toBe(guest.user.id);
    expect((await other.request("auth", { user_id: id, token })).user.username).toBe("ann");
  });

  it("replaces the token: the requester gets the new one, every other session is signed out, the old token stops working", async () => {
    const s = await start();
    const [a, b, c] = await s.clients(3);
    await a.request("change_name", { username: "ann" });
    const id = a.user.id;
    const oldToken = a.token!;
    await b.request("auth", { user_id: id, token: oldToken });
    take(b);
    const { token, user } = await a.request("replace_token");
    expect(user.id).toBe(id);
    expect(token).not.toBe(oldToken);
    expect(a.token).toBe(token);
    await s.settle(a, b);
    const pushes = take(b);
    expect(pushes.map((f) => f.event)).toEqual(["signed_out", "welcome"]);
    expect(pushes[0]!.data).toEqual({ user_id: id, reason: "token_replaced" });
    expect(b.user.id).not.toBe(id);
    expect((await rejection(c.request("auth", { user_id: id, token: oldToken }))).code).toBe("auth_failed");
    expect((await c.request("auth", { user_id: id, token })).user.id).toBe(id);
    // a stays signed in and keeps working.
    expect((await a.request("change_name", { username: "ann2" })).user.username).toBe("ann2");
  });
});

describe("bytes per address", () => {
  it("refuses frames over the address's byte allowance unread, so many connections of one address cannot flood everyone's queues", async () => {
    const s = await start({ ratePerSecond: 20, rateBurst: 60, bytesPerSecondPerIp: 256 * 1024 });
    // An honest reader from another address (127.0.0.2 is loopback too).
    const reader = new WebSocket(s.url, { localAddress: "127.0.0.2" });
    let seen = 0;
    reader.on("message", (data) => {
      if ((JSON.parse(String(data)) as { event: string }).event === "message") seen++;
    });
    await new Promise((resolve) => reader.once("open", resolve));
    const attackers = await Promise.all(Array.from({ length: 24 }, () => rawSocket(s.url)));
    const frame = JSON.stringify({ event: "send_message", data: { room_id: "all", message: "😀".repeat(4000) } });
    // Each stays within its own rate (a burst of 55); together they would queue ~21 MB for every reader.
    for (const a of attackers) for (let i = 0; i < 55; i++) a.ws.send(frame);
    await s.settle(await s.client());
    const pong = new Promise((resolve) => reader.once("message", resolve));
    reader.send(JSON.stringify({ event: "ping", ref: 1 }));
    await pong;
    expect(reader.readyState).toBe(WebSocket.OPEN);
    expect(seen).toBeGreaterThan(0);
    // About the burst of 1 MiB got through; the rest was refused unread.
    expect(seen).toBeLessThan(100);
    const refused = attackers.flatMap((a) => a.frames).filter((f) => (f.data as { code?: string }).code === "rate_limited");
    expect(refused.length).toBeGreaterThan(1000);
    reader.close();
  });
});

describe("error replies", () => {
  it("name at most 20 fields, however many a frame gets wrong, and never echo a lone surrogate from a key", async () => {
    const s = await start();
    const raw = await rawSocket(s.url);
    await raw.next(); // welcome
    const envelope: Record<string, unknown> = { event: "ping", ref: 1 };
    for (let i = 0; i < 3000; i++) envelope[`extra${i}`] = i;
    raw.ws.send(JSON.stringify(envelope));
    const err = await raw.next();
    expect(err).toMatchObject({ event: "error", data: { code: "bad_request" }, ref: 1 });
    expect((err.data as { details: { fields: unknown[] } }).details.fields).toHaveLength(20);
    raw.ws.send('{"event":"ping","\\ud800":1,"ref":9}');
    expect(await raw.next()).toMatchObject({ ref: 9, data: { code: "bad_request", details: { fields: [{ pointer: "/\ufffd" }] } } });
  });
});

describe("fragmented messages", () => {
  it("close a connection whose one message comes in more than 64 fragments with 1008, before they pile up", async () => {
    const s = await start();
    const raw = await rawSocket(s.url);
    const closed = new Promise<number>((resolve) => raw.ws.on("close", (code) => resolve(code)));
    const socket = (raw.ws as unknown as { _socket: { write(b: Buffer): void } })._socket;
    // A text frame without FIN, then continuation frames of one byte, masked with a zero key.
    const fragment = (opcode: number) => Buffer.from([opcode, 0x81, 0, 0, 0, 0, 0x20]);
    socket.write(Buffer.concat([fragment(0x01), ...Array.from({ length: 100 }, () => fragment(0x00))]));
    expect(await closed).toBe(1008);
    const other = await s.client();
    expect((await other.request("ping")).ts).toBeTypeOf("string");
  });
});

describe("sessions per account", () => {
  it("refuses an auth that would sign more than maxSessionsPerAccount connections into one account", async () => {
    const s = await start({ maxSessionsPerAccount: 2 });
    const [a, b, c] = await s.clients(3);
    await a.request("change_name", { username: "ann" });
    const identity = { user_id: a.user.id, token: a.token! };
    await b.request("auth", identity);
    const refused = await rejection(c.request("auth", identity));
    expect(refused).toMatchObject({ code: "limit_reached", message: "At most 2 connections may be signed into one account; close one first." });
    expect(c.user.id).not.toBe(a.user.id);
    // Signing in again where one already is changes nothing and is not refused.
    expect((await b.request("auth", identity)).user.id).toBe(a.user.id);
    await b.request("sign_out");
    expect((await c.request("auth", identity)).user.id).toBe(a.user.id);
  });
});
