/**
 * The transport against hostile or odd TCP peers, over real sockets: connections that
 * never send a request head, caps counted from accept, client keys behind trusted
 * proxies, the Host check, and heartbeats that only the right pong answers.
 */
import { request } from "node:http";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import type { Options } from "../src/config.js";
import { acceptLimit } from "../src/server/admission.js";
import { httpUrl, startHarness, tcpProbe, upgradeStatus, type Harness, type TcpProbe } from "./helpers/server.js";

let h: Harness | undefined;
const probes: TcpProbe[] = [];
afterEach(async () => {
  for (const p of probes.splice(0)) p.socket.destroy();
  await h?.close();
  h = undefined;
});

async function start(overrides: Partial<Options>): Promise<Harness> {
  h = await startHarness(overrides);
  return h;
}

/** `n` raw TCP connections that send nothing, each connected (so accepted in order) before the next. */
async function silent(port: number, n: number, host?: string): Promise<TcpProbe[]> {
  const out: TcpProbe[] = [];
  for (let i = 0; i < n; i++) out.push(await tcpProbe(port, host));
  probes.push(...out);
  return out;
}

/** An open WebSocket sending `headers`; rejects with the status of a refused upgrade. */
function openSocket(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode}`));
      res.socket.destroy();
    });
    ws.on("error", reject);
  });
}

/** Status and body of a plain GET to the chat port with the given Host header. */
function getWithHost(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function metricsText(s: Harness): Promise<string> {
  return (await fetch(s.server.metricsUrl!)).text();
}

describe("connections that never complete a request head", () => {
  it("closes a TCP connection that sends nothing, while a client and /healthz carry on", async () => {
    const s = await start({ headersTimeoutMs: 300, metricsPort: 0 });
    const [quiet] = await silent(s.server.port, 1);
    const client = await s.client();
    expect((await fetch(httpUrl(s, "/healthz"))).status).toBe(200);
    await quiet!.closed;
    expect(quiet!.received()).toBe("");
    expect((await client.request("ping")).ts).toBeTypeOf("string");
    expect(client.closed).toBeNull();
    expect(await metricsText(s)).toMatch(/^chat_connections_refused_total\{reason="headers_timeout"\} 1$/m);
  });

  it("closes a connection that dribbles its head a byte every 200 ms", async () => {
    const s = await start({ headersTimeoutMs: 1000 });
    const [slow] = await silent(s.server.port, 1);
    const head = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${"x".repeat(100)}\r\n\r\n`;
    let sent = 0;
    const drip = setInterval(() => {
      if (!slow!.socket.destroyed && sent < head.length) slow!.socket.write(head[sent++]!);
    }, 200);
    try {
      const client = await s.client();
      expect((await fetch(httpUrl(s, "/healthz"))).status).toBe(200);
      await slow!.closed;
      expect(sent).toBeLessThan(head.length);
      expect(slow!.received()).not.toContain("200 OK");
      expect((await client.request("ping")).ts).toBeTypeOf("string");
    } finally {
      clearInterval(drip);
    }
  }, 15_000);
});

describe("connection caps counted from accept", () => {
  it("counts plain TCP connections against the per-IP cap: past it, a raw 429 and a close", async () => {
    const s = await start({ maxConnectionsPerIp: 2, metricsPort: 0 });
    const [first] = await silent(s.server.port, 2);
    expect(await upgradeStatus(s.url)).toBe(429);
    const [third] = await silent(s.server.port, 1);
    await third!.closed;
    expect(third!.received()).toMatch(/^HTTP\/1\.1 429 Too Many Requests\r\n/);
    expect(await metricsText(s)).toMatch(/^chat_connections_refused_total\{reason="per_ip"\} 2$/m);
    first!.socket.destroy();
    await first!.closed;
    await expect.poll(() => upgradeStatus(s.url)).toBe("open");
  });

  it("counts WebSockets and plain connections together: a WebSocket holds its place until it closes", async () => {
    const s = await start({ maxConnectionsPerIp: 2 });
    const [a] = await s.clients(2);
    const [probe] = await silent(s.server.port, 1);
    await probe!.closed;
    expect(probe!.received()).toMatch(/^HTTP\/1\.1 429 /);
    a.close();
    await expect.poll(() => upgradeStatus(s.url)).toBe("open");
  });

  it("bounds TCP connections in all to the WebSocket cap plus a margin, refusing more with a raw 503", async () => {
    const s = await start({ maxConnections: 1, metricsPort: 0 });
    const limit = acceptLimit(1);
    expect(limit).toBeGreaterThan(1);
    const held = await silent(s.server.port, limit);
    const [over] = await silent(s.server.port, 1);
    await over!.closed;
    expect(over!.received()).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(await metricsText(s)).toMatch(/^chat_connections_refused_total\{reason="capacity"\} 1$/m);
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await expect.poll(() => upgradeStatus(s.url)).toBe("open");
  }, 15_000);
});

