import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rejection, startHarness, take, type Harness } from "./helpers/server.js";

let h: Harness;
afterEach(async () => {
  expect(h.problems).toEqual([]);
  await h.close();
});


describe("accounts", () => {
  beforeEach(async () => {
    h = await startHarness();
  });

  it("welcomes each connection with a fresh guest account and token", async () => {
    const a = await h.client();
    const b = await h.client();
    expect(a.user.username).toBeNull();
    expect(a.user.id).not.toEqual(b.user.id);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toEqual(b.token);
  });

  it("stores only a hash of the token", async () => {
    const a = await h.client();
    const record = h.server.hub.state.users.get(a.user.id)!;
    expect(record.tokenHash).not.toContain(a.token!);
    expect(JSON.stringify([...h.server.hub.state.users.values()])).not.toContain(a.token!);
  });

  it("signs into an account with its id and token, echoing ref", async () => {
    const a = await h.client();
    await a.request("change_name", { username: "alice" });
    const room = (await a.request("create_room", { room_name: "Tea" })).room;
    const b = await h.client();
    const reply = await b.request("auth", { user_id: a.user.id, token: a.token! });
    expect(reply.user).toEqual({ id: a.user.id, username: "alice" });
    expect(reply.rooms.map((r) => r.id)).toEqual([room.id]);
    expect(b.user.id).toEqual(a.user.id);
  });

  it("answers auth_failed, the same for a wrong token and an unknown id", async () => {
    const a = await h.client();
    const b = await h.client();
    const wrongToken = await rejection(b.request("auth", { user_id: a.user.id, token: "nope" }));
    const unknownId = await rejection(b.request("auth", { user_id: "00000000-0000-4000-8000-000000000000", token: "nope" }));
    expect(wrongToken.code).toBe("auth_failed");
    expect(unknownId.code).toBe("auth_failed");
    expect(wrongToken.message).toBe(unknownId.message);
    const noToken = await rejection(b.request("auth", { user_id: a.user.id }));
    expect(noToken.code).toBe("auth_failed");
    expect(b.user.id).not.toBe(a.user.id);
  });

  it("tells the account's other connections, and only them, that it was signed into", async () => {
    const a1 = await h.client();
    const a2 = await h.client();
    await a2.request("auth", { user_id: a1.user.id, token: a1.token! });
    const bystander = await h.client();
    take(a1);
    take(a2);
    take(bystander);
    const a3 = await h.client();
    await a3.request("auth", { user_id: a1.user.id, token: a1.token! });
    await h.settle(a1, a2, a3, bystander);
    for (const c of [a1, a2]) {
      const [push, ...rest] = take(c);
      expect(push).toMatchObject({ event: "signed_in_elsewhere", data: { user_id: a1.user.id } });
      expect(rest).toEqual([]);
    }
    expect(take(a3)).toEqual([]);
    expect(take(bystander)).toEqual([]);
  });

  it("discards the connection's own pristine guest account on auth, and keeps a used one", async () => {
    const a = await h.client();
    await a.request("change_name", { username: "alice" });
    const b = await h.client();
    const pristine = b.user.id;
    await b.request("auth", { user_id: a.user.id, token: a.token! });
    expect(h.server.hub.state.users.has(pristine)).toBe(false);

    const c = await h.client();
    await c.request("change_name", { username: "carol" });
    const used = c.user.id;
    await c.request("auth", { user_id: a.user.id, token: a.token! });
    expect(h.server.hub.state.users.has(used)).toBe(true);
  });

  it("never deletes an account signed into earlier when signing into another (the seed's bug)", async () => {
    const a = await h.client();
    await a.request("change_name", { username: "a" });
    const b = await h.client();
    await b.request("change_name", { username: "b" });
    const c = await h.client();
    await c.request("auth", { user_id: a.user.id, token: a.token! });
    await c.request("auth", { user_id: b.user.id, token: b.token! });
    a.close();
    await h.settle(c);
    expect(h.server.hub.state.users.has(a.user.id)).toBe(true);
    const again = await h.client();
    expect((await again.request("auth", { user_id: a.user.id, token: a.token! })).user.username).toBe("a");
  });

  it("discards a pristine account once its last connection leaves it, whoever's guest it was", async () => {
    const a = await h.client();
    const guest = { id: a.user.id, token: a.token! };
    const b = await h.client();
    await b.request("auth", { user_id: guest.id, token: guest.token });
    a.close();
    await h.settle(b);
    await expect.poll(() => h.server.hub.state.sessions.get(guest.id)?.size).toBe(1);
    const c = await h.client();
    await c.request("change_name", { username: "carol" });
    await b.request("auth", { user_id: c.user.id, token: c.token! });
    expect(h.server.hub.state.users.has(guest.id)).toBe(false);
  });

  it("discards a pristine account when its last connection closes, and keeps a named one", async () => {
    const a = await h.client();
    const b = await h.client();
    await b.request("change_name", { username: "bob" });
    const [aid, bid] = [a.user.id, b.user.id];
    a.close();
    b.close();
    const c = await h.client();
    await h.settle(c);
    await expect.poll(() => h.server.hub.state.users.has(aid)).toBe(false);
    expect(h.server.hub.state.users.has(bid)).toBe(true);
  });

  it("renames: the reply to the caller, user_renamed to roommates and the account's other connections only", async () => {
    const a = await h.client();
    const a2 = await h.client();
    await a2.request("auth", { user_id: a.user.id, token: a.token! });
    const mate = await h.client();
    const stranger = await h.client();
    const { room } = await a.request("create_room", { room_name: "r" });
    await mate.request("choose_room", { room_id: room.id });
    await h.settle(a, a2, mate, stranger);
    for (const c of [a, a2, mate, stranger]) take(c);

    const reply = await a.request("change_name", { username: "  Alice  " });
    expect(reply.user).toEqual({ id: a.user.id, username: "Alice" });
    await h.settle(a, a2, mate, stranger);
    expect(take(a)).toEqual([]);
    for (const c of [a2, mate]) expect(take(c)).toEqual([{ event: "user_renamed", data: { user: reply.user } }]);
    expect(take(stranger)).toEqual([]);
  });

  it("rejects names that are empty after trimming, too long, or hold control characters", async () => {
    const a = await h.client();
    for (const username of ["   ", "x".repeat(33), "bad\u0007name", "c1\u0085control"]) {
      const err = await rejection(a.request("change_name", { username }));
      expect(err.code).toBe("bad_request");
      expect(err.details?.fields?.[0]?.pointer).toBe("/data/username");
    }
    expect((await a.request("change_name", { username: "ü".repeat(32) })).user.username).toHaveLength(32);
  });

  it("keeps account names unique as names compare: case, width, ß and invisible joiners make no new name; a guest may stay unnamed", async () => {
    const [alice, other, third] = [await h.client(), await h.client(), await h.client()];
    await alice.request("change_name", { username: "Alice Straße" });
    for (const username of ["alice straße", "ＡＬＩＣＥ STRASSE", "Alice\u200d Straße", "Alice   Straße"]) {
      const err = await rejection(other.request("change_name", { username }));
      expect(err.code, username).toBe("name_taken");
    }
    expect(other.user.username).toBeNull();
    // One's own name in another case is still one's own; the old name is free once it changes.
    expect((await alice.request("change_name", { username: "ALICE STRASSE" })).user.username).toBe("ALICE STRASSE");
    await alice.request("change_name", { username: "Al" });
    expect((await other.request("change_name", { username: "alice strasse" })).user.username).toBe("alice strasse");
    // A deleted account's name is free again.
    await other.request("del_user");
    expect((await third.request("change_name", { username: "Alice Strasse" })).user.username).toBe("Alice Strasse");
  });

  it("refuses names with direction-changing or invisible characters, or nothing visible, and keeps emoji joiners", async () => {
    const a = await h.client();
    for (const username of ["evil\u202egnp.exe", "a\u200bb", "\u3164", "\u2800", "x\u2066y", "\u200d\u200d"]) {
      const err = await rejection(a.request("change_name", { username }));
      expect(err.code, JSON.stringify(username)).toBe("bad_request");
      expect(err.details?.fields?.[0]?.pointer).toBe("/data/username");
    }
    for (const room_name of ["\u202eroom", "\ufe0f"]) expect((await rejection(a.request("create_room", { room_name }))).code).toBe("bad_request");
    expect((await a.request("change_name", { username: "👩\u200d💻 dev" })).user.username).toBe("👩\u200d💻 dev");
    expect((await a.request("change_name", { username: "می\u200cخواهم" })).user.username).toBe("می\u200cخواهم");
  });

  it("compares room names the same way: a full-width or ß look-alike is name_taken", async () => {
    const a = await h.client();
    await a.request("create_room", { room_name: "Straße" });
    for (const room_name of ["STRASSE", "ｓｔｒａｓｓｅ", "Stra\u200dße"]) expect((await rejection(a.request("create_room", { room_name }))).code).toBe("name_taken");
  });

  it("deletes an account: its rooms and memberships end, its token stops working, every connection gets a new guest", async () => {
    const a = await h.client();
    const a2 = await h.client();
    await a2.request("auth", { user_id: a.user.id, token: a.token! });
    const other = await h.client();
    const { room: owned } = await a.request("create_room", { room_name: "mine" });
    const { room: theirs } = await other.request("create_room", { room_name: "theirs" });
    await a.request("choose_room", { room_id: theirs.id });
    await h.settle(a, a2, other);
    for (const c of [a, a2, other]) take(c);
    const oldId = a.user.id;
    const oldToken = a.token!;

    const welcomed = a.next("welcome");
    const welcomed2 = a2.next("welcome");
    expect(await a.request("del_user")).toEqual({ deleted_user_id: oldId });
    const [w1, w2] = await Promise.all([welcomed, welcomed2]);
    expect(w1.user.id).not.toBe(oldId);
    expect(w2.user.id).not.toBe(oldId);
    expect(w1.user.id).not.toBe(w2.user.id);
    await h.settle(a, a2, other);

    expect(take(a2).map((f) => f.event)).toEqual(["account_deleted", "welcome", "room_deleted"]);
    expect(take(other)).toEqual([
      { event: "room_deleted", data: { room_id: owned.id, room_name: "mine", by: { id: oldId, username: null } } },
      { event: "member_left", data: { room_id: theirs.id, user: { id: oldId, username: null } } },
    ]);
    const err = await rejection(other.request("auth", { user_id: oldId, token: oldToken }));
    expect(err.code).toBe("auth_failed");
    const rooms = (await other.request("show_rooms")).rooms;
    expect(rooms.map((r) => [r.name, r.member_count])).toEqual([["theirs", 1]]);
  });
});

describe("open auth mode", () => {
  beforeEach(async () => {
    h = await startHarness({ openAuth: true });
  });

  it("signs in without a token, as the seed did, but still checks a token when one is given", async () => {
    const a = await h.client();
    const b = await h.client();
    expect((await b.request("auth", { user_id: a.user.id })).user.id).toBe(a.user.id);
    const c = await h.client();
    expect((await rejection(c.request("auth", { user_id: a.user.id, token: "wrong" }))).code).toBe("auth_failed");
  });
});
