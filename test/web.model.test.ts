/**
 * The page's state rules without a browser: `apply(state, event)` from web/model, and
 * the pure helpers the view draws with (timeline, links, mentions, names). Every test
 * starts from a state built by events, as the page builds it.
 */
import { describe, expect, it } from "vitest";
import type { Message, Room, RoomListing, User } from "../src/client/index.js";
import { apply } from "../web/model/apply.js";
import type { Event } from "../web/model/events.js";
import { dmKey, LOBBY, roomKey } from "../web/model/keys.js";
import { canDelete, isOwner, nameOf, secondsToRetry, totalUnread, typingLine } from "../web/model/select.js";
import { initialState, type State } from "../web/model/state.js";
import { timeline } from "../web/model/timeline.js";
import { linkify } from "../web/text/links.js";
import { mentions } from "../web/text/mentions.js";
import { displayName, hueOf } from "../web/text/names.js";

const ME: User = { id: "00000000-0000-4000-8000-00000000000a", username: "alice" };
const BOB: User = { id: "00000000-0000-4000-8000-00000000000b", username: "bob" };
const CAROL: User = { id: "00000000-0000-4000-8000-00000000000c", username: "carol" };
const ROOM: Room = { id: "10000000-0000-4000-8000-000000000001", name: "Tea", owner_id: ME.id, member_count: 2 };
const T0 = Date.parse("2026-11-25T12:00:00.000Z");

/** Message ids sort like the server's UUIDv7: a counter in the right place is enough here. */
let seq = 0;
function msg(from: User, text: string, where: { room?: string; to?: string } = {}, extra: Partial<Message> = {}): Message {
  seq += 1;
  const id = `019abc12-${String(seq).padStart(4, "0")}-7000-8000-000000000000`;
  const ts = new Date(T0 + seq * 1000).toISOString();
  const base = { id, from, text, ts, ...extra };
  return (where.to !== undefined ? { ...base, to_user_id: where.to } : { ...base, room_id: where.room ?? "all" }) as Message;
}

/** Applies events in turn, checking on the way that `apply` never changes the state it is given. */
function run(state: State, ...events: Event[]): State {
  let s = state;
  for (const e of events) {
    const before = JSON.stringify(s);
    const next = apply(s, e);
    expect(JSON.stringify(s)).toBe(before);
    s = next;
  }
  return s;
}

function signedIn(): State {
  const listing: RoomListing = { ...ROOM, joined: true };
  return run(initialState(T0), { type: "signedIn", user: ME }, { type: "rooms", rooms: [listing], now: T0 });
}

const texts = (s: State, key: string): string[] => (s.convs[key]?.entries ?? []).flatMap((e) => (e.kind === "message" ? [e.message.text] : []));

