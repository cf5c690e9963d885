/**
 * Server CPU per acknowledged send at a fixed rate, and how it splits between the server's
 * threads: 20 SDK clients, each alone in its own room, sending at RATE in total.
 *
 *   npx tsx bench/sendCost.ts [--rate 2000] [--seconds 8] [--db FILE|:memory:] [--server-dir DIR] [--cpu-prof DIR]
 *
 * `--server-dir` runs the server from another checkout (say a `git worktree` of an older
 * commit, with node_modules linked in), so that two versions can be run in turn.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { ChatClient } from "../src/client/index.js";
import { databaseFilesOf } from "../src/store/databaseFiles.js";
import { OURS_LIMITS, oursWith } from "./config.js";
import { threadCpuSeconds } from "./proc.js";
import { startServer } from "./servers.js";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "2000" },
    seconds: { type: "string", default: "8" },
    db: { type: "string" },
    "server-dir": { type: "string", default: fileURLToPath(new URL("..", import.meta.url)) },
    /** Writes the server's CPU profiles (one per thread) to this folder: `npm run bench:profile -- FILE` sums one up. */
    "cpu-prof": { type: "string" },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const CLIENTS = 20;
const TICK_MS = 10;

const dir = mkdtempSync(join(tmpdir(), "chat-send-cost-"));
const db = values.db ?? join(dir, "chat.db");
const prof = values["cpu-prof"];
const server = await startServer(oursWith({ ...OURS_LIMITS, CHAT_DB: db }), {
  cwd: values["server-dir"],
  fds: 1024,
  ...(prof !== undefined && { nodeFlags: ["--cpu-prof", "--cpu-prof-dir", prof] }),
});
try {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => ChatClient.connect(server.url, { WebSocket })));
  const rooms = await Promise.all(clients.map((c, i) => c.request("create_room", { room_name: `cost ${i}` })));
  let acked = 0;
  const text = "x".repeat(100);
  const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000 / CLIENTS));
  const timers = clients.map((c, i) =>
    setInterval(() => {
      for (let k = 0; k < perTick; k++) c.request("send_message", { room_id: rooms[i]!.room.id, message: text }).then(() => acked++, () => {});
    }, TICK_MS),
  );
  await new Promise((r) => setTimeout(r, 2000));
  const [before, ackedBefore, t0] = [threadCpuSeconds(server.pid), acked, performance.now()];
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const [after, ackedAfter, t1] = [threadCpuSeconds(server.pid), acked, performance.now()];
  for (const t of timers) clearInterval(t);
  const wall = (t1 - t0) / 1000;
  const sends = ackedAfter - ackedBefore;
  const used = [...after].map(([tid, s]) => [tid, s - (before.get(tid) ?? 0)] as const).filter(([, s]) => s > 0);
  const total = used.reduce((sum, [, s]) => sum + s, 0);
  console.log(`${values["server-dir"]} on ${db === join(dir, "chat.db") ? "a new file" : db}: ${(sends / wall).toFixed(0)} sends/s acknowledged`);
  console.log(`server CPU ${((100 * total) / wall).toFixed(1)} % of a core, ${((1e6 * total) / sends).toFixed(1)} µs per send`);
  console.log(`by thread (% of a core): ${used.map(([tid, s]) => `${tid === String(server.pid) ? "main" : tid} ${((100 * s) / wall).toFixed(1)}`).join(", ")}`);
  for (const c of clients) c.close();
} finally {
  await server.stop();
  for (const f of databaseFilesOf(db)) rmSync(f, { force: true });
  rmSync(dir, { recursive: true, force: true });
}
