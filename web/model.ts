/**
 * The page's state as plain data, and the small rules that change it: which
 * conversation a message belongs to, merging pages of history, the room list.
 * No DOM here; `view.ts` draws this and the rest of the page feeds it.
 */
import type { Message, Room, RoomListing, User } from "../src/client/index.js";

/** "lobby", "room:<id>" or "dm:<user id>". */
export type ConvKey = string;
export const LOBBY: ConvKey = "lobby";
export const roomKey = (id: string): ConvKey => `room:${id}`;
export const dmKey = (id: string): ConvKey => `dm:${id}`;

export type Target = { kind: "lobby" } | { kind: "room"; id: string } | { kind: "dm"; id: string };

export function parseKey(key: ConvKey): Target | null {
  if (key === LOBBY) return { kind: "lobby" };
  const [kind, id] = key.split(":", 2);
  if (!id) return null;
  if (kind === "room") return { kind: "room", id };
  if (kind === "dm") return { kind: "dm", id };
  return null;
}

/** One line of a conversation: a message, or a note such as "alice joined". */
export type Entry =
  | { kind: "message"; message: Message }
  | { kind: "note"; id: string; ts: string; user?: User; text: string };

export interface Conversation {
  entries: Entry[];
  ids: Set<string>;
  /** History was fetched, so pushes can be appended without leaving a gap. */
  loaded: boolean;
  hasMore: boolean;
  loading: boolean;
  unread: number;
}

export function newConversation(): Conversation {
  return { entries: [], ids: new Set(), loaded: false, hasMore: false, loading: false, unread: 0 };
}

/** The conversation `key` in `convs`, added empty when it is not there yet. */
export function conversationFor(convs: Map<ConvKey, Conversation>, key: ConvKey): Conversation {
  let conv = convs.get(key);
  if (!conv) {
    conv = newConversation();
    convs.set(key, conv);
  }
  return conv;
}

/** The conversation a message belongs to, seen from the account `me`. */
export function keyOf(message: Message, me: string): ConvKey {
  if ("to_user_id" in message) return dmKey(message.from.id === me ? message.to_user_id : message.from.id);
  return message.room_id === "all" ? LOBBY : roomKey(message.room_id);
}

/** Adds a message at its place by id (ids sort by time); false when it was there already. */
export function addMessage(conv: Conversation, message: Message): boolean {
  if (conv.ids.has(message.id)) return false;
  conv.ids.add(message.id);
  let at = conv.entries.length;
  while (at > 0) {
    const prev = conv.entries[at - 1]!;
    const before = prev.kind === "message" ? prev.message.id < message.id : prev.ts <= message.ts;
    if (before) break;
    at -= 1;
  }
  conv.entries.splice(at, 0, { kind: "message", message });
  return true;
}

/** Puts an older page in front of what is there. */
export function prependPage(conv: Conversation, messages: readonly Message[]): void {
  const fresh = messages.filter((m) => !conv.ids.has(m.id));
  for (const m of fresh) conv.ids.add(m.id);
  conv.entries.unshift(...fresh.map((message): Entry => ({ kind: "message", message })));
}

export function oldestMessageId(conv: Conversation): string | undefined {
  for (const e of conv.entries) if (e.kind === "message") return e.message.id;
  return undefined;
}

let noteSeq = 0;
export function addNote(conv: Conversation, text: string, user?: User): void {
  const note: Entry = { kind: "note", id: `note-${++noteSeq}`, ts: new Date().toISOString(), text };
  if (user) note.user = user;
  conv.entries.push(note);
}

/** Every room, by name, with this account's membership. */
export class RoomList {
  readonly #rooms = new Map<string, RoomListing>();

  replaceAll(rooms: readonly RoomListing[]): void {
    this.#rooms.clear();
    for (const r of rooms) this.#rooms.set(r.id, r);
  }

  get(id: string): RoomListing | undefined {
    return this.#rooms.get(id);
  }

  /** Adds or updates a room; `joined` is kept unless given. */
  put(room: Room, joined?: boolean): void {
    const before = this.#rooms.get(room.id);
    this.#rooms.set(room.id, { ...room, joined: joined ?? before?.joined ?? false });
  }

  setJoined(id: string, joined: boolean): void {
    const r = this.#rooms.get(id);
    if (r) this.#rooms.set(id, { ...r, joined });
  }

  remove(id: string): RoomListing | undefined {
    const r = this.#rooms.get(id);
    this.#rooms.delete(id);
    return r;
  }

  sorted(): RoomListing[] {
    return [...this.#rooms.values()].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base" }));
  }
}
