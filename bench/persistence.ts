/**
 * Persistence figures, measured in one run on this machine:
 * 1. end-to-end send_message throughput with CHAT_DB on a file vs :memory:
 *    (same server code, same load, ratio printed);
 * 2. start-up time and memory of a server whose file holds N stored messages.
 *
 *   npx tsx bench/persistence.ts [--seconds 5] [--clients 20] [--inflight 8] [--messages 1000000]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import BetterSqlite3 from "better-sqlite3";
import { v7 as uuidv7 } from "uuid";
import { WebSocket } from "ws";
import { ChatClient } from "../src/client/index.js";
import { migrate } from "../src/store/migrations.js";
import { OURS_LIMITS, oursWith } from "./config.js";
import { rssBytes } from "./proc.js";
import { startServer, type RunningServer } from "./servers.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    clients: { type: "string", default: "20" },
    inflight: { type: "string", default: "8" },
    messages: { type: "string", default: "1000000" },
  },
});
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const INFLIGHT = Number(values.inflight);
const STORED = Number(values.messages);
const root = fileURLToPath(new URL("..", import.meta.url));

/** Our server on `db`, with rate limits lifted: this measures the write path, not policy. */
async function start(db: string): Promise<{ server: RunningServer; startedMs: number }> {
  const t0 = performance.now();
  const server = await startServer(oursWith({ ...OURS_LIMITS, CHAT_DB: db }), { cwd: root, fds: 1024 });
  return { server, startedMs: performance.now() - t0 };
}

function rssMiB(pid: number): number {
  return rssBytes(pid) / 2 ** 20;
}

/**
 * Acknowledged send_message per second from CLIENTS clients, each alone in its own room so that
 * the figure measures the server's write path rather than fan-out, INFLIGHT requests in flight each.
 */
async function throughput(db: string): Promise<number> {
  const { server } = await start(db);
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => ChatClient.connect(server.url, { WebSocket })));
  const rooms = await Promise.all(clients.map((c, i) => c.request("create_room", { room_name: `bench ${i}` })));
  let acked = 0;
  let measuring = false;
  const deadline = performance.now() + 1000 + SECONDS * 1000;
  setTimeout(() => (measuring = true), 1000);
  const text = "x".repeat(100);
  await Promise.all(
    clients.flatMap((c, i) =>
      Array.from({ length: INFLIGHT }, async () => {
        while (performance.now() < deadline) {
          await c.request("send_message", { room_id: rooms[i]!.room.id, message: text });
          if (measuring) acked++;
        }
      }),
    ),
  );
  for (const c of clients) c.close();
  await server.stop();
  return acked / SECONDS;
}

/** Writes STORED messages (in 20 rooms, the lobby and direct pairs) straight into a fresh file. */
function fillDatabase(path: string): void {
  const db = new BetterSqlite3(path);
  db.pragma("journal_mode = WAL");
  migrate(db);
  const users = Array.from({ length: 100 }, (_, i) => ({ id: crypto.randomUUID(), username: `user${i}` }));
  const rooms = Array.from({ length: 20 }, (_, i) => ({ id: crypto.randomUUID(), name: `room ${i}` }));
  db.transaction(() => {
    for (const u of users) db.prepare("INSERT INTO users (id, username, token_hash) VALUES (?, ?, ?)").run(u.id, u.username, "x");
    for (const r of rooms) {
      db.prepare("INSERT INTO rooms (id, name, owner_id) VALUES (?, ?, ?)").run(r.id, r.name, users[0]!.id);
      for (const u of users) db.prepare("INSERT INTO members VALUES (?, ?)").run(r.id, u.id);
    }
  })();
  const insert = db.prepare("INSERT INTO messages (conv, id, body) VALUES (?, ?, ?)");
  const pair = db.prepare("INSERT OR IGNORE INTO direct_pairs VALUES (?, ?)");
  const ts = new Date().toISOString();
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const u = users[i % users.length]!;
      const id = uuidv7();
      if (i % 10 === 9) {
        const peer = users[(i * 7) % users.length]!;
        const [a, b] = u.id < peer.id ? [u.id, peer.id] : [peer.id, u.id];
        pair.run(u.id, peer.id);
        insert.run(`dm:${a}:${b}`, id, JSON.stringify({ id, from: u, text: `message ${i}`, ts, to_user_id: peer.id }));
      } else {
        const room = i % 10 === 0 ? "all" : rooms[i % rooms.length]!.id;
        insert.run(room, id, JSON.stringify({ id, from: u, text: `message ${i}`, ts, room_id: room }));
      }
    }
  });
  for (let i = 0; i < STORED; i += 50_000) batch(i, Math.min(STORED, i + 50_000));
  db.close();
}

const dir = mkdtempSync(join(tmpdir(), "chat-bench-"));
try {
  console.log(`node ${process.version}; ${CLIENTS} clients, each in its own room, ${INFLIGHT} requests in flight each, ${SECONDS} s per run`);
  const memory1 = await throughput(":memory:");
  const disk1 = await throughput(join(dir, "throughput.db"));
  const memory2 = await throughput(":memory:");
  const disk2 = await throughput(join(dir, "throughput2.db"));
  const memory = (memory1 + memory2) / 2;
  const disk = (disk1 + disk2) / 2;
  console.log(`send_message acknowledged/s  :memory: ${memory1.toFixed(0)}, ${memory2.toFixed(0)}  file: ${disk1.toFixed(0)}, ${disk2.toFixed(0)}`);
  console.log(`file / :memory: = ${(disk / memory).toFixed(2)}`);

  const path = join(dir, "million.db");
  const t0 = performance.now();
  fillDatabase(path);
  console.log(`wrote ${STORED} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s; file ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB`);
  const empty = await start(join(dir, "empty.db"));
  const emptyRss = rssMiB(empty.server.pid);
  await empty.server.stop();
  const full = await start(path);
  const fullRss = rssMiB(full.server.pid);
  await full.server.stop();
  console.log(`start-up to listening: empty file ${empty.startedMs.toFixed(0)} ms, ${STORED} messages ${full.startedMs.toFixed(0)} ms`);
  console.log(`RSS after start: empty ${emptyRss.toFixed(0)} MiB, ${STORED} messages ${fullRss.toFixed(0)} MiB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
