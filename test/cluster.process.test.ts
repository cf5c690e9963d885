/** Cluster mode with real node processes: a node killed with SIGKILL, a node stalled past its liveness. */
import { spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatClient } from "../src/client/index.js";
import { SqliteStore } from "../src/store/sqliteStore.js";
import { startBalancer, type Balancer } from "./helpers/balancer.js";
import { killChildren, startChild } from "./helpers/process.js";
import { startRedis, type TestRedis } from "./helpers/redis.js";
import { stateView } from "./helpers/stateView.js";

let redis: TestRedis;
let dir: string;
let balancer: Balancer | undefined;
const clients: ChatClient[] = [];

beforeEach(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), "chat-nodes-"));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  killChildren();
  await balancer?.close();
  balancer = undefined;
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Node = { child: ChildProcess; url: string; port: number };

async function startNode(name: string): Promise<Node> {
  const { child, url } = await startChild([], { CHAT_DB: join(dir, `${name}.db`), CHAT_REDIS_URL: redis.url, CHAT_NODE_TTL_MS: "1500", CHAT_REDIS_TIMEOUT_MS: "2000" });
  const port = Number(new URL(url).port);
  // Upgrades are refused until the node has caught up with the log.
  while ((await readyz(url)).status !== 200) await new Promise((r) => setTimeout(r, 50));
  return { child, url, port };
}

async function readyz(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url.replace("ws:", "http:").replace("/ws", "/readyz"));
  return { status: res.status, text: await res.text() };
}

async function connect(url: string, reconnect = true): Promise<ChatClient> {
  const c = await ChatClient.connect(url, { WebSocket: WebSocket as never, ...(reconnect && { reconnect: { initialDelayMs: 50, maxDelayMs: 300 } }) });
  clients.push(c);
  return c;
}

const head = () => redis.cli("XREVRANGE", "chat:log", "+", "-", "COUNT", "1").split("\n")[0]!;

/** Waits until the node says it has applied the log up to its head now. */
async function caughtUp(node: Node): Promise<void> {
  while (!(await readyz(node.url)).text.includes(`up to ${head()}`)) await new Promise((r) => setTimeout(r, 50));
}

async function kill(node: Node): Promise<void> {
  const exited = new Promise((r) => node.child.once("exit", r));
  node.child.kill("SIGKILL");
  await exited;
}

/** Every message of a room, oldest first. */
async function roomHistory(c: ChatClient, room_id: string): Promise<{ id: string; text: string }[]> {
  const all: { id: string; text: string }[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await c.request("history", { room_id, limit: 100, ...(before === undefined ? {} : { before }) });
    all.unshift(...page.messages);
    if (!page.has_more) return all;
    before = page.messages[0]!.id;
  }
}

