/**
 * Soak: N clients for M minutes of mixed traffic against a real server process
 * (on-disk storage), with a flooder and some clients that stop reading. Prints
 * delivered and failed counts and the server's memory at the start and the end.
 * Not part of `npm test`.
 *
 *   npx tsx bench/soak.ts [--clients 200] [--minutes 2] [--sleepers 20]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { ChatClient, ChatError } from "../src/client/index.js";
import { oursWith } from "./config.js";
import { rssBytes } from "./proc.js";
import { startServer } from "./servers.js";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "200" },
    minutes: { type: "string", default: "2" },
    sleepers: { type: "string", default: "20" },
  },
});
const CLIENTS = Number(values.clients);
const MINUTES = Number(values.minutes);
const SLEEPERS = Number(values.sleepers);
const dir = mkdtempSync(join(tmpdir(), "chat-soak-"));

// Policy stays on (rate limits, slow-reader cap) except the per-IP caps and quotas: every client here is 127.0.0.1.
const perIp = { CHAT_MAX_CONNECTIONS_PER_IP: "100000", CHAT_ACCOUNTS_PER_MINUTE_PER_IP: "1000000", CHAT_ROOMS_PER_MINUTE_PER_IP: "1000000", CHAT_BYTES_PER_SECOND_PER_IP: String(1024 ** 3) };
const server = await startServer(
  oursWith({ CHAT_DB: join(dir, "soak.db"), ...perIp, CHAT_MAX_BUFFERED_BYTES: String(256 * 1024) }),
  { cwd: fileURLToPath(new URL("..", import.meta.url)), fds: 4096 },
);
const url = server.url;

function rssMiB(): number {
  return rssBytes(server.pid) / 2 ** 20;
}

const counts = { sent: 0, replied: 0, failed: 0, rateLimited: 0, delivered: 0, closed: 0 };
const failures = new Map<string, number>();
const connect = () => ChatClient.connect(url, { WebSocket, requestTimeoutMs: 30_000 });

const clients: ChatClient[] = [];
for (let i = 0; i < CLIENTS; i++) {
  const c = await connect();
  c.on("message", () => counts.delivered++);
  c.on("close", () => counts.closed++);
  clients.push(c);
}
const rooms: string[] = [];
for (let i = 0; i < Math.max(1, Math.floor(CLIENTS / 10)); i++) {
  rooms.push((await clients[i]!.request("create_room", { room_name: `soak ${i}` })).room.id);
}
for (const [i, c] of clients.entries()) {
  await c.request("change_name", { username: `soaker ${i}` });
  await c.request("choose_room", { room_id: rooms[i % rooms.length]! });
}

// Clients that stop reading: the server must close them, not buffer for them forever.
const sleepers = await Promise.all(
  Array.from({ length: SLEEPERS }, () => new Promise<WebSocket>((resolve) => {
    const ws = new WebSocket(url);
    ws.once("message", () => {
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      resolve(ws);
    });
  })),
);
const startRss = rssMiB();
console.log(`soak: ${CLIENTS} clients in ${rooms.length} rooms, ${SLEEPERS} sleepers, 1 flooder, ${MINUTES} min; server RSS at start ${startRss.toFixed(0)} MiB`);

async function act(c: ChatClient, i: number): Promise<void> {
  const room = rooms[i % rooms.length]!;
  const roll = Math.random();
  counts.sent++;
  try {
    if (roll < 0.6) await c.request("send_message", { room_id: room, message: `hello ${Date.now()} ${"x".repeat(80)}` });
    else if (roll < 0.7) await c.request("send_message", { room_id: "all", message: "lobby hello" });
    else if (roll < 0.8) await c.request("send_message", { user_id: clients[(i + 1) % clients.length]!.user.id, message: "psst" });
    else if (roll < 0.9) await c.request("history", { room_id: room, limit: 20 });
    else if (roll < 0.95) await c.request("show_rooms");
    else await c.request("ping");
    counts.replied++;
  } catch (err) {
    const code = err instanceof ChatError ? err.code : String(err);
    if (code === "rate_limited") counts.rateLimited++;
    else {
      counts.failed++;
      failures.set(code, (failures.get(code) ?? 0) + 1);
    }
  }
}

const deadline = Date.now() + MINUTES * 60_000;
// The flooder sends pings as fast as it can; the server refuses and then closes it, and it comes back.
let flooderRuns = 0;
const flood = (async () => {
  while (Date.now() < deadline) {
    const ws = new WebSocket(url);
    await new Promise((resolve) => ws.once("open", resolve));
    flooderRuns++;
    while (ws.readyState === WebSocket.OPEN && Date.now() < deadline) {
      ws.send('{"event":"ping"}');
      await new Promise((resolve) => setImmediate(resolve));
    }
    ws.terminate();
  }
})();
const load = clients.map(async (c, i) => {
  while (Date.now() < deadline && !c.closed) {
    await act(c, i);
    await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 1000));
  }
});
const progress = setInterval(() => console.log(`  ${new Date().toISOString()} ${JSON.stringify(counts)} rss=${rssMiB().toFixed(0)}MiB`), 10_000);
await Promise.all([...load, flood]);
clearInterval(progress);
const endRss = rssMiB();
const sleepersClosed = sleepers.filter((ws) => ws.readyState !== WebSocket.OPEN).length;
console.log(`delivered ${counts.delivered} message pushes; requests ${counts.sent}: ${counts.replied} answered, ${counts.rateLimited} rate_limited, ${counts.failed} failed ${JSON.stringify(Object.fromEntries(failures))}`);
console.log(`honest clients closed by the server: ${counts.closed}; sleepers closed: ${sleepersClosed}/${SLEEPERS}; flooder reconnected ${flooderRuns} times`);
console.log(`server RSS: start ${startRss.toFixed(0)} MiB, end ${endRss.toFixed(0)} MiB`);
for (const c of clients) c.close();
for (const ws of sleepers) ws.terminate();
await server.stop();
rmSync(dir, { recursive: true, force: true });
