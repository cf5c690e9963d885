/** Abuse and faults: floods, slow consumers, dead peers, caps, origins, metrics. */
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatError } from "../src/client/index.js";
import type { Options } from "../src/config.js";
import { httpUrl, rawSocket, startHarness, upgradeStatus, type Harness } from "./helpers/server.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function start(overrides: Partial<Options>): Promise<Harness> {
  h = await startHarness(overrides);
  return h;
}

/** The separate /metrics listener's text; the harness must have been started with a `metricsPort`. */
async function scrape(h: Harness): Promise<Response> {
  expect(h.server.metricsUrl).toBeDefined();
  return fetch(h.server.metricsUrl!);
}

describe("rate limit", () => {
  it("refuses requests over the allowance with rate_limited and retry_after_ms, without applying them", async () => {
    const s = await start({ ratePerSecond: 1, rateBurst: 3, floodCloseAfter: 100 });
    const a = await s.client();
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => a.request("create_room", { room_name: `r${i}` })),
    );
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "rejected", "rejected"]);
    const refused = (results[3] as PromiseRejectedResult).reason as ChatError;
    expect(refused.code).toBe("rate_limited");
    expect(refused.request).toBe("create_room");
    expect(refused.details?.retry_after_ms).toBeGreaterThan(0);
    expect(refused.details?.retry_after_ms).toBeLessThanOrEqual(1000);
    expect([...s.server.hub.state.rooms.values()].map((r) => r.name).sort()).toEqual(["r0", "r1", "r2"]);
  });

  it("closes a client that keeps flooding with 1008, while another keeps chatting", async () => {
    const s = await start({ ratePerSecond: 5, rateBurst: 5, floodCloseAfter: 20 });
    const flooder = await rawSocket(s.url);
    const honest = await s.client();
    const { room } = await honest.request("create_room", { room_name: "calm" });
    const closed = new Promise<number>((resolve) => flooder.ws.on("close", (code) => resolve(code)));
    for (let i = 0; i < 200 && flooder.ws.readyState === WebSocket.OPEN; i++) flooder.ws.send(JSON.stringify({ event: "ping", ref: i }));
    expect(await closed).toBe(1008);
    const refusals = flooder.frames.filter((f) => (f.data as { code?: string }).code === "rate_limited");
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((f) => typeof f.ref === "number")).toBe(true);
    expect((await honest.request("send_message", { room_id: room.id, message: "still fine" })).message.text).toBe("still fine");
  });
});

describe("slow consumers", () => {
  it("closes connections that stop reading once their unsent data passes the cap; the others keep chatting", async () => {
    const s = await start({ maxBufferedBytes: 64 * 1024, metricsPort: 0 });
    const sleepers = await Promise.all(Array.from({ length: 100 }, () => rawSocket(s.url)));
    // The kernel still accepts bytes for a paused reader until its buffers fill; then ws queues them.
    for (const sl of sleepers) (sl.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const talker = await s.client();
    const listener = await s.client();
    const text = "x".repeat(3900);
    for (let i = 0; i < 2000 && s.server.hub.connectionCount > 2; i++) {
      await talker.request("send_message", { room_id: "all", message: text });
    }
    expect(s.server.hub.connectionCount).toBe(2);
    const seen = listener.pushes.filter((f) => f.event === "message").length;
    expect(seen).toBeGreaterThan(0);
    const metrics = await (await scrape(s)).text();
    expect(metrics).toMatch(/chat_connections_refused_total\{reason="slow_consumer"\} [1-9]/);
  });
});

describe("slow-consumer check", () => {
  it("does not close a fast reader for what one busy turn sends it", async () => {
    const s = await start({ maxBufferedBytes: 64 * 1024 });
    const [sender, reader] = await s.clients(2);
    // 50 frames of 2,000 characters in one go: one turn fans out ~100 KB to the reader.
    const replies = Array.from({ length: 50 }, () => sender.request("send_message", { room_id: "all", message: "r".repeat(2000) }));
    await Promise.all(replies);
    await s.settle(reader);
    expect(reader.closed).toBeNull();
    expect(reader.pushes.filter((f) => f.event === "message")).toHaveLength(50);
  });
});

describe("refused upgrades", () => {
  it("survives peers that reset the connection while being refused", async () => {
    const s = await start({});
    const { port } = s.server;
    await Promise.all(
      Array.from({ length: 300 }, () => new Promise<void>((resolve) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.write("GET /nope HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
          socket.resetAndDestroy();
        });
        socket.on("error", () => {});
        socket.on("close", () => resolve());
      })),
    );
    const client = await s.client();
    expect((await client.request("ping")).ts).toBeTypeOf("string");
  });
});