describe("sending: shown at once, then sent or failed, never doubled", () => {
  it("a message is queued, sending, then sent: it leaves the outbox and joins the conversation once", () => {
    let s = run(signedIn(), { type: "open", key: LOBBY }, { type: "history", key: LOBBY, messages: [], hasMore: false, mode: "latest" });
    s = run(s, { type: "queue", id: "c-1", key: LOBBY, text: "hello", ts: new Date(T0).toISOString() });
    expect(s.outbox).toEqual([{ id: "c-1", key: LOBBY, text: "hello", ts: new Date(T0).toISOString(), status: "queued" }]);
    expect(timeline(s, LOBBY).map((r) => r.kind)).toEqual(["day", "pending"]);
    s = run(s, { type: "sending", id: "c-1" });
    expect(s.outbox[0]!.status).toBe("sending");
    const stored = msg(ME, "hello", {}, { client_msg_id: "c-1" });
    s = run(s, { type: "sent", id: "c-1", message: stored });
    expect(s.outbox).toEqual([]);
    // The room's push of the same message (it reaches the sender too) does not add it again.
    s = run(s, { type: "message", message: stored, now: T0 });
    expect(texts(s, LOBBY)).toEqual(["hello"]);
    expect(timeline(s, LOBBY).map((r) => r.kind)).toEqual(["day", "message"]);
  });

  it("a failed message keeps its client id through Retry, and is settled by the push or history that shows it stored", () => {
    let s = run(signedIn(), { type: "queue", id: "c-2", key: dmKey(BOB.id), text: "once", ts: new Date(T0).toISOString() }, { type: "sending", id: "c-2" });
    s = run(s, { type: "sendFailed", id: "c-2", error: "the server did not answer in time." });
    expect(s.outbox[0]).toMatchObject({ id: "c-2", status: "failed", error: "the server did not answer in time." });
    s = run(s, { type: "retry", id: "c-2" });
    expect(s.outbox[0]).toEqual({ id: "c-2", key: dmKey(BOB.id), text: "once", ts: new Date(T0).toISOString(), status: "queued" });

    // The reply was lost but the message was stored: a history page shows it, and the pending one goes.
    const stored = msg(ME, "once", { to: BOB.id }, { client_msg_id: "c-2" });
    s = run(s, { type: "sendFailed", id: "c-2", error: "x" }, { type: "history", key: dmKey(BOB.id), messages: [stored], hasMore: false, mode: "latest" });
    expect(s.outbox).toEqual([]);
    expect(texts(s, dmKey(BOB.id))).toEqual(["once"]);

    // Likewise a push carrying the client id (another device's, or a room's echo).
    let t = run(signedIn(), { type: "queue", id: "c-3", key: roomKey(ROOM.id), text: "hi", ts: new Date(T0).toISOString() }, { type: "sendFailed", id: "c-3", error: "x" });
    t = run(t, { type: "message", message: msg(ME, "hi", { room: ROOM.id }, { client_msg_id: "c-3" }), now: T0 });
    expect(t.outbox).toEqual([]);
    // Someone else's message with the same client id settles nothing: client ids are per account.
    let u = run(signedIn(), { type: "queue", id: "c-4", key: LOBBY, text: "x", ts: new Date(T0).toISOString() });
    u = run(u, { type: "message", message: msg(BOB, "x", {}, { client_msg_id: "c-4" }), now: T0 });
    expect(u.outbox).toHaveLength(1);
  });

  it("requeue puts a message back in line without marking it failed; discard drops it", () => {
    let s = run(signedIn(), { type: "queue", id: "a", key: LOBBY, text: "1", ts: "2026-11-25T12:00:00.000Z" }, { type: "sending", id: "a" }, { type: "requeue", id: "a" });
    expect(s.outbox[0]!.status).toBe("queued");
    s = run(s, { type: "discard", id: "a" });
    expect(s.outbox).toEqual([]);
  });

  it("messages that come before the conversation is read are kept, and the history joins them without doubles", () => {
    const a = msg(BOB, "a");
    const b = msg(BOB, "b");
    let s = run(signedIn(), { type: "message", message: b, now: T0 });
    s = run(s, { type: "history", key: LOBBY, messages: [a, b], hasMore: true, mode: "latest" });
    expect(texts(s, LOBBY)).toEqual(["a", "b"]);
    expect(s.convs[LOBBY]!.hasMore).toBe(true);
  });
});

describe("unread counts, the New messages line and the title", () => {
  it("counts messages from others outside the open conversation once each, never one's own", () => {
    const m1 = msg(BOB, "one", { to: ME.id });
    let s = run(signedIn(), { type: "open", key: LOBBY }, { type: "message", message: m1, now: T0 }, { type: "message", message: m1, now: T0 });
    s = run(s, { type: "message", message: msg(ME, "mine", { to: BOB.id }), now: T0 });
    expect(s.convs[dmKey(BOB.id)]!.unread).toBe(1);
    s = run(s, { type: "message", message: msg(BOB, "in view"), now: T0 });
    expect(s.convs[LOBBY]!.unread).toBe(0);
    expect(totalUnread(s)).toBe(1);
    expect(s.dms).toEqual([BOB.id]);
  });

  it("while the tab is hidden the open conversation counts too; coming back marks it read with a line where reading starts", () => {
    const first = msg(BOB, "seen");
    let s = run(signedIn(), { type: "open", key: LOBBY }, { type: "message", message: first, now: T0 }, { type: "visibility", visible: false });
    const later = msg(BOB, "while away");
    s = run(s, { type: "message", message: later, now: T0 });
    expect(s.convs[LOBBY]!.unread).toBe(1);
    s = run(s, { type: "visibility", visible: true });
    expect(s.convs[LOBBY]!.unread).toBe(0);
    expect(s.convs[LOBBY]!.dividerAfter).toBe(first.id);
    expect(timeline(s, LOBBY).map((r) => (r.kind === "message" ? r.message.text : r.kind))).toEqual(["day", "seen", "divider", "while away"]);
    // Writing there oneself ends the line.
    s = run(s, { type: "queue", id: "q", key: LOBBY, text: "back", ts: new Date(T0).toISOString() });
    expect(s.convs[LOBBY]!.dividerAfter).toBeNull();
  });

  it("opening a conversation with unread messages puts the line before the first of them; leaving it removes the line", () => {
    const key = dmKey(BOB.id);
    const m = [msg(BOB, "1", { to: ME.id }), msg(BOB, "2", { to: ME.id })];
    let s = run(signedIn(), { type: "open", key: LOBBY }, ...m.map((message): Event => ({ type: "message", message, now: T0 })));
    s = run(s, { type: "open", key }, { type: "history", key, messages: m, hasMore: false, mode: "latest" });
    expect(timeline(s, key).map((r) => r.kind)).toEqual(["day", "divider", "message", "message"]);
    expect(s.convs[key]!.unread).toBe(0);
    s = run(s, { type: "open", key: LOBBY });
    expect(s.convs[key]!.dividerAfter).toBeNull();
  });

  it("after a reload: the saved counts come back, and what was missed is counted once, capped when there is more", () => {
    const key = dmKey(BOB.id);
    const seen = msg(BOB, "seen before", { to: ME.id });
    let s = run(initialState(T0), { type: "signedIn", user: ME, read: { convs: { [key]: { unread: 2, readUpTo: null, seenUpTo: seen.id } } } });
    expect(s.convs[key]!.unread).toBe(2);
    // The page reads "after the cursor", which may repeat what it had seen: only newer ones count.
    s = run(s, { type: "missed", key, messages: [seen, msg(BOB, "new", { to: ME.id }), msg(ME, "mine", { to: BOB.id })], hasMore: false });
    expect(s.convs[key]!.unread).toBe(3);
    s = run(s, { type: "missed", key: LOBBY, messages: [msg(BOB, "x")], hasMore: true });
    expect(s.convs[LOBBY]!.unread).toBe(100);
  });
});

