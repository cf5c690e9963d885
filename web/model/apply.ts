/**
 * `apply(state, event)`: the one place the page's state changes. Pure: it returns a
 * new state (sharing what did not change) and touches neither the DOM nor the
 * socket, so every rule below is tested in test/web.model.test.ts without a browser.
 * Push and reply handlers translate what they get into an event, call `apply`, and
 * the page is drawn once from the result.
 */
import type { Message, RoomListing, User } from "../../src/client/index.js";
import { withEdit, withLatestPage, withMessage, withMessages, withNote, without, withOlderPage, newestId } from "./conversation.js";
import type { Event } from "./events.js";
import { dmKey, keyOf, LOBBY, newerId, parseKey, roomKey, type ConvKey } from "./keys.js";
import { emptyConv, type Conv, type Entry, type Notice, type NoticeArea, type Outgoing, type Person, type State } from "./state.js";

/** "Typing" shows this long after the last notice (protocol.md asks clients for about 6 s). */
export const TYPING_MS = 6000;
/** Information notices go by themselves after this long; errors stay. */
export const INFO_MS = 8000;
/** An unread count read after a reload stops here when the server has more ("99+"). */
export const UNREAD_CAP = 100;

let noteSeq = 0;

function conv(state: State, key: ConvKey): Conv {
  return state.convs[key] ?? emptyConv();
}

function setConv(state: State, key: ConvKey, next: Conv): State {
  return { ...state, convs: { ...state.convs, [key]: next } };
}

function dropConv(state: State, key: ConvKey): State {
  if (!(key in state.convs)) return state;
  const { [key]: _gone, ...rest } = state.convs;
  return { ...state, convs: rest };
}

/** Takes in what a user record says, keeping what it does not (whether they are online). */
function learn(state: State, user: User): State {
  const before = state.people[user.id];
  const person: Person = { ...before, id: user.id, username: user.username };
  if (user.deleted) {
    person.deleted = true;
    person.username = null;
  }
  if (before && before.username === person.username && before.deleted === person.deleted) return state;
  const me = state.me?.id === user.id ? { ...state.me, ...person } : state.me;
  return { ...state, me, people: { ...state.people, [user.id]: person } };
}

function learnAll(state: State, messages: readonly Message[]): State {
  let s = state;
  for (const m of messages) s = learn(s, m.from);
  return s;
}

function setNotice(state: State, area: NoticeArea, notice: Notice | null): State {
  const { [area]: _old, ...rest } = state.notices;
  return { ...state, notices: notice ? { ...rest, [area]: notice } : rest };
}

const info = (state: State, text: string): Notice => ({ kind: "info", text, until: state.now + INFO_MS });

/** The open conversation is in view: what it holds counts as read. */
const inView = (state: State, key: ConvKey): boolean => state.visible && state.current === key;

/** Lists a direct conversation first. */
function toFront(state: State, peer: string): State {
  if (state.dms[0] === peer) return state;
  return { ...state, dms: [peer, ...state.dms.filter((id) => id !== peer)] };
}

function setRoom(state: State, room: RoomListing): State {
  return { ...state, rooms: { ...state.rooms, [room.id]: room } };
}

/** Marks what the open conversation holds as read; the "New messages" line goes where reading starts. */
function readCurrent(state: State): State {
  const c = state.convs[state.current];
  if (!c || (c.unread === 0 && c.readUpTo === c.seenUpTo)) return state;
  return setConv(state, state.current, {
    ...c,
    dividerAfter: c.unread > 0 ? c.readUpTo ?? "" : c.dividerAfter,
    unread: 0,
    readUpTo: newerId(c.readUpTo, c.seenUpTo),
  });
}