describe("client keys", () => {
  it("keys a direct peer by its address, ignoring X-Forwarded-For from an untrusted peer", async () => {
    const s = await start({ maxConnectionsPerIp: 1 });
    const open = vi.spyOn(s.server.hub, "open");
    const ws = await openSocket(s.url, { "x-forwarded-for": "203.0.113.7" });
    expect(await upgradeStatus(s.url, { "x-forwarded-for": "198.51.100.1" })).toBe(429);
    expect(open.mock.calls.map((c) => c[1])).toEqual(["127.0.0.1"]);
    ws.close();
  });

  it("keys an IPv4-mapped peer by its IPv4 address", async () => {
    const s = await start({ host: "::" });
    const open = vi.spyOn(s.server.hub, "open");
    expect(await upgradeStatus(`ws://127.0.0.1:${s.server.port}/ws`)).toBe("open");
    expect(open.mock.calls.map((c) => c[1])).toEqual(["127.0.0.1"]);
  });

  it("keys an IPv6 peer by its /64", async () => {
    const s = await start({ host: "::1" });
    const open = vi.spyOn(s.server.hub, "open");
    expect(await upgradeStatus(`ws://[::1]:${s.server.port}/ws`)).toBe("open");
    expect(open.mock.calls.map((c) => c[1])).toEqual(["::/64"]);
  });

  it("behind a trusted proxy: keys by X-Forwarded-For, caps per forwarded client, never caps the proxy itself", async () => {
    const s = await start({ maxConnectionsPerIp: 1, trustedProxies: ["127.0.0.0/8", "10.0.0.0/8"] });
    const open = vi.spyOn(s.server.hub, "open");
    // The proxy's own connections, however many, are not counted under its address.
    await silent(s.server.port, 3);
    const kept = [await openSocket(s.url, { "x-forwarded-for": "203.0.113.7" })];
    expect(await upgradeStatus(s.url, { "x-forwarded-for": "203.0.113.7" })).toBe(429);
    // Right-most untrusted entry: what the client wrote before it proves nothing, proxies after it are skipped.
    expect(await upgradeStatus(s.url, { "x-forwarded-for": "198.51.100.9, 203.0.113.7, 10.1.2.3" })).toBe(429);
    kept.push(await openSocket(s.url, { "x-forwarded-for": "203.0.113.7, 198.51.100.1" }));
    // One /64 is one client, however its addresses are spelt.
    kept.push(await openSocket(s.url, { "x-forwarded-for": "2001:db8:1:2::1" }));
    expect(await upgradeStatus(s.url, { "x-forwarded-for": "2001:DB8:1:2:ffff:0:0:9" })).toBe(429);
    // A malformed header names no one: the proxy's own address is the key.
    kept.push(await openSocket(s.url, { "x-forwarded-for": "not-an-address" }));
    expect(await upgradeStatus(s.url)).toBe(429);
    expect(open.mock.calls.map((c) => c[1])).toEqual(["203.0.113.7", "198.51.100.1", "2001:db8:1:2::/64", "127.0.0.1"]);
    // A closed connection frees its forwarded client's place.
    kept[0]!.close();
    await expect.poll(() => upgradeStatus(s.url, { "x-forwarded-for": "203.0.113.7" })).toBe("open");
    for (const ws of kept) ws.close();
  });

  it("refuses to start with a trusted proxy that is not an address or range", async () => {
    await expect(startHarness({ trustedProxies: ["10.0.0.0/33"] })).rejects.toThrow(/10\.0\.0\.0\/33/);
  });
});