describe("heartbeats", () => {
  it("drops a peer that stops answering pings, ending its session like a disconnect", async () => {
    const s = await start({ heartbeatMs: 50 });
    const dead = new WebSocket(s.url, { autoPong: false });
    const closed = new Promise<void>((resolve) => dead.on("close", () => resolve()));
    await new Promise((resolve) => dead.once("open", resolve));
    const alive = await s.client();
    await closed;
    await expect.poll(() => s.server.hub.connectionCount).toBe(1);
    // A client that answers pings (as ws and browsers do by themselves) stays.
    expect((await alive.request("ping")).ts).toBeTypeOf("string");
  });
});

describe("connection caps and origins", () => {
  it("refuses connections over the total with 503 and over the per-IP cap with 429", async () => {
    const total = await start({ maxConnections: 2 });
    const [one] = await total.clients(2);
    expect(await upgradeStatus(total.url)).toBe(503);
    // A closed connection frees its place.
    one.close();
    await expect.poll(() => total.server.hub.connectionCount).toBe(1);
    expect(await upgradeStatus(total.url)).toBe("open");
    await total.close();
    h = undefined;

    const perIp = await start({ maxConnectionsPerIp: 2 });
    const [first] = await perIp.clients(2);
    expect(await upgradeStatus(perIp.url)).toBe(429);
    first.close();
    await expect.poll(() => perIp.server.hub.connectionCount).toBe(1);
    expect(await upgradeStatus(perIp.url)).toBe("open");
  });

  it("refuses browsers from origins not on the allowlist with 403, and lets listed ones and non-browsers in", async () => {
    const s = await start({ allowedOrigins: ["https://chat.example"], metricsPort: 0 });
    expect(await upgradeStatus(s.url, { origin: "https://evil.example" })).toBe(403);
    expect(await upgradeStatus(s.url, { origin: "https://chat.example" })).toBe("open");
    expect(await upgradeStatus(s.url)).toBe("open");
    // The server's own page, served from the same host, is always allowed.
    expect(await upgradeStatus(s.url, { origin: `http://127.0.0.1:${s.server.port}` })).toBe("open");
    expect(await (await scrape(s)).text()).toMatch(/^chat_connections_refused_total\{reason="origin"\} 1$/m);
  });

  it("admits only the server's own origin when no origins are listed, and any origin with *", async () => {
    const own = await start({});
    const port = own.server.port;
    expect(await upgradeStatus(own.url, { origin: `http://127.0.0.1:${port}` })).toBe("open");
    expect(await upgradeStatus(own.url, { origin: `http://127.0.0.1:${port + 1}` })).toBe(403);
    expect(await upgradeStatus(own.url, { origin: "https://evil.example" })).toBe(403);
    expect(await upgradeStatus(own.url, { origin: "null" })).toBe(403);
    expect(await upgradeStatus(own.url)).toBe("open");
    await own.close();
    h = undefined;

    const any = await start({ allowedOrigins: ["*"] });
    expect(await upgradeStatus(any.url, { origin: "https://evil.example" })).toBe("open");
    expect(await upgradeStatus(any.url, { origin: "null" })).toBe("open");
  });
});