/** A message has arrived (push, catch-up, or a send confirmed): placed, counted, matched to a pending send. */
function receive(state: State, m: Message): State {
  const me = state.me?.id ?? "";
  const key = keyOf(m, me);
  let s = learn(state, m.from);
  if ("to_user_id" in m) s = toFront(s, m.from.id === me ? m.to_user_id : m.from.id);
  const c = conv(s, key);
  const mine = m.from.id === me;
  const fresh = c.seenUpTo === null || m.id > c.seenUpTo;
  let { unread, readUpTo } = c;
  if (mine || inView(s, key)) readUpTo = newerId(readUpTo, m.id);
  else if (fresh && (readUpTo === null || m.id > readUpTo)) unread += 1;
  s = setConv(s, key, {
    ...c,
    // Kept even before the conversation's history is read: messages arrive in order, so
    // what comes live is the newest, and the history read later joins on in front of it.
    entries: withMessage(c.entries, m),
    unread,
    readUpTo,
    seenUpTo: newerId(c.seenUpTo, m.id),
    // Writing here yourself (from any device) means you are reading it.
    dividerAfter: mine ? null : c.dividerAfter,
  });
  // Whoever wrote is no longer typing.
  const typing = s.typing[key];
  if (typing && m.from.id in typing) {
    const { [m.from.id]: _done, ...rest } = typing;
    s = { ...s, typing: { ...s.typing, [key]: rest } };
  }
  // One of our pending sends, confirmed by its push (another device's, or after a lost reply).
  if (mine && m.client_msg_id !== undefined && s.outbox.some((o) => o.id === m.client_msg_id)) {
    s = { ...s, outbox: s.outbox.filter((o) => o.id !== m.client_msg_id) };
  }
  return s;
}

/** Pending sends that a page of history shows stored are done (their reply was lost, or came to another device). */
function settle(state: State, messages: readonly Message[]): State {
  const me = state.me?.id;
  const stored = new Set(messages.filter((m) => m.from.id === me && m.client_msg_id !== undefined).map((m) => m.client_msg_id));
  if (stored.size === 0 || !state.outbox.some((o) => stored.has(o.id))) return state;
  return { ...state, outbox: state.outbox.filter((o) => !stored.has(o.id)) };
}

function note(state: State, roomId: string, text: string, userId?: string): State {
  const key = roomKey(roomId);
  const c = state.convs[key];
  if (!c?.loaded) return state;
  const entry: Extract<Entry, { kind: "note" }> = { kind: "note", id: `note-${++noteSeq}`, ts: new Date(state.now).toISOString(), text };
  if (userId !== undefined) entry.userId = userId;
  return setConv(state, key, { ...c, entries: withNote(c.entries, entry) });
}

function setMembers(state: State, roomId: string, ids: readonly string[] | undefined): State {
  if (ids === undefined) {
    if (!(roomId in state.members)) return state;
    const { [roomId]: _gone, ...rest } = state.members;
    return { ...state, members: rest };
  }
  return { ...state, members: { ...state.members, [roomId]: ids } };
}

function setOnline(state: State, id: string, online: boolean): State {
  const before = state.people[id] ?? { id, username: null };
  if (before.online === online) return state;
  return { ...state, people: { ...state.people, [id]: { ...before, online } } };
}

function patchOutgoing(state: State, id: string, patch: (o: Outgoing) => Outgoing | null): State {
  const at = state.outbox.findIndex((o) => o.id === id);
  if (at < 0) return state;
  const next = patch(state.outbox[at]!);
  const outbox = [...state.outbox];
  if (next) outbox[at] = next;
  else outbox.splice(at, 1);
  return { ...state, outbox };
}

/** The room one joined (or left) on another device, or a member count that changed. */
function memberChange(state: State, roomId: string, user: User, joined: boolean, now: number): State {
  let s = learn(state, user);
  const me = s.me?.id;
  const room = s.rooms[roomId];
  const listed = s.members[roomId];
  const wasIn = listed ? listed.includes(user.id) : user.id === me ? room?.joined === true : !joined;
  if (room && wasIn !== joined) {
    s = setRoom(s, { ...room, member_count: Math.max(0, room.member_count + (joined ? 1 : -1)), joined: user.id === me ? joined : room.joined });
  }
  if (listed && wasIn !== joined) s = setMembers(s, roomId, joined ? [...listed, user.id] : listed.filter((id) => id !== user.id));
  if (joined) s = setOnline(s, user.id, true);
  if (user.id === me) {
    if (!joined) s = setMembers(dropConv(s, roomKey(roomId)), roomId, undefined);
    return s;
  }
  return wasIn === joined ? s : note({ ...s, now }, roomId, joined ? "joined the room." : "left the room.", user.id);
}