describe("the Host header (DNS rebinding)", () => {
  it("without publicHosts, a rebound name passes as same-origin (what publicHosts is for)", async () => {
    const s = await start({});
    expect(await upgradeStatus(s.url, { host: "evil.example", origin: "http://evil.example" })).toBe("open");
  });

  it("with publicHosts, refuses upgrades and pages for other names with 421, but not the health probes", async () => {
    const s = await start({ publicHosts: ["chat.example", "127.0.0.1"], metricsPort: 0 });
    const port = s.server.port;
    expect(await upgradeStatus(s.url, { host: "evil.example", origin: "http://evil.example" })).toBe(421);
    expect(await upgradeStatus(s.url, { host: "evil.example" })).toBe(421);
    expect(await upgradeStatus(s.url.replace("/ws", "/elsewhere"), { host: "evil.example" })).toBe(421);
    // The port is ignored and case does not matter; the origin check still applies after it.
    expect(await upgradeStatus(s.url, { host: "CHAT.example:8443", origin: "https://chat.example:8443" })).toBe("open");
    expect(await upgradeStatus(s.url, { host: "chat.example", origin: "http://evil.example" })).toBe(403);
    expect(await upgradeStatus(s.url)).toBe("open");
    expect((await getWithHost(port, "/", "evil.example")).status).toBe(421);
    expect((await getWithHost(port, "/", `127.0.0.1:${port}`)).status).toBe(200);
    expect((await getWithHost(port, "/healthz", "10.9.8.7")).status).toBe(200);
    expect((await getWithHost(port, "/readyz", "10.9.8.7")).status).toBe(200);
    expect(await metricsText(s)).toMatch(/^chat_connections_refused_total\{reason="host"\} 4$/m);
  });
});

describe("heartbeat pongs", () => {
  it("drops a peer that sends pongs of its own but never answers our pings; keeps one that answers", async () => {
    const s = await start({ heartbeatMs: 300 });
    const faker = new WebSocket(s.url, { autoPong: false });
    const closed = new Promise<void>((resolve) => faker.once("close", () => resolve()));
    await new Promise((resolve) => faker.once("open", resolve));
    // It answers the first ping properly, then only ever replays that payload, sends random ones and empty ones.
    const pings: Buffer[] = [];
    faker.on("ping", (data) => {
      pings.push(data);
      if (pings.length === 1) faker.pong(data);
    });
    const pongs = setInterval(() => {
      if (faker.readyState !== WebSocket.OPEN) return;
      faker.pong(randomBytes(8));
      faker.pong();
      if (pings[0]) faker.pong(pings[0]);
    }, 50);
    try {
      const honest = await s.client();
      await closed;
      // Kept past the first beat by its one true answer, dropped at the beat after the unanswered second ping.
      expect(pings.length).toBeGreaterThanOrEqual(2);
      expect(pings.every((p) => p.length === 8)).toBe(true);
      expect(pings[1]!.equals(pings[0]!)).toBe(false);
      expect(honest.closed).toBeNull();
      expect((await honest.request("ping")).ts).toBeTypeOf("string");
      await expect.poll(() => s.server.hub.connectionCount).toBe(1);
    } finally {
      clearInterval(pongs);
    }
  }, 15_000);
});

describe("refused upgrades", () => {
  it("are closed by the server even when the peer never closes its half, freeing their slot and letting shutdown finish", async () => {
    const s = await start({ maxConnectionsPerIp: 2 });
    const { port } = s.server;
    const { connect } = await import("node:net");
    const heldOpen = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<{ answer: Promise<string> }>((resolve) => {
            const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true }, () => {
              const key = randomBytes(16).toString("base64");
              socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
              const answer = new Promise<string>((done) => socket.once("data", (d) => done(String(d))));
              resolve({ answer });
            });
            socket.on("error", () => {});
            socket.on("end", () => {}); // read our FIN, never send ours
            probes.push({ socket, received: () => "", closed: new Promise(() => {}) });
          }),
      ),
    );
    for (const { answer } of heldOpen) expect(await answer).toMatch(/^HTTP\/1\.1 403/);
    // Their slots come back once the server drops them; until then a third connection would get 429.
    let status = await upgradeStatus(s.url);
    while (status === 429) status = await new Promise((resolve) => setTimeout(() => void upgradeStatus(s.url).then(resolve), 100));
    expect(status).toBe("open");
    await s.close();
    h = undefined;
  });
});

describe("later requests on a kept-alive connection", () => {
  it("are held to the headers and request timeouts too: a second head that never completes gets 408 and the close", async () => {
    const s = await start({ headersTimeoutMs: 500, requestTimeoutMs: 1000 });
    const probe = (await silent(s.server.port, 1))[0]!;
    probe.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    while (!probe.received().includes("ok\n")) await new Promise((resolve) => setTimeout(resolve, 20));
    // The first request completed in time; the second starts and stalls.
    probe.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    await probe.closed;
    expect(probe.received()).toMatch(/^HTTP\/1\.1 200[\s\S]*HTTP\/1\.1 408/);
  });
});
