/** Cluster mode: several nodes (in this process) sharing one real redis-server's log. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULTS, type Options } from "../src/config.js";
import { startServer } from "../src/server/httpServer.js";
import { LOG_FORMAT } from "../src/log/redisLog.js";
import { startRedis, type TestRedis } from "./helpers/redis.js";
import { httpUrl, startHarness, take, type Harness, type TestClient } from "./helpers/server.js";
import { stateView } from "./helpers/stateView.js";

let redis: TestRedis;
const nodes: Harness[] = [];

beforeEach(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  for (const n of nodes.splice(0)) {
    await n.close();
    expect(n.problems).toEqual([]);
  }
  await redis.stop();
});

async function node(overrides: Partial<Options> = {}): Promise<Harness> {
  const h = await startHarness({ redisUrl: redis.url, ...overrides });
  nodes.push(h);
  return h;
}

/** Every client has seen everything the log held when each asked (a ping after a round trip through the log). */
async function settleAll(...clients: TestClient[]): Promise<void> {
  // A write through the log by each, then a ping: its reply follows everything applied before it.
  await Promise.all(clients.map((c) => c.request("ping")));
  await new Promise((r) => setTimeout(r, 200));
  await Promise.all(clients.map((c) => c.request("ping")));
}

describe("a cluster of two nodes", () => {
  it("delivers room, lobby and direct messages to exactly their audience, whichever node each member is on", async () => {
    const [a, b] = [await node(), await node()];
    const [alice, carol] = await a.clients(2);
    const [bob, dave] = await b.clients(2);
    const { room } = await alice.request("create_room", { room_name: "tea" });
    await bob.request("choose_room", { room_id: room.id });
    await settleAll(alice, bob, carol, dave);
    for (const c of [alice, bob, carol, dave]) take(c);

    const inRoom = await bob.request("send_message", { room_id: room.id, message: "in the room" });
    const inLobby = await carol.request("send_message", { room_id: "all", message: "to everyone" });
    const direct = await dave.request("send_message", { user_id: alice.user.id, message: "just you" });
    await settleAll(alice, bob, carol, dave);

    const seen = (c: TestClient) => take(c, "message").map((f) => (f.data as { text: string }).text).sort();
    expect(seen(alice)).toEqual(["in the room", "just you", "to everyone"]);
    // Room and lobby pushes reach the sender's connections too; a direct one only the other side.
    expect(seen(bob)).toEqual(["in the room", "to everyone"]);
    expect(seen(carol)).toEqual(["to everyone"]);
    expect(seen(dave)).toEqual(["to everyone"]);
    // Ids and times come from the log: the same message has the same id on every node.
    const history = await alice.request("history", { room_id: room.id });
    expect(history.messages.map((m) => m.id)).toEqual([inRoom.message.id]);
    const elsewhere = await bob.request("history", { room_id: room.id });
    expect(elsewhere).toEqual(history);
    expect(inLobby.message.id < direct.message.id).toBe(true);
  });

  it("keeps presence across nodes: room_members on one node sees who is online on another, and presence reaches roommates elsewhere", async () => {
    const [a, b] = [await node(), await node()];
    const [alice] = await a.clients(1);
    const [bob] = await b.clients(1);
    const { room } = await alice.request("create_room", { room_name: "both" });
    await bob.request("choose_room", { room_id: room.id });
    await settleAll(alice, bob);
    expect((await alice.request("room_members", { room_id: room.id })).members.find((m) => m.id === bob.user.id)?.online).toBe(true);
    take(alice);
    bob.close();
    while (!take(alice, "presence").length) await new Promise((r) => setTimeout(r, 20));
    expect((await alice.request("room_members", { room_id: room.id })).members.find((m) => m.id === bob.user.id)?.online).toBe(false);
  });

  it("gives a send repeated through another node, with the same client_msg_id, the original message", async () => {
    const [a, b] = [await node(), await node()];
    const [x] = await a.clients(1);
    const [x2] = await b.clients(1);
    await x2.request("auth", { user_id: x.user.id, token: x.token! });
    const [one, two] = await Promise.all([
      x.request("send_message", { room_id: "all", message: "once", client_msg_id: "k" }),
      x2.request("send_message", { room_id: "all", message: "once", client_msg_id: "k" }),
    ]);
    expect(two).toEqual(one);
    await settleAll(x, x2);
    expect((await x2.request("history", { room_id: "all" })).messages.map((m) => m.id)).toEqual([one.message.id]);
  });

  it("keeps names unique when two nodes are asked for the same room name at once", async () => {
    const [a, b] = [await node(), await node()];
    const [x] = await a.clients(1);
    const [y] = await b.clients(1);
    const results = await Promise.allSettled([
      x.request("create_room", { room_name: "Chess" }),
      y.request("create_room", { room_name: "chess" }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: "name_taken" });
    await settleAll(x, y);
    expect(a.server.hub.state.roomOrder).toEqual(b.server.hub.state.roomOrder);
  });

  it("answers a read after the same connection's earlier writes, even sent in one TCP write, and in request order", async () => {
    const a = await node();
    await node();
    const [alice] = await a.clients(1);
    const frames: Array<{ event: string; ref?: unknown; data: unknown }> = [];
    alice.on("frame", (f) => f.ref !== undefined && frames.push(f));
    // Not awaited one by one: the client writes them back to back.
    const replies = await Promise.all([
      alice.request("send_message", { room_id: "all", message: "first" }),
      alice.request("history", { room_id: "all" }),
      alice.request("change_name", { username: "alice" }),
      alice.request("show_rooms"),
      alice.request("ping"),
    ]);
    expect(replies[1].messages.map((m) => m.text)).toEqual(["first"]);
    expect(frames.map((f) => f.event)).toEqual(["send_message", "history", "change_name", "show_rooms", "ping"]);
  });

  it("never puts a plain token into Redis: only hashes travel in the log", async () => {
    const [a, b] = [await node(), await node()];
    const [alice] = await a.clients(1);
    const [bob] = await b.clients(1);
    const tokens = [alice.token!, bob.token!];
    await alice.request("change_name", { username: "alice" });
    tokens.push((await alice.request("replace_token")).token);
    await bob.request("del_user");
    await bob.request("sign_out");
    tokens.push(bob.token!);
    const dump = redis.cli("XRANGE", "chat:log", "-", "+") + redis.cli("KEYS", "*");
    expect(dump).toContain("tokenHash");
    for (const t of tokens) expect(dump).not.toContain(t);
  });

  it("brings a node started later on an empty database up to the whole history before it accepts anyone", async () => {
    const a = await node();
    const [alice] = await a.clients(1);
    const { room } = await alice.request("create_room", { room_name: "early" });
    for (let i = 0; i < 30; i++) await alice.request("send_message", { room_id: room.id, message: `m${i}` });
    const late = await node();
    const [bob] = await late.clients(1);
    await bob.request("choose_room", { room_id: room.id });
    const page = await bob.request("history", { room_id: room.id, limit: 100 });
    expect(page.messages.map((m) => m.text)).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`));
  });
});

/** Every message of a conversation, oldest first, paging back from the newest. */
async function everything(c: TestClient, target: { room_id: string } | { user_id: string }): Promise<string[]> {
  const ids: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await c.request("history", { ...target, limit: 100, ...(before === undefined ? {} : { before }) });
    ids.unshift(...page.messages.map((m) => m.id));
    if (!page.has_more || page.messages.length === 0) return ids;
    before = page.messages[0]!.id;
  }
}

/** Waits until every node has applied the log as far as it goes now. */
async function converge(...hs: Harness[]): Promise<void> {
  const head = redis.cli("XREVRANGE", "chat:log", "+", "-", "COUNT", "1").split("\n")[0];
  for (const h of hs) {
    while (h.server.hub.position !== head) await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Clients that keep sending to the lobby one message at a time while `trouble` runs,
 * then a while longer; every request must be answered (success or `unavailable`).
 */
async function sendThrough(clients: TestClient[], trouble: () => Promise<void>) {
  const acknowledged: string[] = [];
  const refused: string[] = [];
  let stop = false;
  let n = 0;
  const loops = clients.map(async (c) => {
    while (!stop) {
      const text = `m${n++}`;
      try {
        acknowledged.push((await c.request("send_message", { room_id: "all", message: text })).message.id);
      } catch (err) {
        expect(err).toMatchObject({ code: "unavailable" });
        expect((err as { details?: { retry_after_ms?: number } }).details?.retry_after_ms).toBeGreaterThan(0);
        refused.push(text);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  await new Promise((r) => setTimeout(r, 300));
  await trouble();
  // Until each client has had a success after the trouble.
  const after = acknowledged.length;
  while (acknowledged.length < after + clients.length * 3) await new Promise((r) => setTimeout(r, 50));
  stop = true;
  await Promise.all(loops);
  return { acknowledged, refused };
}

describe("a cluster whose Redis has trouble", () => {
  for (const [what, trouble] of [
    ["is stopped (SIGSTOP) for 3 s", async () => {
      redis.pause();
      await new Promise((r) => setTimeout(r, 3000));
      redis.resume();
    }],
    ["is killed and restarted from its append-only file", async () => {
      await redis.restart();
    }],
  ] as const) {
    it(`answers every request (success or unavailable) while Redis ${what}, loses nothing acknowledged, and converges`, async () => {
      const [a, b] = [await node({ redisTimeoutMs: 2000 }), await node({ redisTimeoutMs: 2000 })];
      const clients = [...(await a.clients(2)), ...(await b.clients(2))];
      const { acknowledged, refused } = await sendThrough(clients, trouble);
      expect(acknowledged.length).toBeGreaterThan(0);
      await converge(a, b);
      const onA = await everything(clients[0]!, { room_id: "all" });
      const onB = await everything(clients[3]!, { room_id: "all" });
      expect(onB).toEqual(onA);
      expect(onA).toEqual(expect.arrayContaining(acknowledged));
      // "unavailable" means not applied: none of those texts is in the log.
      const texts = new Set((await clients[0]!.request("history", { room_id: "all", limit: 100 })).messages.map((m) => m.text));
      for (const t of refused) expect(texts.has(t)).toBe(false);
      expect(stateView(a.server.hub.state)).toEqual(stateView(b.server.hub.state));
    }, 40_000);
  }

  it("refuses writes and says why when Redis comes back empty, rather than start a second history; the database then refuses to start on it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chat-cluster-"));
    try {
      const db = join(dir, "a.db");
      const a = await startHarness({ redisUrl: redis.url, db, redisTimeoutMs: 1000 });
      const [alice] = await a.clients(1);
      await alice.request("change_name", { username: "alice" });
      await redis.replaceWithEmpty();
      let refusal: unknown;
      while (!refusal) {
        refusal = await alice.request("change_name", { username: "alice2" }).then(() => undefined, (err: unknown) => err);
        if (!refusal) await new Promise((r) => setTimeout(r, 100));
      }
      expect(refusal).toMatchObject({ code: "unavailable" });
      // Once the node has looked at the epoch again, it says so.
      let ready: Response;
      do {
        await new Promise((r) => setTimeout(r, 200));
        ready = await fetch(httpUrl(a.server, "/readyz"));
      } while (ready.status === 200 || !(await ready.clone().text()).includes("second history"));
      expect(await ready.text()).toMatch(/(epoch|stream).*(flushed or replaced).*second history/);
      await a.close();
      await expect(startServer({ options: { ...DEFAULTS, port: 0, host: "127.0.0.1", db, redisUrl: redis.url }, logger: pino({ level: "silent" }) })).rejects.toThrow(
        /Redis holds no log for this database.*restore Redis/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("never applies another log's entries: a node whose Redis was replaced by a new cluster's refuses writes and keeps its state", async () => {
    const a = await node({ redisTimeoutMs: 1000 });
    const [alice] = await a.clients(1);
    await alice.request("change_name", { username: "alice" });
    await redis.replaceWithEmpty();
    // A new cluster starts on the new Redis and writes to its own log.
    const b = await node();
    const [bob] = await b.clients(1);
    await bob.request("change_name", { username: "bob" });
    // Until it has looked (a liveness check, or its reader after the reconnect): meanwhile Redis may just be unreachable.
    while (!/another log|flushed or replaced/.test(a.server.hub.unavailable ?? "")) await new Promise((r) => setTimeout(r, 100));
    expect([...a.server.hub.state.users.values()].map((u) => u.username)).not.toContain("bob");
  });

  it("refuses writes when the log no longer holds the last entry the node applied (Redis lost acknowledged entries)", async () => {
    const a = await node();
    const [alice] = await a.clients(1);
    await alice.request("send_message", { room_id: "all", message: "soon lost" });
    const last = a.server.hub.position!;
    redis.cli("XDEL", "chat:log", last);
    // Every connection dropped, as when Redis restarts: the node checks where it stands before reading on.
    redis.cli("CLIENT", "KILL", "TYPE", "normal");
    while (!a.server.hub.unavailable?.includes("no longer holds")) await new Promise((r) => setTimeout(r, 50));
    expect(a.server.hub.unavailable).toMatch(new RegExp(`no longer holds entry ${last}.*lost acknowledged entries`));
    expect(await fetch(httpUrl(a.server, "/readyz")).then((r) => r.status)).toBe(503);
  });

  it("ends no one's connections when Redis was away longer than the nodes' liveness marks last", async () => {
    const [a, b] = [await node({ nodeTtlMs: 1000, redisTimeoutMs: 1000 }), await node({ nodeTtlMs: 1000, redisTimeoutMs: 1000 })];
    const [x] = await a.clients(1);
    const [y] = await b.clients(1);
    const closes: number[] = [];
    for (const c of [x, y]) c.on("close", ({ code }) => closes.push(code));
    await redis.restart(2500);
    // Long enough for a liveness check to have judged the marks that expired meanwhile (every third of the TTL).
    await new Promise((r) => setTimeout(r, 2500));
    while (!(await y.request("send_message", { user_id: x.user.id, message: "still here" }).catch(() => undefined))) await new Promise((r) => setTimeout(r, 200));
    expect(closes).toEqual([]);
    expect(x.state).toBe("open");
  }, 20_000);

  it("reads past an entry it cannot parse, as empty on every node, and stops writing at one of a newer format", async () => {
    const a = await node();
    const [alice] = await a.clients(1);
    redis.cli("XADD", "chat:log", "*", "e", "{not json");
    await alice.request("send_message", { room_id: "all", message: "after the bad entry" });
    expect(a.server.hub.unavailable).toBeUndefined();
    const epoch = redis.cli("GET", "chat:epoch");
    redis.cli("XADD", "chat:log", "*", "e", JSON.stringify({ v: LOG_FORMAT + 1, x: epoch, n: "x", b: 1, d: 0, c: [] }));
    while (!a.server.hub.unavailable?.includes("newer chat-server")) await new Promise((r) => setTimeout(r, 20));
    expect(a.server.hub.unavailable).toContain(`log format ${LOG_FORMAT + 1}; this one reads ${LOG_FORMAT}): upgrade this node`);
  });

  it("refuses a node whose limits differ from the cluster's: replicas applying different rules would part ways", async () => {
    await node();
    await expect(startServer({ options: { ...DEFAULTS, port: 0, host: "127.0.0.1", db: ":memory:", redisUrl: redis.url, maxRoomMembers: 5 }, logger: pino({ level: "silent" }) })).rejects.toThrow(
      /this node's limits differ from the cluster's .*"maxRoomMembers":5/,
    );
  });

  it("refuses to start an empty node once the log's start was trimmed away, saying how to seed it", async () => {
    const a = await node();
    const [alice] = await a.clients(1);
    for (let i = 0; i < 5; i++) await alice.request("send_message", { room_id: "all", message: `m${i}` });
    redis.cli("XTRIM", "chat:log", "MAXLEN", "1");
    await expect(startServer({ options: { ...DEFAULTS, port: 0, host: "127.0.0.1", db: ":memory:", redisUrl: redis.url }, logger: pino({ level: "silent" }) })).rejects.toThrow(
      /no longer holds its first entries.*trimmed.*npm run backup/,
    );
  });
});
