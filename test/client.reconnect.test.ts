/**
 * The SDK's reconnect: a dropped connection (cut by a TCP proxy between client and
 * server), a server restarted on the same port without and with its database, and a
 * client without reconnect that must stay closed.
 */
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatClient, ChatError, type ConnectOptions, type StateChange } from "../src/client/index.js";
import { DEFAULTS, SETTINGS, type Options } from "../src/config.js";
import { startServer } from "../src/server/httpServer.js";
import { reconnected, stateWhere } from "./helpers/clientEvents.js";
import { killChildren, startChild } from "./helpers/process.js";
import { startProxy, type Proxy } from "./helpers/proxy.js";

/** Fast timing so that tests do not wait; the values themselves are not asserted. */
const FAST: ConnectOptions = { WebSocket, reconnect: { initialDelayMs: 10, maxDelayMs: 100 } };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  killChildren();
});

/** A server on its own (in memory), closed after the test unless the test closed it. */
async function server(port = 0): Promise<{ url: string; port: number; close(code?: number): Promise<void> }> {
  const options: Options = { ...DEFAULTS, port, host: "127.0.0.1", db: ":memory:" };
  const s = await startServer({ options, logger: pino({ level: "silent" }) });
  let open = true;
  const close = async (code = 1000): Promise<void> => {
    if (!open) return;
    open = false;
    await s.close(code);
  };
  cleanups.push(() => close());
  return { url: s.url, port: s.port, close };
}

async function client(url: string, options: ConnectOptions = FAST): Promise<ChatClient> {
  const c = await ChatClient.connect(url, options);
  cleanups.push(() => c.close());
  return c;
}

async function rejection(p: Promise<unknown>): Promise<ChatError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ChatError);
  return err as ChatError;
}



function record(c: ChatClient): StateChange[] {
  const states: StateChange[] = [];
  c.on("state", (s) => states.push(s));
  return states;
}

/** The shared TCP proxy in front of a server, closed after the test. */
async function proxyTo(port: number): Promise<Proxy> {
  const proxy = await startProxy(port);
  cleanups.push(() => proxy.close());
  return proxy;
}

