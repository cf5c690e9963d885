/**
 * Property: random requests from clients spread over three nodes, many in flight at
 * once; afterwards every node holds the same state, and every client received each
 * conversation's messages in log order (ids follow the log, so in increasing id order).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Frame } from "../src/client/index.js";
import { startRedis, type TestRedis } from "./helpers/redis.js";
import { startHarness, type Harness, type TestClient } from "./helpers/server.js";
import { stateView } from "./helpers/stateView.js";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

const OPS = ["room", "lobby", "direct", "create", "join", "leave", "rename", "name", "delete_room", "auth", "sign_out", "history"] as const;
const op = fc.record({ op: fc.constantFrom(...OPS), who: fc.nat(11), arg: fc.nat(11), name: fc.constantFrom("Tea", "tea", "Chess", "Go") });
/** Rounds of requests; the requests of a round are all sent before any answer is awaited. */
const rounds = fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 3, maxLength: 10 });

let run = 0;

async function converge(nodes: Harness[], prefix: string): Promise<void> {
  const head = redis.cli("XREVRANGE", `${prefix}log`, "+", "-", "COUNT", "1").split("\n")[0];
  for (const n of nodes) while (n.server.hub.position !== head) await new Promise((r) => setTimeout(r, 10));
}

describe("a cluster of three nodes under random concurrent requests", () => {
  it("ends with the same state on every node, and every client saw every conversation in log order", async () => {
    await fc.assert(
      fc.asyncProperty(rounds, async (plan) => {
        const prefix = `p${++run}:`;
        const nodes = await Promise.all([0, 1, 2].map(() => startHarness({ redisUrl: redis.url, redisPrefix: prefix })));
        try {
          const clients: TestClient[] = [];
          for (let i = 0; i < 6; i++) clients.push(await nodes[i % 3]!.client());
          const tokens = new Map<string, string>(clients.map((c) => [c.user.id, c.token!]));
          const rooms: string[] = [];
          const received = clients.map(() => [] as Frame[]);
          clients.forEach((c, i) => c.on("frame", (f) => f.event === "message" && f.ref === undefined && received[i]!.push(f)));
          for (const round of plan) {
            await Promise.allSettled(
              round.map(async ({ op, who, arg, name }) => {
                const c = clients[who % clients.length]!;
                const room = rooms[arg % Math.max(1, rooms.length)];
                const peer = clients[arg % clients.length]!;
                switch (op) {
                  case "room":
                    if (room) await c.request("send_message", { room_id: room, message: `r${arg}` });
                    return;
                  case "lobby":
                    return void (await c.request("send_message", { room_id: "all", message: `l${arg}` }));
                  case "direct":
                    return void (await c.request("send_message", { user_id: peer.user.id, message: `d${arg}` }));
                  case "create":
                    return void rooms.push((await c.request("create_room", { room_name: `${name}${arg % 3}` })).room.id);
                  case "join":
                    if (room) await c.request("choose_room", { room_id: room });
                    return;
                  case "leave":
                    if (room) await c.request("exit_room", { room_id: room });
                    return;
                  case "rename":
                    if (room) await c.request("rename_room", { room_id: room, room_name: `${name}${arg}` });
                    return;
                  case "name": {
                    const { user } = await c.request("change_name", { username: `${name}${arg}` });
                    return void tokens.set(user.id, c.token!);
                  }
                  case "delete_room":
                    if (room) await c.request("del_room", { room_id: room });
                    return;
                  case "auth": {
                    const target = [...tokens][arg % tokens.size]!;
                    return void (await c.request("auth", { user_id: target[0], token: target[1] }));
                  }
                  case "sign_out":
                    await c.request("sign_out");
                    return void tokens.set(c.user.id, c.token!);
                  case "history":
                    if (room) await c.request("history", { room_id: room });
                    return;
                }
              }),
            );
          }
          await Promise.all(clients.map((c) => c.request("ping")));
          await converge(nodes, prefix);
          const [first, ...others] = nodes.map((n) => stateView(n.server.hub.state));
          for (const other of others) expect(other).toEqual(first);
          for (const frames of received) {
            const byConversation = new Map<string, string[]>();
            for (const f of frames) {
              const m = f.data as { id: string; room_id?: string; to_user_id?: string; from: { id: string } };
              const key = m.room_id ?? [m.to_user_id, m.from.id].sort().join(":");
              byConversation.set(key, [...(byConversation.get(key) ?? []), m.id]);
            }
            for (const ids of byConversation.values()) expect(ids).toEqual([...ids].sort());
          }
        } finally {
          for (const n of nodes) {
            await n.close();
            expect(n.problems).toEqual([]);
          }
        }
      }),
      { numRuns: 12 },
    );
  }, 120_000);
});
