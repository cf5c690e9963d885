/** Typing notices: to the others in the conversation only, stored nowhere, on an allowance of their own. */
import { describe, expect, it } from "vitest";
import { rejection, startHarness, take, useHarness } from "./helpers/server.js";

const harness = useHarness();

describe("typing", () => {
  it("tells the room's other members, and in a direct conversation the other person, and no one else", async () => {
    const h = harness();
    const [a, a2, b, c, outsider] = await h.clients(5);
    await a2.request("auth", { user_id: a.user.id, token: a.token! });
    const { room } = await a.request("create_room", { room_name: "t" });
    await b.request("choose_room", { room_id: room.id });
    await c.request("choose_room", { room_id: room.id });
    await h.settle(a, a2, b, c, outsider);
    for (const x of [a, a2, b, c, outsider]) take(x);

    expect(await a.request("typing", { room_id: room.id })).toEqual({ room_id: room.id });
    expect(await a.request("typing", { user_id: b.user.id })).toEqual({ user_id: b.user.id });
    await h.settle(a, a2, b, c, outsider);
    const inRoom = { event: "user_typing", data: { user: a.user, room_id: room.id } };
    expect(take(b, "user_typing")).toEqual([inRoom, { event: "user_typing", data: { user: a.user } }]);
    expect(take(c, "user_typing")).toEqual([inRoom]);
    for (const x of [a, a2, outsider]) expect(take(x, "user_typing")).toEqual([]);
    expect((await rejection(outsider.request("typing", { room_id: room.id }))).code).toBe("not_member");
    // Nothing stored: the room's history is as it was.
    expect((await b.request("history", { room_id: room.id })).messages).toEqual([]);
  });

  it("has an allowance of its own: typing past it is refused, and typing never uses up what messages need", async () => {
    // A tight request allowance: 5 at once, 1 a second.
    const h = await startHarness({ rateBurst: 5, ratePerSecond: 1 });
    try {
      const [a, b] = await h.clients(2);
      const typed = await Promise.allSettled(Array.from({ length: 6 }, () => a.request("typing", { user_id: b.user.id })));
      const refused = typed.filter((o) => o.status === "rejected").map((o) => (o as PromiseRejectedResult).reason);
      expect(refused).toHaveLength(3);
      expect(refused[0]).toMatchObject({ code: "rate_limited", request: "typing" });
      expect(refused[0].details.retry_after_ms).toBeGreaterThan(0);
      // All five of the request allowance are still there for messages.
      const sent = await Promise.all(Array.from({ length: 5 }, (_, i) => a.request("send_message", { user_id: b.user.id, message: `m${i}` })));
      expect(sent.map((r) => r.message.text)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    } finally {
      await h.close();
    }
  });
});
