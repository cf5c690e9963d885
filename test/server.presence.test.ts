/** Who is here: room_members with online flags, and presence pushes to those who share a room or a direct conversation. */
import { describe, expect, it } from "vitest";
import type { ChatClient } from "../src/client/index.js";
import { rejection, take, useHarness, type Harness } from "./helpers/server.js";

const harness = useHarness();

/** Closes a client and resolves once the server has applied its end. */
async function leave(h: Harness, c: ChatClient): Promise<void> {
  const before = h.server.hub.state.connections.size;
  c.close();
  while (h.server.hub.state.connections.size >= before) await new Promise((r) => setTimeout(r, 5));
}

describe("room_members and presence", () => {
  it("lists a room's members with online, to members only, in pages by id", async () => {
    const h = harness();
    const [a, b, c, outsider] = await h.clients(4);
    const { room } = await a.request("create_room", { room_name: "here" });
    await b.request("choose_room", { room_id: room.id });
    await c.request("choose_room", { room_id: room.id });
    await c.request("change_name", { username: "carol" });
    await leave(h, c);
    const { members, has_more } = await a.request("room_members", { room_id: room.id });
    expect(has_more).toBe(false);
    const ids = [a.user.id, b.user.id, c.user.id].sort();
    expect(members.map((m) => m.id)).toEqual(ids);
    expect(Object.fromEntries(members.map((m) => [m.id, m.online]))).toEqual({ [a.user.id]: true, [b.user.id]: true, [c.user.id]: false });
    expect(members.find((m) => m.id === c.user.id)!.username).toBe("carol");
    const first = await a.request("room_members", { room_id: room.id, limit: 2 });
    expect(first).toMatchObject({ has_more: true });
    const rest = await a.request("room_members", { room_id: room.id, after: first.members[1]!.id });
    expect([...first.members, ...rest.members].map((m) => m.id)).toEqual(ids);
    expect((await rejection(outsider.request("room_members", { room_id: room.id }))).code).toBe("not_member");
    expect((await rejection(outsider.request("room_members", { room_id: "00000000-0000-4000-8000-000000000000" }))).code).toBe("not_found");
  });

  it("pushes presence when an account's first connection opens and its last one closes, to roommates and direct peers only", async () => {
    const h = harness();
    const [a, b, peer, stranger] = await h.clients(4);
    const { room } = await a.request("create_room", { room_name: "p" });
    await b.request("choose_room", { room_id: room.id });
    await b.request("send_message", { user_id: peer.user.id, message: "hi" });
    const token = b.token!;
    await h.settle(a, b, peer, stranger);
    for (const x of [a, b, peer, stranger]) take(x);

    // A second device of b: b was online already, so no one hears of it.
    const b2 = await h.client();
    await b2.request("auth", { user_id: b.user.id, token });
    await leave(h, b);
    await h.settle(a, peer, stranger, b2);
    expect(take(a, "presence")).toEqual([]);

    await leave(h, b2);
    await h.settle(a, peer, stranger);
    const offline = { event: "presence", data: { user: { id: b.user.id, username: null }, online: false } };
    expect(take(a, "presence")).toEqual([offline]);
    expect(take(peer, "presence")).toEqual([offline]);
    expect(take(stranger, "presence")).toEqual([]);

    const back = await h.client();
    await back.request("auth", { user_id: b.user.id, token });
    await h.settle(a, peer, stranger);
    expect(take(a, "presence")).toEqual([{ ...offline, data: { ...offline.data, online: true } }]);
    expect(take(stranger, "presence")).toEqual([]);
  });
});
