/** Cluster mode: several nodes (in this process) sharing one real redis-server's log. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Options } from "../src/config.js";
import { startRedis, type TestRedis } from "./helpers/redis.js";
import { startHarness, take, type Harness, type TestClient } from "./helpers/server.js";

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