describe("cluster nodes as processes", () => {
  it("keeps serving when a node is killed with SIGKILL mid-stream: its clients reconnect elsewhere with their accounts, nothing acknowledged is lost, and the restarted node catches up to equal the others", async () => {
    const ports: Record<string, number> = {};
    let a = await startNode("a");
    const b = await startNode("b");
    ports.a = a.port;
    ports.b = b.port;
    balancer = await startBalancer(() => [ports.a!, ports.b!]);
    const people = await Promise.all([0, 1, 2, 3].map(() => connect(balancer!.url)));
    const accounts = people.map((c) => c.user.id);
    const { room } = await people[0]!.request("create_room", { room_name: "kill" });
    for (const p of people.slice(1)) await p.request("choose_room", { room_id: room.id });
    const seen = people.map(() => [] as string[]);
    people.forEach((p, i) => p.on("frame", (f) => f.event === "message" && f.ref === undefined && seen[i]!.push((f.data as { id: string }).id)));

    const acknowledged: string[] = [];
    let killed = false;
    let afterKill = 0;
    const loops = people.map(async (p, i) => {
      for (let n = 0; afterKill < 40; n++) {
        try {
          const { message } = await p.request("send_message", { room_id: room.id, message: `${i}:${n}` });
          acknowledged.push(message.id);
          if (killed) afterKill++;
        } catch {
          // Reconnecting, or the log was briefly unavailable: try again.
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    });
    await new Promise((r) => setTimeout(r, 400));
    await kill(a);
    killed = true;
    await Promise.all(loops);

    // Everyone is still who they were, now all through the surviving node.
    expect(people.map((p) => p.user.id)).toEqual(accounts);
    const onB = await roomHistory(people[0]!, room.id);
    expect(onB.map((m) => m.id)).toEqual(expect.arrayContaining(acknowledged));
    // Each member saw the room's messages in the log's order (a subsequence of the history).
    const position = new Map(onB.map((m, i) => [m.id, i]));
    for (const ids of seen) {
      const places = ids.map((id) => position.get(id)!);
      expect(places).toEqual([...places].sort((x, y) => x - y));
    }

    // The killed node comes back on its database as a new node and catches up.
    a = await startNode("a");
    ports.a = a.port;
    const reader = await connect(a.url, false);
    await reader.request("auth", { user_id: accounts[1]!, token: people[1]!.token! });
    expect((await roomHistory(reader, room.id)).map((m) => m.id)).toEqual(onB.map((m) => m.id));

    // Quiet, both at the log's head, then both killed: their databases hold the same state at the same position.
    for (const c of clients.splice(0)) c.close();
    await new Promise((r) => setTimeout(r, 300));
    await caughtUp(a);
    await caughtUp(b);
    await kill(a);
    await kill(b);
    const [da, db] = [new SqliteStore(join(dir, "a.db")), new SqliteStore(join(dir, "b.db"))];
    try {
      expect(da.position()).toEqual(db.position());
      expect(da.position()?.entry).toBe(head());
      expect(stateView(da.load(true))).toEqual(stateView(db.load(true)));
    } finally {
      da.close();
      db.close();
    }
  }, 60_000);

  it("ends the connections of a node stalled past its liveness mark: when it wakes it closes them with 4002 and serves again as a new node", async () => {
    const a = await startNode("a");
    const b = await startNode("b");
    const onA = await connect(a.url, false);
    const received: string[] = [];
    onA.on("frame", (f) => f.event === "message" && received.push((f.data as { text: string }).text));
    const onB = await connect(b.url, false);
    const closed = new Promise<number>((resolve) => onB.on("close", ({ code }) => resolve(code)));
    b.child.kill("SIGSTOP");
    // Its mark lasts 1.5 s; the others look every half second.
    await new Promise((r) => setTimeout(r, 2500));
    b.child.kill("SIGCONT");
    expect(await closed).toBe(4002);
    // Served again, as a new node, with the others still there, once it says it is ready.
    while ((await readyz(b.url)).status !== 200) await new Promise((r) => setTimeout(r, 50));
    const again = await connect(b.url, false);
    await again.request("send_message", { user_id: onA.user.id, message: "back" });
    while (received.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(received).toEqual(["back"]);
  }, 30_000);

  it("refuses to start an empty node once the log was trimmed, and starts one seeded from `npm run backup` of a running node", async () => {
    const a = await startNode("a");
    const alice = await connect(a.url, false);
    for (let i = 0; i < 5; i++) await alice.request("send_message", { room_id: "all", message: `old ${i}` });
    redis.cli("XTRIM", "chat:log", "MAXLEN", "1");
    await expect(startNode("c")).rejects.toThrow(/exited with 1: chat-server: .*trimmed.*npm run backup.*\n$/);

    const backup = spawnSync(process.execPath, ["--import", "tsx", "src/backup.ts", "--db", join(dir, "a.db"), "--to", join(dir, "seed.db")], {
      cwd: new URL("..", import.meta.url),
      encoding: "utf8",
    });
    expect(backup.stdout).toMatch(/^backup of the running server \(pid \d+\) written to .*seed\.db\n$/);
    rmSync(join(dir, "c.db"), { force: true });
    copyFileSync(join(dir, "seed.db"), join(dir, "c.db"));
    const c = await startNode("c");
    const carol = await connect(c.url, false);
    const page = await carol.request("history", { room_id: "all" });
    expect(page.messages.map((m) => m.text)).toEqual(["old 0", "old 1", "old 2", "old 3", "old 4"]);
    // And it follows the log from there.
    const got = new Promise<string>((resolve) => carol.on("frame", (f) => f.event === "message" && resolve((f.data as { text: string }).text)));
    await alice.request("send_message", { room_id: "all", message: "new" });
    expect(await got).toBe("new");
  }, 30_000);
});