describe("rooms, members and who is online", () => {
  it("member counts follow joins and leaves once each; one's own join is not counted twice", () => {
    let s = signedIn();
    s = run(s, { type: "memberJoined", roomId: ROOM.id, user: CAROL, now: T0 });
    expect(s.rooms[ROOM.id]!.member_count).toBe(3);
    s = run(s, { type: "memberLeft", roomId: ROOM.id, user: CAROL, now: T0 });
    expect(s.rooms[ROOM.id]!.member_count).toBe(2);
    // Joining here: the reply has the count, the push that follows for oneself changes nothing.
    const other: Room = { id: "10000000-0000-4000-8000-000000000002", name: "Other", owner_id: BOB.id, member_count: 4 };
    s = run(s, { type: "joined", room: other, history: [], hasMore: false }, { type: "memberJoined", roomId: other.id, user: ME, now: T0 });
    expect(s.rooms[other.id]).toMatchObject({ member_count: 4, joined: true });
    // A room's list, once read, is what counts; pushes keep it and the dots current.
    s = run(s, { type: "members", roomId: ROOM.id, members: [{ ...ME, online: true }, { ...BOB, online: false }] });
    expect(s.members[ROOM.id]).toEqual([ME.id, BOB.id]);
    s = run(s, { type: "presence", user: BOB, online: true }, { type: "memberJoined", roomId: ROOM.id, user: BOB, now: T0 });
    expect(s.people[BOB.id]!.online).toBe(true);
    expect(s.rooms[ROOM.id]!.member_count).toBe(2);
  });

  it("a fresh room list replaces stale counts; the owner stays owner after leaving", () => {
    let s = run(signedIn(), { type: "left", roomId: ROOM.id });
    expect(s.rooms[ROOM.id]).toMatchObject({ joined: false, member_count: 1 });
    expect(isOwner(s, s.rooms[ROOM.id])).toBe(true);
    s = run(s, { type: "rooms", rooms: [{ ...ROOM, member_count: 7, joined: false }], now: T0 + 1 });
    expect(s.rooms[ROOM.id]!.member_count).toBe(7);
    expect(s.roomsAt).toBe(T0 + 1);
  });

  it("the owner may delete anyone's message in the room; others only their own", () => {
    const s = signedIn();
    expect(canDelete(s, roomKey(ROOM.id), BOB.id)).toBe(true);
    expect(canDelete(s, LOBBY, BOB.id)).toBe(false);
    expect(canDelete(s, LOBBY, ME.id)).toBe(true);
  });

  it("typing shows for a while, ends with the typist's message, and never shows oneself", () => {
    let s = run(signedIn(), { type: "typing", key: roomKey(ROOM.id), user: BOB, now: T0 }, { type: "typing", key: roomKey(ROOM.id), user: ME, now: T0 });
    s = { ...s, current: roomKey(ROOM.id) };
    expect(typingLine(s, roomKey(ROOM.id))).toBe("bob is typing…");
    s = run(s, { type: "typing", key: roomKey(ROOM.id), user: CAROL, now: T0 });
    expect(typingLine(s, roomKey(ROOM.id))).toBe("bob and carol are typing…");
    s = run(s, { type: "message", message: msg(CAROL, "done", { room: ROOM.id }), now: T0 + 100 });
    expect(typingLine(s, roomKey(ROOM.id))).toBe("bob is typing…");
    s = run(s, { type: "tick", now: T0 + 7000 });
    expect(typingLine(s, roomKey(ROOM.id))).toBe("");
    expect(s.typing[roomKey(ROOM.id)]).toBeUndefined();
  });
});

