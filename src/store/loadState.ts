/** Builds the state from stored rows: the part of `load` every store shares. */
import { addTo, createState, LOBBY, RECENT_MESSAGES, trimRecent, type ChatState, type UserRecord } from "../core/model.js";
import { nameKey } from "../core/names.js";
import { indexRoomNames } from "../core/roomNames.js";
import type { HistoryReply } from "../protocol/wire.generated.js";

export interface StoredRows {
  users: Iterable<{ id: string; username: string | null; tokenHash: string; renamedFrom?: string | null }>;
  rooms: Iterable<{ id: string; name: string; ownerId: string }>;
  members: Iterable<{ roomId: string; userId: string }>;
  directPairs: Iterable<{ a: string; b: string }>;
  page(key: string, limit: number): HistoryReply;
  /** Absent when the sessions are not wanted (a single server starts with none). */
  sessions?: Iterable<{ conn: string; userId: string }>;
  guests?: Iterable<{ id: string; tokenHash: string }>;
}

export function loadState(rows: StoredRows): ChatState {
  const state = createState();
  for (const u of rows.users) {
    const user: UserRecord = { id: u.id, username: u.username, tokenHash: u.tokenHash, touched: true };
    if (u.renamedFrom != null) user.renamedFrom = u.renamedFrom;
    state.users.set(u.id, user);
    // Stored names are unique (migration 6 settled older ones); should two still clash, the first keeps the entry.
    if (u.username !== null && !state.userByName.has(nameKey(u.username))) state.userByName.set(nameKey(u.username), u.id);
  }
  for (const r of rows.rooms) {
    state.rooms.set(r.id, { id: r.id, name: r.name, ownerId: r.ownerId, members: new Set() });
    addTo(state.owned, r.ownerId, r.id);
  }
  indexRoomNames(state);
  for (const m of rows.members) {
    state.rooms.get(m.roomId)?.members.add(m.userId);
    addTo(state.memberships, m.userId, m.roomId);
  }
  for (const p of rows.directPairs) {
    addTo(state.directPeers, p.a, p.b);
    addTo(state.directPeers, p.b, p.a);
  }
  for (const g of rows.guests ?? []) state.users.set(g.id, { id: g.id, username: null, tokenHash: g.tokenHash, touched: false });
  for (const c of rows.sessions ?? []) {
    state.connections.set(c.conn, { userId: c.userId });
    addTo(state.sessions, c.userId, c.conn);
  }
  for (const key of [LOBBY, ...state.rooms.keys()]) {
    const { messages } = rows.page(key, RECENT_MESSAGES);
    trimRecent(messages);
    if (messages.length > 0) state.recent.set(key, messages);
  }
  return state;
}