describe("client reconnect", () => {
  it("comes back after the connection drops: signed back in, rooms intact; requests in flight and while down reject with disconnected", async () => {
    const s = await server();
    const proxy = await proxyTo(s.port);
    const c = await client(proxy.url);
    await c.request("change_name", { username: "rita" });
    const { room } = await c.request("create_room", { room_name: "Resilient" });
    const [id, token] = [c.user.id, c.token];
    const states = record(c);

    proxy.holdRequests();
    const inFlight = c.request("ping");
    const secondAttempt = stateWhere(c, (x) => x.state === "reconnecting" && x.attempt === 2);
    proxy.refuse(true);
    proxy.cut();

    const lost = await rejection(inFlight);
    expect(lost.code).toBe("disconnected");
    expect(lost.request).toBe("ping");
    expect(lost.message).toMatch(/closed \(1006\) before the reply to ping/);

    // A refused attempt is followed by another one.
    await secondAttempt;
    expect(c.state).toBe("reconnecting");
    expect(c.closed).toBeNull();
    const whileDown = await rejection(c.request("show_rooms"));
    expect(whileDown.code).toBe("disconnected");
    expect(whileDown.message).toMatch(/reconnecting/);

    const back = reconnected(c);
    proxy.refuse(false);
    const info = await back;
    expect(info).toEqual({ resumed: true, user: { id, username: "rita" }, rooms: [{ ...room }], caughtUp: { messages: 0, complete: true } });
    expect(c.state).toBe("open");
    expect([c.user.id, c.token]).toEqual([id, token]);
    const { rooms } = await c.request("show_rooms");
    expect(rooms).toEqual([{ ...room, joined: true }]);
    expect((await c.request("send_message", { room_id: room.id, message: "still here" })).message.text).toBe("still here");

    expect(states[0]).toMatchObject({ state: "reconnecting", attempt: 1, code: 1006 });
    expect(states.at(-1)).toEqual({ state: "open" });
    expect(states.filter((x) => x.state === "reconnecting").map((x) => x.attempt)).toEqual(
      Array.from({ length: states.length - 1 }, (_, i) => i + 1),
    );
    for (const x of states) if (x.delayMs !== undefined) expect(x.delayMs).toBeLessThanOrEqual(100);
  });

  it("signs back into an account that was signed into with auth, using that account's token", async () => {
    const s = await server();
    const owner = await client(s.url, { WebSocket });
    await owner.request("change_name", { username: "owner" });
    const proxy = await proxyTo(s.port);
    const c = await client(proxy.url);
    await c.request("auth", { user_id: owner.user.id, token: owner.token! });
    expect(c.token).toBe(owner.token);

    const back = reconnected(c);
    proxy.cut();
    expect(await back).toMatchObject({ resumed: true, user: { id: owner.user.id, username: "owner" } });
    expect(c.user.id).toBe(owner.user.id);
  });

  it("after a restart that lost the account, continues as the new guest and says so", async () => {
    const first = await server();
    const c = await client(first.url);
    await c.request("change_name", { username: "nomad" });
    const [oldId, oldToken] = [c.user.id, c.token];
    const welcomed = c.next("welcome");
    const back = reconnected(c);

    await first.close(1001);
    await server(first.port);

    const info = await back;
    expect(info.resumed).toBe(false);
    expect(info.error?.code).toBe("auth_failed");
    expect(info.rooms).toEqual([]);
    expect(info.user.id).not.toBe(oldId);
    expect(c.user).toEqual(info.user);
    expect(c.token).not.toBe(oldToken);
    expect((await welcomed).user).toEqual(info.user);
    expect(c.state).toBe("open");
    expect((await c.request("change_name", { username: "nomad again" })).user.id).toBe(info.user.id);
  });

  // Needs the SQLite store (`CHAT_DB`); runs as soon as the server has that setting.
  const persistent = (SETTINGS as readonly { env: string }[]).some((s) => s.env === "CHAT_DB");
  it.skipIf(!persistent)("after the server process restarts on the same port with its database, signs back in with rooms and history intact", async () => {
    const db = join(mkdtempSync(join(tmpdir(), "chat-client-restart-")), "chat.db");
    const first = await startChild(["--db", db]);
    const c = await client(first.url, { WebSocket, reconnect: { initialDelayMs: 50, maxDelayMs: 250 } });
    await c.request("change_name", { username: "phoenix" });
    const { room } = await c.request("create_room", { room_name: "Ashes" });
    const { message } = await c.request("send_message", { room_id: room.id, message: "before the restart" });
    const id = c.user.id;
    const back = reconnected(c);

    first.child.kill("SIGTERM");
    await once(first.child, "exit");
    await startChild(["--port", new URL(first.url).port, "--db", db]);

    const info = await back;
    expect(info).toMatchObject({ resumed: true, user: { id, username: "phoenix" } });
    expect(info.rooms.map((r) => r.id)).toEqual([room.id]);
    expect((await c.request("history", { room_id: room.id })).messages).toEqual([message]);
  }, 30_000);

  it("without reconnect, a client whose connection drops closes for good", async () => {
    const s = await server();
    const proxy = await proxyTo(s.port);
    const c = await client(proxy.url, { WebSocket });
    const states = record(c);
    const closed = new Promise<{ code: number }>((resolve) => c.on("close", resolve));
    proxy.cut();
    expect((await closed).code).toBe(1006);
    expect(states).toEqual([{ state: "closed", code: 1006, reason: "" }]);
    expect(c.closed).toEqual({ code: 1006, reason: "" });
    const err = await rejection(c.request("ping"));
    expect([err.code, err.message]).toEqual(["disconnected", "The connection is closed: ping was not sent."]);
  });

  it("close() while reconnecting stops for good, at once", async () => {
    const s = await server();
    const proxy = await proxyTo(s.port);
    const c = await client(proxy.url);
    const reconnecting = stateWhere(c, (x) => x.state === "reconnecting");
    proxy.refuse(true);
    proxy.cut();
    await reconnecting;
    const states = record(c);
    let closeEvents = 0;
    c.on("close", () => closeEvents++);
    c.close();
    expect(c.state).toBe("closed");
    expect(states.map((x) => x.state)).toEqual(["closed"]);
    expect(closeEvents).toBe(1);
    expect((await rejection(c.request("ping"))).code).toBe("disconnected");
  });

  it("follows the close codes' registry: a server's 1000 is final, its 1001 is reconnected after", async () => {
    const final = await server();
    const c = await client(final.url);
    const states = record(c);
    const closed = new Promise<{ code: number }>((resolve) => c.on("close", resolve));
    await final.close(1000);
    expect((await closed).code).toBe(1000);
    expect(states.map((x) => x.state)).toEqual(["closed"]);

    const going = await server();
    const d = await client(going.url);
    const reconnecting = stateWhere(d, (x) => x.state === "reconnecting");
    await going.close(1001);
    expect((await reconnecting).code).toBe(1001);
  });

  it("a client that closes itself is not reconnected, and the first connection is never retried", async () => {
    const s = await server();
    const c = await client(s.url);
    const states = record(c);
    const closed = new Promise((resolve) => c.on("close", resolve));
    c.close(1000, "bye");
    await closed;
    expect(states).toEqual([{ state: "closed", code: 1000, reason: "bye" }]);

    const port = s.port;
    await s.close(1000);
    const refused = await rejection(ChatClient.connect(`ws://127.0.0.1:${port}/ws`, FAST));
    expect(refused.code).toBe("disconnected");
    expect(refused.message).toMatch(/before the server's welcome/);
  });
});
