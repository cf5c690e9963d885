import { describe, expect, it } from "vitest";
import { rejection, take, useHarness } from "./helpers/server.js";

const harness = useHarness();

const code = async (p: Promise<unknown>) => (await rejection(p)).code;

const MISSING = "00000000-0000-4000-8000-000000000000";


describe("rooms", () => {
  it("creates a room: the creator owns and joins it, everyone hears room_created", async () => {
    const h = harness();
    const [a, b] = await h.clients(2);
    const { room } = await a.request("create_room", { room_name: "  Tea  " });
    expect(room).toMatchObject({ name: "Tea", owner_id: a.user.id, member_count: 1 });
    await h.settle(a, b);
    for (const c of [a, b]) {
      expect(take(c)).toEqual([{ event: "room_created", data: { room, by: a.user } }]);
    }
  });

  it("refuses a name another room has, ignoring case", async () => {
    const h = harness();
    const [a, b] = await h.clients(2);
    await a.request("create_room", { room_name: "Tea" });
    expect(await code(b.request("create_room", { room_name: "tEA" }))).toBe("name_taken");
  });

  it("renames for the owner only; a change of case of its own name is allowed", async () => {
    const h = harness();
    const [owner, other] = await h.clients(2);
    const { room } = await owner.request("create_room", { room_name: "tea" });
    await other.request("create_room", { room_name: "coffee" });
    await h.settle(owner, other);
    take(owner);
    take(other);
    expect(await code(other.request("rename_room", { room_id: room.id, room_name: "mine" }))).toBe("forbidden");
    expect(await code(owner.request("rename_room", { room_id: MISSING, room_name: "x" }))).toBe("not_found");
    expect(await code(owner.request("rename_room", { room_id: room.id, room_name: "COFFEE" }))).toBe("name_taken");
    const renamed = (await owner.request("rename_room", { room_id: room.id, room_name: "Tea" })).room;
    expect(renamed.name).toBe("Tea");
    await h.settle(owner, other);
    for (const c of [owner, other]) expect(take(c)).toEqual([{ event: "room_renamed", data: { room: renamed, by: owner.user } }]);
    // The old name is free again.
    expect((await other.request("create_room", { room_name: "tea2" })).room.name).toBe("tea2");
  });

  it("joins: member_joined to the room's members only; joining again is a silent success", async () => {
    const h = harness();
    const [owner, joiner, outsider] = await h.clients(3);
    const { room } = await owner.request("create_room", { room_name: "r" });
    await owner.request("send_message", { room_id: room.id, message: "before you came" });
    await h.settle(owner, joiner, outsider);
    for (const c of [owner, joiner, outsider]) take(c);

    const joined = await joiner.request("choose_room", { room_id: room.id });
    expect(joined.room.member_count).toBe(2);
    expect(joined.history.map((m) => m.text)).toEqual(["before you came"]);
    await h.settle(owner, joiner, outsider);
    const push = { event: "member_joined", data: { room_id: room.id, user: joiner.user } };
    expect(take(owner)).toEqual([push]);
    expect(take(joiner)).toEqual([push]);
    expect(take(outsider)).toEqual([]);

    const again = await joiner.request("choose_room", { room_id: room.id });
    expect(again.room.member_count).toBe(2);
    await h.settle(owner, joiner);
    expect(take(owner)).toEqual([]);
    expect(take(joiner)).toEqual([]);
    expect(await code(joiner.request("choose_room", { room_id: MISSING }))).toBe("not_found");
  });

  it("lists every room sorted by name, with joined for the asker", async () => {
    const h = harness();
    const [a, b] = await h.clients(2);
    for (const name of ["beta", "Alpha", "gamma"]) await a.request("create_room", { room_name: name });
    const { rooms } = await b.request("show_rooms", { anything: [1, 2] } as never);
    expect(rooms.map((r) => r.name)).toEqual(["Alpha", "beta", "gamma"]);
    expect(rooms.every((r) => !r.joined)).toBe(true);
    expect((await a.request("show_rooms")).rooms.every((r) => r.joined)).toBe(true);
  });

  it("leaves: member_left to the remaining members and the leaver's other devices; leaving twice is not_member", async () => {
    const h = harness();
    const [owner, a, a2, outsider] = await h.clients(4);
    await a2.request("auth", { user_id: a.user.id, token: a.token! });
    const { room } = await owner.request("create_room", { room_name: "r" });
    await a.request("choose_room", { room_id: room.id });
    await h.settle(owner, a, a2, outsider);
    for (const c of [owner, a, a2, outsider]) take(c);

    expect(await a.request("exit_room", { room_id: room.id })).toEqual({ room_id: room.id });
    await h.settle(owner, a, a2, outsider);
    const left = { event: "member_left", data: { room_id: room.id, user: a.user } };
    expect(take(owner)).toEqual([left]);
    expect(take(a2)).toEqual([left]);
    expect(take(a)).toEqual([]);
    expect(take(outsider)).toEqual([]);
    expect(await code(a.request("exit_room", { room_id: room.id }))).toBe("not_member");
    expect(await code(a.request("exit_room", { room_id: MISSING }))).toBe("not_found");
    expect(await code(a.request("send_message", { room_id: room.id, message: "hi" }))).toBe("not_member");
  });

  it("deletes for the owner only: everyone hears room_deleted and the members are out of it", async () => {
    const h = harness();
    const [owner, member, outsider] = await h.clients(3);
    const { room } = await owner.request("create_room", { room_name: "doomed" });
    await member.request("choose_room", { room_id: room.id });
    await h.settle(owner, member, outsider);
    for (const c of [owner, member, outsider]) take(c);

    expect(await code(member.request("del_room", { room_id: room.id }))).toBe("forbidden");
    expect(await code(owner.request("del_room", { room_id: MISSING }))).toBe("not_found");
    expect(await owner.request("del_room", { room_id: room.id })).toEqual({ room_id: room.id });
    await h.settle(owner, member, outsider);
    const push = { event: "room_deleted", data: { room_id: room.id, room_name: "doomed", by: owner.user } };
    for (const c of [owner, member, outsider]) expect(take(c)).toEqual([push]);
    expect((await member.request("show_rooms")).rooms).toEqual([]);
    expect(await code(member.request("send_message", { room_id: room.id, message: "hi" }))).toBe("not_found");
    expect(await code(member.request("history", { room_id: room.id }))).toBe("not_found");
    // The name is free again, and the new room starts with no history.
    const { room: fresh } = await owner.request("create_room", { room_name: "doomed" });
    expect((await owner.request("history", { room_id: fresh.id })).messages).toEqual([]);
  });

  it("lets an owner leave and rejoin a room it still owns", async () => {
    const h = harness();
    const [owner] = await h.clients(1);
    const { room } = await owner.request("create_room", { room_name: "r" });
    await owner.request("exit_room", { room_id: room.id });
    const { rooms } = await owner.request("show_rooms");
    expect(rooms).toEqual([{ ...room, member_count: 0, joined: false }]);
    expect((await owner.request("rename_room", { room_id: room.id, room_name: "r2" })).room.owner_id).toBe(owner.user.id);
    expect((await owner.request("choose_room", { room_id: room.id })).room.member_count).toBe(1);
  });
});