export function apply(state: State, event: Event): State {
  switch (event.type) {
    case "tick": {
      let s: State = { ...state, now: event.now };
      for (const [area, n] of Object.entries(s.notices) as [NoticeArea, Notice][]) if (n.until !== undefined && n.until <= event.now) s = setNotice(s, area, null);
      let typingChanged = false;
      const typing: Record<ConvKey, Record<string, number>> = {};
      for (const [key, who] of Object.entries(s.typing)) {
        const left = Object.fromEntries(Object.entries(who).filter(([, until]) => until > event.now));
        if (Object.keys(left).length !== Object.keys(who).length) typingChanged = true;
        if (Object.keys(left).length > 0) typing[key] = left;
      }
      return typingChanged ? { ...s, typing } : s;
    }

    case "visibility": {
      const s = { ...state, visible: event.visible };
      return event.visible ? readCurrent(s) : s;
    }

    case "connection": {
      const manual = event.state === "reconnecting" ? state.connection.manual : undefined;
      const connection = { state: event.state, ...(event.attempt !== undefined ? { attempt: event.attempt } : {}), ...(event.delayMs !== undefined ? { retryAt: event.now + event.delayMs } : {}), ...(manual ? { manual } : {}) };
      let s: State = { ...state, now: event.now, connection };
      // "Not connected" errors are about a moment that has passed.
      if (event.state === "open") for (const [area, n] of Object.entries(s.notices) as [NoticeArea, Notice][]) if (n.offline) s = setNotice(s, area, null);
      return s;
    }

    case "manualRetry":
      return { ...state, connection: { ...state.connection, manual: event.phase } };

    case "signedIn": {
      const same = state.me?.id === event.user.id;
      const me: Person = { id: event.user.id, username: event.user.username, online: true };
      let convs: Record<ConvKey, Conv> = {};
      if (same) convs = { ...state.convs };
      else for (const [key, r] of Object.entries(event.read?.convs ?? {})) convs[key] = { ...emptyConv(), ...r };
      const outbox: readonly Outgoing[] = same ? state.outbox : (event.outbox ?? []).map((o) => ({ ...o, status: "queued" as const }));
      let notices = state.notices;
      if (!same) {
        // What was said about the previous account's rooms and messages no longer applies.
        const keep = (["global", "account"] as const).filter((a) => state.notices[a]);
        notices = Object.fromEntries(keep.map((a) => [a, state.notices[a]!]));
      }
      return {
        ...state,
        me,
        people: same ? { ...state.people, [me.id]: { ...state.people[me.id], ...me } } : { [me.id]: me },
        rooms: same ? state.rooms : {},
        roomsAt: same ? state.roomsAt : null,
        dms: same ? state.dms : [],
        convs,
        current: same ? state.current : event.open ?? LOBBY,
        outbox,
        members: same ? state.members : {},
        typing: {},
        notices,
        editing: same ? state.editing : null,
        renaming: null,
        notifications: event.notifications ?? state.notifications,
      };
    }

    case "userRenamed":
      return learn(state, event.user);

    case "rooms": {
      const rooms: Record<string, RoomListing> = {};
      for (const r of event.rooms) rooms[r.id] = r;
      let s: State = { ...state, rooms, roomsAt: event.now };
      const t = parseKey(s.current);
      if (t?.kind === "room" && !rooms[t.id]) s = { ...s, current: LOBBY };
      // Rooms left or deleted while away: their messages are no longer readable.
      for (const key of Object.keys(s.convs)) {
        const k = parseKey(key);
        if (k?.kind === "room" && !rooms[k.id]?.joined) s = setMembers(dropConv(s, key), k.id, undefined);
      }
      return s;
    }

    case "roomCreated": {
      const before = state.rooms[event.room.id];
      return setRoom(learn(state, event.by), { ...event.room, joined: event.mine || before?.joined === true });
    }

    case "roomRenamed": {
      const before = state.rooms[event.room.id];
      let s = setRoom(learn({ ...state, now: event.now }, event.by), { ...event.room, joined: before?.joined ?? false });
      if (before && before.name !== event.room.name) s = note(s, event.room.id, `renamed the room from “${before.name}” to “${event.room.name}”.`, event.by.id);
      if (s.renaming === event.room.id && event.by.id === s.me?.id) s = { ...s, renaming: null };
      return s;
    }

    case "roomDeleted": {
      const key = roomKey(event.roomId);
      const before = state.rooms[event.roomId];
      const { [event.roomId]: _gone, ...rooms } = state.rooms;
      let s: State = setMembers(dropConv({ ...state, now: event.now, rooms }, key), event.roomId, undefined);
      const wasOpen = s.current === key;
      if (wasOpen) s = { ...s, current: LOBBY, editing: null, renaming: null };
      if (event.by.id === s.me?.id) s = setNotice(s, "global", info(s, `You deleted the room “${event.roomName}”.`));
      else if (before?.joined || wasOpen) s = setNotice(learn(s, event.by), "global", info(s, `The room “${event.roomName}” was deleted by ${nameOf(s, event.by)}.`));
      return s;
    }

    case "joined": {
      const key = roomKey(event.room.id);
      const c = conv(state, key);
      const newest = newestId(event.history);
      let s = setRoom(settle(learnAll(state, event.history), event.history), { ...event.room, joined: true });
      s = setConv(s, key, { ...c, entries: withMessages([], event.history), loaded: true, hasMore: event.hasMore, loading: false, seenUpTo: newerId(c.seenUpTo, newest), readUpTo: newerId(c.readUpTo, newest), unread: 0 });
      return s;
    }

    case "left": {
      const room = state.rooms[event.roomId];
      let s = setMembers(dropConv(state, roomKey(event.roomId)), event.roomId, undefined);
      if (room?.joined) s = setRoom(s, { ...room, joined: false, member_count: Math.max(0, room.member_count - 1) });
      if (s.editing?.key === roomKey(event.roomId)) s = { ...s, editing: null };
      return s;
    }

    case "memberJoined":
      return memberChange(state, event.roomId, event.user, true, event.now);

    case "memberLeft":
      return memberChange(state, event.roomId, event.user, false, event.now);

    case "members": {
      let s = state;
      for (const m of event.members) s = setOnline(learn(s, m), m.id, m.online);
      s = setMembers(s, event.roomId, event.members.map((m) => m.id));
      const room = s.rooms[event.roomId];
      if (room && room.member_count !== event.members.length) s = setRoom(s, { ...room, member_count: event.members.length });
      return s;
    }

    case "presence":
      return setOnline(learn(state, event.user), event.user.id, event.online);

    case "startRename":
      return { ...state, renaming: event.roomId };

    case "endRename":
      return { ...state, renaming: null };

    case "conversations": {
      let s = state;
      for (const c of event.list) s = learn(s, c.user);
      const listed = event.list.filter((c) => !c.user.deleted).map((c) => c.user.id);
      // A conversation opened by clicking a name has no message yet, so the server does not list it.
      const t = parseKey(s.current);
      const opened = t?.kind === "dm" && !listed.includes(t.id) ? [t.id] : [];
      return { ...s, dms: [...opened, ...listed] };
    }

    case "writeTo":
      return toFront(learn(state, event.user), event.user.id);

    case "accountGone": {
      const before = state.people[event.userId] ?? { id: event.userId, username: null };
      const key = dmKey(event.userId);
      let s: State = { ...state, people: { ...state.people, [event.userId]: { ...before, username: null, deleted: true, online: false } } };
      s = setConv(s, key, { ...conv(s, key), entries: [], loaded: true, hasMore: false, loading: false, unread: 0, gone: true });
      if (s.current !== key) s = { ...s, dms: s.dms.filter((id) => id !== event.userId) };
      return s;
    }

    case "message":
      return receive({ ...state, now: event.now }, event.message);

    case "historyLoading":
      return setConv(state, event.key, { ...conv(state, event.key), loading: event.loading });

    case "history": {
      const c = conv(state, event.key);
      const s = settle(learnAll(state, event.messages), event.messages);
      if (event.mode === "older") return setConv(s, event.key, { ...c, entries: withOlderPage(c.entries, event.messages), hasMore: event.hasMore, loading: false });
      const newest = newestId(event.messages);
      const entries = c.loaded ? withLatestPage(c.entries, event.messages, event.hasMore) : withMessages(c.entries, event.messages);
      const seenUpTo = newerId(c.seenUpTo, newest);
      return setConv(s, event.key, {
        ...c,
        entries,
        loaded: true,
        hasMore: c.loaded ? c.hasMore || event.hasMore : event.hasMore,
        loading: false,
        seenUpTo,
        readUpTo: inView(s, event.key) ? newerId(c.readUpTo, seenUpTo) : c.readUpTo,
      });
    }

    case "missed": {
      const me = state.me?.id;
      let s = settle(learnAll(state, event.messages), event.messages);
      const c = conv(s, event.key);
      const floor = newerId(c.seenUpTo, c.readUpTo);
      let unread = c.unread;
      if (!inView(s, event.key)) for (const m of event.messages) if (m.from.id !== me && (floor === null || m.id > floor)) unread += 1;
      if (event.hasMore) unread = Math.max(unread, UNREAD_CAP);
      const seenUpTo = newerId(c.seenUpTo, newestId(event.messages));
      // More than one page came meanwhile: what is shown would have a gap, so it is read afresh when opened.
      const gap = event.hasMore;
      const t = parseKey(event.key);
      if (t?.kind === "dm" && event.messages.length > 0) s = toFront(s, t.id);
      return setConv(s, event.key, {
        ...c,
        entries: gap ? [] : withMessages(c.entries, event.messages),
        loaded: c.loaded && !gap,
        unread,
        seenUpTo,
        readUpTo: inView(s, event.key) ? newerId(c.readUpTo, seenUpTo) : c.readUpTo,
      });
    }

    case "edited": {
      const key = keyOf(event.message, state.me?.id ?? "");
      const c = state.convs[key];
      const s = learn(state, event.message.from);
      return c ? setConv(s, key, { ...c, entries: withEdit(c.entries, event.message) }) : s;
    }

    case "deleted": {
      let s = state;
      for (const [key, c] of Object.entries(state.convs)) {
        const entries = without(c.entries, event.messageId);
        if (entries !== c.entries) s = setConv(s, key, { ...c, entries });
      }
      return s.editing?.messageId === event.messageId ? { ...s, editing: null } : s;
    }

    case "typing": {
      if (event.user.id === state.me?.id) return state;
      const s = learn(state, event.user);
      return { ...s, now: event.now, typing: { ...s.typing, [event.key]: { ...s.typing[event.key], [event.user.id]: event.now + TYPING_MS } } };
    }

    case "queue": {
      const c = conv(state, event.key);
      const s = setConv(state, event.key, { ...c, dividerAfter: null });
      return { ...s, outbox: [...s.outbox, { id: event.id, key: event.key, text: event.text, ts: event.ts, status: "queued" }] };
    }

    case "sending":
      return patchOutgoing(state, event.id, (o) => ({ id: o.id, key: o.key, text: o.text, ts: o.ts, status: "sending" }));

    case "sent":
      return receive(patchOutgoing(state, event.id, () => null), event.message);

    case "sendFailed":
      return patchOutgoing(state, event.id, (o) => ({ ...o, status: "failed", error: event.error }));

    case "requeue":
    case "retry":
      return patchOutgoing(state, event.id, (o) => ({ id: o.id, key: o.key, text: o.text, ts: o.ts, status: "queued" }));

    case "discard":
      return patchOutgoing(state, event.id, () => null);

    case "startEdit":
      return { ...state, editing: { key: state.current, messageId: event.messageId } };

    case "endEdit":
      return { ...state, editing: null };

    case "open": {
      let s: State = state;
      const prev = s.convs[s.current];
      if (prev && s.current !== event.key && prev.dividerAfter !== null) s = setConv(s, s.current, { ...prev, dividerAfter: null });
      const switching = s.current !== event.key;
      s = { ...s, current: event.key, pane: event.show === false ? s.pane : "conversation", editing: switching ? null : s.editing, renaming: switching ? null : s.renaming };
      if (!s.convs[event.key]) s = setConv(s, event.key, emptyConv());
      return readCurrent(s);
    }

    case "pane":
      return { ...state, pane: event.pane };

    case "toggleMembers":
      return { ...state, showMembers: !state.showMembers };

    case "notifications":
      return { ...state, notifications: event.on };

    case "notice":
      return setNotice(state, event.area, event.notice);
  }
}

/** A person's name as the page shows it (see text/names.ts for the rules). */
function nameOf(state: State, user: User): string {
  const p = state.people[user.id];
  if (p?.deleted || user.deleted) return "a deleted account";
  return p?.username ?? user.username ?? `Guest ${user.id.slice(0, 4)}`;
}