describe("people: current names, deleted accounts, who is who", () => {
  it("a rename reaches old messages; a deleted sender is never shown with a live name", () => {
    const old = msg(BOB, "hi");
    let s = run(signedIn(), { type: "message", message: old, now: T0 }, { type: "userRenamed", user: { ...BOB, username: "robert" } });
    expect(nameOf(s, BOB.id)).toBe("robert");
    s = run(s, { type: "history", key: LOBBY, messages: [{ ...old, from: { id: BOB.id, username: null, deleted: true } }], hasMore: false, mode: "latest" });
    expect(nameOf(s, BOB.id)).toBe("Deleted account");
    expect(displayName({ id: BOB.id, username: "bob", deleted: true })).toBe("Deleted account");
  });

  it("a direct conversation whose account is gone is marked so, and leaves the list once it is not open", () => {
    let s = run(signedIn(), { type: "conversations", list: [{ user: BOB, last_message: null }, { user: CAROL, last_message: null }] });
    expect(s.dms).toEqual([BOB.id, CAROL.id]);
    s = run(s, { type: "open", key: dmKey(BOB.id) }, { type: "accountGone", userId: BOB.id }, { type: "accountGone", userId: CAROL.id });
    expect(s.convs[dmKey(BOB.id)]!.gone).toBe(true);
    expect(s.dms).toEqual([BOB.id]);
    expect(nameOf(s, CAROL.id)).toBe("Deleted account");
  });

  it("the server's list of direct conversations keeps one just opened by a name that has no message yet", () => {
    const s = run(signedIn(), { type: "writeTo", user: CAROL }, { type: "open", key: dmKey(CAROL.id) }, { type: "conversations", list: [{ user: BOB, last_message: null }] });
    expect(s.dms).toEqual([CAROL.id, BOB.id]);
  });

  it("names that look alike still differ in colour, which comes from the id", () => {
    expect(hueOf(ME.id)).not.toBe(hueOf(BOB.id));
    expect(hueOf(ME.id)).toBe(hueOf(ME.id));
  });
});

describe("edits and deletions", () => {
  it("an edit replaces the text where the message is shown; a deletion removes it and ends editing it", () => {
    const m = msg(ME, "at 3");
    let s = run(signedIn(), { type: "open", key: LOBBY }, { type: "history", key: LOBBY, messages: [m], hasMore: false, mode: "latest" }, { type: "startEdit", messageId: m.id });
    expect(s.editing).toEqual({ key: LOBBY, messageId: m.id });
    s = run(s, { type: "edited", message: { ...m, text: "at 4", edited_ts: "2026-11-25T12:05:00.000Z" } });
    expect(texts(s, LOBBY)).toEqual(["at 4"]);
    s = run(s, { type: "deleted", messageId: m.id });
    expect(texts(s, LOBBY)).toEqual([]);
    expect(s.editing).toBeNull();
  });

  it("reading the newest page again drops messages deleted meanwhile, within that page", () => {
    const [a, b, c] = [msg(BOB, "a"), msg(BOB, "b"), msg(BOB, "c")];
    let s = run(signedIn(), { type: "history", key: LOBBY, messages: [a, b, c], hasMore: false, mode: "latest" });
    s = run(s, { type: "history", key: LOBBY, messages: [a, c], hasMore: false, mode: "latest" });
    expect(texts(s, LOBBY)).toEqual(["a", "c"]);
  });
});