describe("account and room caps", () => {
  it("answers limit_reached past the rooms an account may own and the members a room may have", async () => {
    const s = await start({ maxRoomsPerAccount: 2, maxRoomMembers: 2 });
    const [a, b, c] = await s.clients(3);
    const { room } = await a.request("create_room", { room_name: "one" });
    await a.request("create_room", { room_name: "two" });
    await expect(a.request("create_room", { room_name: "three" })).rejects.toMatchObject({ code: "limit_reached" });
    await b.request("choose_room", { room_id: room.id });
    await expect(c.request("choose_room", { room_id: room.id })).rejects.toMatchObject({ code: "limit_reached" });
  });

  it("refuses messages over the configured length with bad_request naming the field", async () => {
    const s = await start({ maxMessageChars: 10 });
    const a = await s.client();
    await a.request("send_message", { room_id: "all", message: "0123456789" });
    await expect(a.request("send_message", { room_id: "all", message: "01234567890" })).rejects.toMatchObject({
      code: "bad_request",
      details: { fields: [{ pointer: "/data/message", reason: "must be at most 10 characters" }] },
    });
  });
});

describe("health and metrics", () => {
  it("answers /healthz and /readyz, and exports the documented metrics", async () => {
    const s = await start({ metricsPort: 0 });
    expect((await fetch(httpUrl(s, "/healthz"))).status).toBe(200);
    expect((await fetch(httpUrl(s, "/readyz"))).status).toBe(200);
    const a = await s.client();
    await a.request("send_message", { room_id: "all", message: "hi" });
    await a.request("choose_room", { room_id: "00000000-0000-4000-8000-000000000000" }).catch(() => undefined);
    a.sendRaw(JSON.stringify({ event: "made-up-event", ref: 1 }));
    a.sendRaw(JSON.stringify({ event: "made-up-" + "x".repeat(1000), ref: 2 }));
    await s.settle(a);
    const res = await scrape(s);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^chat_connections 1$/m);
    expect(text).toMatch(/^chat_requests_total\{event="send_message",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^chat_requests_total\{event="choose_room",outcome="not_found"\} 1$/m);
    expect(text).toMatch(/^chat_errors_total\{code="not_found"\} 1$/m);
    // Event names a client makes up never become labels.
    expect(text).toMatch(/^chat_requests_total\{event="invalid",outcome="unknown_event"\} 1$/m);
    expect(text).toMatch(/^chat_requests_total\{event="invalid",outcome="bad_request"\} 1$/m);
    expect(text).not.toContain("made-up");
    // At least the welcome, the send's reply and its push, and the replies to the requests after it.
    expect(Number(/^chat_frames_delivered_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(5);
    expect(text).toMatch(/^chat_send_queue_bytes \d+$/m);
    // The message was committed (a single server keeps no guests or sessions).
    expect(Number(/^chat_store_commit_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^chat_store_commit_failures_total 0$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });
});

describe("the metrics listener", () => {
  it("is off by default: no /metrics anywhere, the chat port answers 404", async () => {
    const s = await start({});
    expect(s.server.metricsUrl).toBeUndefined();
    expect((await fetch(httpUrl(s, "/metrics"))).status).toBe(404);
  });

  it("serves /metrics, and nothing else, on its own port and host; the chat port does not; close() stops it", async () => {
    const s = await start({ metricsPort: 0, metricsHost: "127.0.0.1" });
    const url = new URL(s.server.metricsUrl!);
    expect(url.hostname).toBe("127.0.0.1");
    expect(url.pathname).toBe("/metrics");
    expect(Number(url.port)).not.toBe(s.server.port);
    expect(await (await fetch(url)).text()).toMatch(/^chat_connections 0$/m);
    expect((await fetch(new URL("/healthz", url))).status).toBe(404);
    expect((await fetch(new URL("/", url))).status).toBe(404);
    expect((await fetch(httpUrl(s, "/metrics"))).status).toBe(404);
    await s.close();
    h = undefined;
    await expect(fetch(url)).rejects.toThrow();
  });
});
