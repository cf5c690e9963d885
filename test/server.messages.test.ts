import { describe, expect, it } from "vitest";
import type { Message } from "../src/protocol/wire.generated.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rawSocket, rejection, startHarness, take, useHarness } from "./helpers/server.js";

const harness = useHarness();

const code = async (p: Promise<unknown>) => (await rejection(p)).code;


const MISSING = "00000000-0000-4000-8000-000000000000";

describe("messages", () => {
  it("sends to a room: every connection of every member gets it, the sender's included, and no one else", async () => {
    const h = harness();
    const [a, a2, b, outsider] = await h.clients(4);
    await a2.request("auth", { user_id: a.user.id, token: a.token! });
    const { room } = await a.request("create_room", { room_name: "r" });
    await b.request("choose_room", { room_id: room.id });
    await h.settle(a, a2, b, outsider);
    for (const c of [a, a2, b, outsider]) take(c);

    const { message } = await a.request("send_message", { room_id: room.id, message: "hello" });
    expect(message).toMatchObject({ from: a.user, text: "hello", room_id: room.id });
    expect(message.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await h.settle(a, a2, b, outsider);
    for (const c of [a, a2, b]) expect(take(c)).toEqual([{ event: "message", data: message }]);
    expect(take(outsider)).toEqual([]);
    expect(await code(outsider.request("send_message", { room_id: room.id, message: "let me in" }))).toBe("not_member");
    expect(await code(a.request("send_message", { room_id: MISSING, message: "x" }))).toBe("not_found");
  });

  it("welcome and auth say where a connection's pushes begin: each message before is older than since, each after newer", async () => {
    const h = harness();
    const [a, b] = await h.clients(2);
    const { message: first } = await a.request("send_message", { room_id: "all", message: "before" });
    const c = await rawSocket(h.url);
    const welcome = await c.next();
    const since = (welcome.data as { since: string }).since;
    expect(welcome.event).toBe("welcome");
    expect(since > first.id).toBe(true);
    const { message: second } = await b.request("send_message", { room_id: "all", message: "after c's welcome" });
    expect(second.id > since).toBe(true);
    expect((await c.next()).data).toEqual(second);
    c.ws.send(JSON.stringify({ event: "auth", data: { user_id: a.user.id, token: a.token }, ref: 1 }));
    const signedIn = (await c.next()).data as { since: string };
    expect(signedIn.since > second.id).toBe(true);
    const { message: third } = await b.request("send_message", { room_id: "all", message: "after c's auth" });
    expect(third.id > signedIn.since).toBe(true);
    // Everything since the welcome is history after it, older and newer than the auth alike.
    c.ws.send(JSON.stringify({ event: "history", data: { room_id: "all", after: since }, ref: 2 }));
    const frames = [await c.next(), await c.next()];
    const history = frames.find((f) => f.event === "history")!.data as { messages: Message[] };
    expect(history.messages.map((m) => m.text)).toEqual(["after c's welcome", "after c's auth"]);
    c.ws.close();
  });

  it("sends to the lobby: every connection gets it", async () => {
    const h = harness();
    const cs = await h.clients(3);
    await h.settle(...cs);
    cs.forEach((c) => take(c));
    const { message } = await cs[1]!.request("send_message", { room_id: "all", message: "hi all" });
    expect(message).toMatchObject({ room_id: "all" });
    await h.settle(...cs);
    for (const c of cs) expect(take(c)).toEqual([{ event: "message", data: message }]);
    const { messages } = await cs[0]!.request("history", { room_id: "all" });
    expect(messages).toEqual([message]);
  });

  it("sends to one user: all the recipient's connections and the sender's other connections, no one else", async () => {
    const h = harness();
    const [a, a2, b, b2, outsider] = await h.clients(5);
    await a2.request("auth", { user_id: a.user.id, token: a.token! });
    await b2.request("auth", { user_id: b.user.id, token: b.token! });
    await h.settle(a, a2, b, b2, outsider);
    for (const c of [a, a2, b, b2, outsider]) take(c);

    const { message } = await a.request("send_message", { user_id: b.user.id, message: "psst" });
    expect(message).toMatchObject({ to_user_id: b.user.id, from: a.user, text: "psst" });
    expect("room_id" in message).toBe(false);
    await h.settle(a, a2, b, b2, outsider);
    expect(take(a)).toEqual([]);
    for (const c of [a2, b, b2]) expect(take(c)).toEqual([{ event: "message", data: message }]);
    expect(take(outsider)).toEqual([]);
    expect(await code(a.request("send_message", { user_id: MISSING, message: "x" }))).toBe("not_found");
  });

  it("keeps direct messages for a recipient who is offline, readable by the two parties only", async () => {
    const h = harness();
    const [a, b, outsider] = await h.clients(3);
    await b.request("change_name", { username: "bob" });
    const bob = { id: b.user.id, token: b.token! };
    b.close();
    await h.settle(a);
    const { message } = await a.request("send_message", { user_id: bob.id, message: "while you were out" });

    const back = await h.client();
    await back.request("auth", { user_id: bob.id, token: bob.token });
    const { messages, has_more } = await back.request("history", { user_id: a.user.id });
    expect(messages).toEqual([message]);
    expect(has_more).toBe(false);
    expect((await outsider.request("history", { user_id: a.user.id })).messages).toEqual([]);
  });

  it("pages through history with before and limit, oldest first, with has_more", async () => {
    const h = harness();
    const [a, b] = await h.clients(2);
    const { room } = await a.request("create_room", { room_name: "r" });
    const sent: Message[] = [];
    for (let i = 0; i < 7; i++) sent.push((await a.request("send_message", { room_id: room.id, message: `m${i}` })).message);

    const newest = await a.request("history", { room_id: room.id, limit: 3 });
    expect(newest.messages.map((m) => m.text)).toEqual(["m4", "m5", "m6"]);
    expect(newest.has_more).toBe(true);
    const older = await a.request("history", { room_id: room.id, limit: 3, before: newest.messages[0]!.id });
    expect(older.messages.map((m) => m.text)).toEqual(["m1", "m2", "m3"]);
    const oldest = await a.request("history", { room_id: room.id, limit: 3, before: older.messages[0]!.id });
    expect(oldest).toEqual({ messages: [sent[0]], has_more: false });
    expect((await a.request("history", { room_id: room.id })).messages).toEqual(sent);

    expect(await code(b.request("history", { room_id: room.id }))).toBe("not_member");
    expect(await code(b.request("history", { user_id: MISSING }))).toBe("not_found");
    const joined = await b.request("choose_room", { room_id: room.id });
    expect(joined.history).toEqual(sent);
  });

  it("reads forward with after: everything newer than the last message seen, with no gap and no duplicate", async () => {
    const h = harness();
    const [a, b] = await h.clients(2);
    const sent: string[] = [];
    for (let i = 0; i < 7; i++) sent.push((await a.request("send_message", { user_id: b.user.id, message: `m${i}` })).message.id);
    // b saw up to m1, then reads on two at a time.
    const read: string[] = [];
    let after = sent[1]!;
    for (;;) {
      const page = await b.request("history", { user_id: a.user.id, after, limit: 2 });
      read.push(...page.messages.map((m) => m.id));
      if (!page.has_more) break;
      after = page.messages[page.messages.length - 1]!.id;
    }
    expect(read).toEqual(sent.slice(2));
    const between = await b.request("history", { user_id: a.user.id, after: sent[1]!, before: sent[4]! });
    expect(between.messages.map((m) => m.text)).toEqual(["m2", "m3"]);
  });

  it("returns the last 50 messages on join, and the rest through history", async () => {
    const h = harness();
    const [a, b] = await h.clients(2);
    const { room } = await a.request("create_room", { room_name: "busy" });
    for (let i = 0; i < 60; i++) await a.request("send_message", { room_id: room.id, message: `m${i}` });
    const { history } = await b.request("choose_room", { room_id: room.id });
    expect(history).toHaveLength(50);
    expect(history[0]!.text).toBe("m10");
    const rest = await b.request("history", { room_id: room.id, before: history[0]!.id, limit: 100 });
    expect(rest.messages.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect(rest.has_more).toBe(false);
  });

  it("answers ping with the server's time", async () => {
    const h = harness();
    const [a] = await h.clients(1);
    const { ts } = await a.request("ping");
    expect(Number.isNaN(Date.parse(ts))).toBe(false);
  });
});

describe("conversations", () => {
  it("lists an account's direct conversations newest first with the last message, on every device of the account", async () => {
    const h = harness();
    const [a, b, c, stranger] = await h.clients(4);
    await a.request("send_message", { user_id: b.user.id, message: "to b" });
    await c.request("send_message", { user_id: a.user.id, message: "from c" });
    const last = (await b.request("send_message", { user_id: a.user.id, message: "b again" })).message;
    const { conversations, has_more } = await a.request("conversations");
    expect(has_more).toBe(false);
    expect(conversations.map((x) => [x.user.id, x.last_message?.text])).toEqual([
      [b.user.id, "b again"],
      [c.user.id, "from c"],
    ]);
    expect(conversations[0]!.last_message).toEqual(last);
    // Another device of a sees the same list.
    const a2 = await h.client();
    await a2.request("auth", { user_id: a.user.id, token: a.token! });
    expect((await a2.request("conversations")).conversations).toEqual(conversations);
    expect((await stranger.request("conversations")).conversations).toEqual([]);
  });
});

describe("client_msg_id", () => {
  it("stores and pushes a send once however often it is repeated, even in one TCP write, and gives every repeat the original", async () => {
    const h = harness();
    const [a, b] = await h.clients(2);
    await h.settle(a, b);
    take(b);
    const send = (text: string) => a.request("send_message", { room_id: "all", message: text, client_msg_id: "c-1" });
    // Back to back (one turn, one batch), then again later.
    const [first, second] = await Promise.all([send("hello"), send("hello")]);
    const third = await send("hello, edited on the way");
    expect(first.message.client_msg_id).toBe("c-1");
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    await h.settle(a, b);
    expect(take(b, "message").map((f) => (f.data as { id: string }).id)).toEqual([first.message.id]);
    expect((await b.request("history", { room_id: "all" })).messages).toEqual([first.message]);
    // Another account's same client id is its own message.
    const other = await b.request("send_message", { room_id: "all", message: "mine", client_msg_id: "c-1" });
    expect(other.message.id).not.toBe(first.message.id);
  });
});

describe("client_msg_id across a restart", () => {
  it("gives a repeat sent after the server restarted on its database the original message", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chat-cid-"));
    try {
      const db = join(dir, "chat.db");
      const first = await startHarness({ db });
      const [a] = await first.clients(1);
      const token = a.token!;
      await a.request("change_name", { username: "a" });
      const sent = await a.request("send_message", { room_id: "all", message: "before", client_msg_id: "restart-1" });
      await first.close();
      const second = await startHarness({ db });
      try {
        const [again] = await second.clients(1);
        await again.request("auth", { user_id: a.user.id, token });
        expect(await again.request("send_message", { room_id: "all", message: "before", client_msg_id: "restart-1" })).toEqual(sent);
        expect((await again.request("history", { room_id: "all" })).messages.map((m) => m.id)).toEqual([sent.message.id]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("edit_message and delete_message", () => {
  it("edits by the author only, tells every reader, and history shows the edit", async () => {
    const h = harness();
    const [a, a2, b, outsider] = await h.clients(4);
    await a2.request("auth", { user_id: a.user.id, token: a.token! });
    const { room } = await a.request("create_room", { room_name: "e" });
    await b.request("choose_room", { room_id: room.id });
    const { message } = await a.request("send_message", { room_id: room.id, message: "frist" });
    await h.settle(a, a2, b, outsider);
    for (const c of [a, a2, b, outsider]) take(c);

    expect((await rejection(b.request("edit_message", { message_id: message.id, message: "mine now" }))).code).toBe("forbidden");
    const edited = (await a.request("edit_message", { message_id: message.id, message: "first" })).message;
    expect(edited).toMatchObject({ id: message.id, ts: message.ts, text: "first", from: message.from, room_id: room.id });
    expect(edited.edited_ts! >= message.ts).toBe(true);
    await h.settle(a, a2, b, outsider);
    for (const c of [a2, b]) expect(take(c, "message_edited")).toEqual([{ event: "message_edited", data: { message: edited } }]);
    expect(take(outsider, "message_edited")).toEqual([]);
    expect((await b.request("history", { room_id: room.id })).messages).toEqual([edited]);
    expect((await b.request("choose_room", { room_id: room.id })).history).toEqual([edited]);
    expect((await rejection(a.request("edit_message", { message_id: "00000000-0000-7000-8000-000000000000", message: "x" }))).code).toBe("not_found");
  });

  it("deletes by the author, or the owner in their room; history leaves it out and its client id is free again", async () => {
    const h = harness();
    const [owner, b, c] = await h.clients(3);
    const { room } = await owner.request("create_room", { room_name: "d" });
    await b.request("choose_room", { room_id: room.id });
    await c.request("choose_room", { room_id: room.id });
    const byB = (await b.request("send_message", { room_id: room.id, message: "b's", client_msg_id: "x" })).message;
    const byC = (await c.request("send_message", { room_id: room.id, message: "c's" })).message;
    expect((await rejection(c.request("delete_message", { message_id: byB.id }))).code).toBe("forbidden");
    await h.settle(owner, b, c);
    for (const x of [owner, b, c]) take(x);
    expect(await owner.request("delete_message", { message_id: byB.id })).toEqual({ message_id: byB.id });
    expect(await c.request("delete_message", { message_id: byC.id })).toEqual({ message_id: byC.id });
    await h.settle(owner, b, c);
    expect(take(b, "message_deleted").map((f) => f.data)).toEqual([
      { message_id: byB.id, room_id: room.id },
      { message_id: byC.id, room_id: room.id },
    ]);
    expect((await b.request("history", { room_id: room.id })).messages).toEqual([]);
    expect((await rejection(owner.request("delete_message", { message_id: byB.id }))).code).toBe("not_found");
    const again = (await b.request("send_message", { room_id: room.id, message: "b's again", client_msg_id: "x" })).message;
    expect(again.id).not.toBe(byB.id);
    // In a direct conversation only the author may delete; the other side is told where it was.
    take(c);
    const dm = (await b.request("send_message", { user_id: c.user.id, message: "psst" })).message;
    expect((await rejection(c.request("delete_message", { message_id: dm.id }))).code).toBe("forbidden");
    await b.request("delete_message", { message_id: dm.id });
    await h.settle(c);
    expect(take(c, "message_deleted").map((f) => f.data)).toEqual([{ message_id: dm.id, from_user_id: b.user.id, to_user_id: c.user.id }]);
  });
});

describe("current names", () => {
  it("shows a sender's current name in history and choose_room, marks a deleted sender, and tells direct peers of a rename", async () => {
    const h = harness();
    const [a, b] = await h.clients(2);
    await a.request("change_name", { username: "al" });
    const { room } = await b.request("create_room", { room_name: "names" });
    await a.request("choose_room", { room_id: room.id });
    await a.request("send_message", { room_id: room.id, message: "hi" });
    await a.request("send_message", { user_id: b.user.id, message: "psst" });
    await h.settle(a, b);
    await b.request("exit_room", { room_id: room.id });
    take(b);
    // b shares only a direct conversation with a now, and still hears the rename.
    await a.request("change_name", { username: "alice" });
    await h.settle(b);
    expect(take(b, "user_renamed")).toEqual([{ event: "user_renamed", data: { user: { id: a.user.id, username: "alice" } } }]);
    expect((await b.request("history", { user_id: a.user.id })).messages[0]!.from).toEqual({ id: a.user.id, username: "alice" });
    expect((await b.request("choose_room", { room_id: room.id })).history[0]!.from).toEqual({ id: a.user.id, username: "alice" });
    const gone = a.user.id;
    await a.request("del_user");
    expect((await b.request("history", { room_id: room.id })).messages[0]!.from).toEqual({ id: gone, username: null, deleted: true });
  });
});
