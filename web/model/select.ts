/** What the view asks of the state, worked out in one place: names, counts, permissions. */
import type { RoomListing } from "../../src/client/index.js";
import { displayName } from "../text/names.js";
import { parseKey, type ConvKey } from "./keys.js";
import type { Person, State } from "./state.js";

export function person(state: State, id: string): Person {
  return state.people[id] ?? { id, username: null };
}

export function nameOf(state: State, id: string): string {
  return displayName(person(state, id));
}

/** Every unread message, for the tab's title. */
export function totalUnread(state: State): number {
  let n = 0;
  for (const c of Object.values(state.convs)) n += c.unread;
  return n;
}

export const isOwner = (state: State, room: RoomListing | undefined): boolean => room !== undefined && room.owner_id === state.me?.id;

export function memberLine(room: RoomListing): string {
  return `${room.member_count} ${room.member_count === 1 ? "member" : "members"}`;
}

/** The title of a conversation: the room's name, the person's name, or "Lobby". */
export function titleOf(state: State, key: ConvKey): string {
  const t = parseKey(key);
  if (t?.kind === "room") return state.rooms[t.id]?.name ?? "Room not found";
  if (t?.kind === "dm") return nameOf(state, t.id);
  return "Lobby";
}

/** The conversation can be written in: a joined room, the lobby, or a person whose account still exists. */
export function canWrite(state: State, key: ConvKey): boolean {
  const t = parseKey(key);
  if (t?.kind === "room") return state.rooms[t.id]?.joined === true;
  if (t?.kind === "dm") return !person(state, t.id).deleted && state.convs[key]?.gone !== true;
  return t !== null;
}

/** Your own messages, and any message in a room you own. */
export function canDelete(state: State, key: ConvKey, fromId: string): boolean {
  if (fromId === state.me?.id) return true;
  const t = parseKey(key);
  return t?.kind === "room" && isOwner(state, state.rooms[t.id]);
}

/** The people typing in a conversation, as one line ("Bob is typing…"), or "" when no one is. */
export function typingLine(state: State, key: ConvKey): string {
  const who = Object.entries(state.typing[key] ?? {})
    .filter(([, until]) => until > state.now)
    .map(([id]) => nameOf(state, id));
  if (who.length === 0) return "";
  if (who.length === 1) return `${who[0]} is typing…`;
  if (who.length === 2) return `${who[0]} and ${who[1]} are typing…`;
  return "Several people are typing…";
}

/** Seconds until the next reconnect attempt, or null when none is scheduled. */
export function secondsToRetry(state: State): number | null {
  const at = state.connection.retryAt;
  if (state.connection.state !== "reconnecting" || at === undefined) return null;
  return Math.max(0, Math.ceil((at - state.now) / 1000));
}