describe("notices and the connection", () => {
  it("one notice per place: a new one replaces the old, success clears it, news expires, offline errors clear when back", () => {
    let s = run(signedIn(), { type: "notice", area: "room", notice: { kind: "error", text: "taken" } }, { type: "notice", area: "room", notice: { kind: "error", text: "taken again" } });
    expect(s.notices.room).toEqual({ kind: "error", text: "taken again" });
    s = run(s, { type: "notice", area: "room", notice: null });
    expect(s.notices.room).toBeUndefined();
    s = run(s, { type: "notice", area: "global", notice: { kind: "info", text: "hello", until: T0 + 8000 } }, { type: "tick", now: T0 + 8000 });
    expect(s.notices.global).toBeUndefined();
    s = run(s, { type: "notice", area: "sidebar", notice: { kind: "error", text: "offline", offline: true } }, { type: "notice", area: "composer", notice: { kind: "error", text: "too long" } });
    s = run(s, { type: "connection", state: "open", now: T0 });
    expect(s.notices.sidebar).toBeUndefined();
    expect(s.notices.composer).toEqual({ kind: "error", text: "too long" });
  });

  it("the reconnect countdown counts from the wait the SDK announced; a manual try that fails says so until connected", () => {
    let s = run(signedIn(), { type: "connection", state: "reconnecting", attempt: 3, delayMs: 4000, now: T0 });
    expect(secondsToRetry(s)).toBe(4);
    s = run(s, { type: "tick", now: T0 + 1500 });
    expect(secondsToRetry(s)).toBe(3);
    s = run(s, { type: "manualRetry", phase: "failed" }, { type: "connection", state: "reconnecting", attempt: 4, delayMs: 2000, now: T0 + 2000 });
    expect(s.connection.manual).toBe("failed");
    s = run(s, { type: "connection", state: "open", now: T0 + 3000 });
    expect(s.connection).toEqual({ state: "open" });
  });

  it("signing into another account forgets the last one's rooms, messages and pending sends", () => {
    let s = run(signedIn(), { type: "queue", id: "p", key: LOBBY, text: "x", ts: "2026-11-25T12:00:00.000Z" }, { type: "notice", area: "room", notice: { kind: "error", text: "e" } });
    s = run(s, { type: "signedIn", user: BOB, outbox: [{ id: "b", key: LOBBY, text: "saved", ts: "2026-11-25T12:00:00.000Z" }] });
    expect(s.rooms).toEqual({});
    expect(s.outbox.map((o) => [o.id, o.status])).toEqual([["b", "queued"]]);
    expect(s.notices.room).toBeUndefined();
    // The same account again (a new connection): everything stays.
    const again = run(s, { type: "signedIn", user: BOB });
    expect(again.outbox).toBe(s.outbox);
  });
});

describe("the timeline", () => {
  it("puts a heading before each day and groups a sender's messages within five minutes", () => {
    const day1a = { ...msg(BOB, "a"), ts: "2026-11-24T10:00:00.000Z" };
    const day1b = { ...msg(BOB, "b"), ts: "2026-11-24T10:02:00.000Z" };
    const day1c = { ...msg(BOB, "c"), ts: "2026-11-24T10:20:00.000Z" };
    const day2 = { ...msg(BOB, "d"), ts: "2026-11-25T10:00:00.000Z" };
    const s = run(signedIn(), { type: "history", key: LOBBY, messages: [day1a, day1b, day1c, day2], hasMore: false, mode: "latest" });
    const rows = timeline(s, LOBBY).map((r) => (r.kind === "day" ? `day ${r.day}` : r.kind === "message" ? `${r.message.text}${r.continued ? "+" : ""}` : r.kind));
    expect(rows).toEqual(["day 2026-11-24", "a", "b+", "c", "day 2026-11-25", "d"]);
  });
});

describe("text", () => {
  it("only http and https addresses become links; trailing punctuation and unopened brackets stay text", () => {
    expect(linkify("see https://example.com/a?b=1. ok")).toEqual([{ text: "see " }, { text: "https://example.com/a?b=1", href: "https://example.com/a?b=1" }, { text: ". ok" }]);
    expect(linkify("(at http://x.org/p)")).toEqual([{ text: "(at " }, { text: "http://x.org/p", href: "http://x.org/p" }, { text: ")" }]);
    expect(linkify("https://en.wikipedia.org/wiki/Tea_(meal)")).toEqual([{ text: "https://en.wikipedia.org/wiki/Tea_(meal)", href: "https://en.wikipedia.org/wiki/Tea_(meal)" }]);
    for (const bad of ["javascript:alert(1)", "data:text/html,<b>x</b>", "JaVaScRiPt:alert(1)", "www.example.com", "<a href=x>y</a>"]) {
      expect(linkify(bad)).toEqual([{ text: bad }]);
    }
    expect(linkify("x javascript:https://evil.example")).toEqual([{ text: "x javascript:" }, { text: "https://evil.example", href: "https://evil.example/" }]);
  });

  it("a mention is the name as a whole word, any case", () => {
    expect(mentions("hey Alice, tea?", "alice")).toBe(true);
    expect(mentions("@alice!", "Alice")).toBe(true);
    expect(mentions("malice", "alice")).toBe(false);
    expect(mentions("alice2 is not me", "alice")).toBe(false);
    expect(mentions("anything", null)).toBe(false);
  });
});
