/**
 * The chat's state as plain data with the indexes that keep every operation's
 * cost proportional to its audience (room → members, account → connections, ...).
 */
import type { Message } from "../protocol/wire.generated.js";

export type UserId = string;
export type RoomId = string;
export type MessageId = string;
/** A connection, named by the transport `<node>/<n>`; unique across the cluster. */
export type ConnId = string;
/** A server process of the cluster: a new one at every start. */
export type NodeId = string;

/** The node that serves a connection. */
export function nodeOf(conn: ConnId): NodeId {
  return conn.slice(0, conn.indexOf("/"));
}
/** The lobby: every account is always in it. */
export const LOBBY = "all";

export interface UserRecord {
  id: UserId;
  username: string | null;
  tokenHash: string;
  /** Set once anything refers to the account (a name, a room, a membership, a message); never cleared. */
  touched: boolean;
  /** The name an upgrade took from the account, because an older one held it under today's comparison; told at its next `auth`. */
  renamedFrom?: string;
}

export interface RoomRecord {
  id: RoomId;
  name: string;
  ownerId: UserId;
  members: Set<UserId>;
}

export interface ConnectionRecord {
  userId: UserId;
}

/** The newest messages of a room or the lobby (at most RECENT_MESSAGES), sorted by id (UUIDv7, so by time). */
export type Conversation = Message[];

/** How many of a conversation's newest messages the state keeps: what `choose_room` returns. */
export const RECENT_MESSAGES = 50;

/**
 * At most this much text (UTF-16 units) of them, so that a room costs the server's memory
 * a few kilobytes however long its messages: older ones are read with `history`.
 */
export const RECENT_TEXT = 16_384;

/** Drops a conversation's oldest recent messages until it is within both bounds; the newest always stays. */
export function trimRecent(recent: Message[]): void {
  let text = 0;
  for (const m of recent) text += m.text.length;
  let drop = Math.max(0, recent.length - RECENT_MESSAGES);
  for (let i = 0; i < drop; i++) text -= recent[i]!.text.length;
  while (text > RECENT_TEXT && drop < recent.length - 1) text -= recent[drop++]!.text.length;
  if (drop > 0) recent.splice(0, drop);
}

export interface ChatState {
  users: Map<UserId, UserRecord>;
  rooms: Map<RoomId, RoomRecord>;
  /** Room name key (`nameKey`) → room, for the uniqueness rule. */
  roomByName: Map<string, RoomId>;
  /** Account name key → account: names are unique as room names are. */
  userByName: Map<string, UserId>;
  /** Every room name key, sorted: the order of `show_rooms` pages. */
  roomOrder: string[];
  /** Rooms each account is a member of. */
  memberships: Map<UserId, Set<RoomId>>;
  /** Rooms each account owns (an owner may have left its room). */
  owned: Map<UserId, Set<RoomId>>;
  connections: Map<ConnId, ConnectionRecord>;
  /** Connections signed into each account. */
  sessions: Map<UserId, Set<ConnId>>;
  /** Recent messages of each room and of the lobby, keyed by room id or LOBBY; older ones live in the store. */
  recent: Map<string, Conversation>;
  /** The accounts each account has a direct conversation with. */
  directPeers: Map<UserId, Set<UserId>>;
}

export function createState(): ChatState {
  return {
    users: new Map(),
    rooms: new Map(),
    roomByName: new Map(),
    userByName: new Map(),
    roomOrder: [],
    memberships: new Map(),
    owned: new Map(),
    connections: new Map(),
    sessions: new Map(),
    recent: new Map(),
    directPeers: new Map(),
  };
}

export function directKey(a: UserId, b: UserId): string {
  return a < b ? `dm:${a}:${b}` : `dm:${b}:${a}`;
}

/** Adds `value` to the set at `key`, creating the set when absent. */
export function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (set) set.add(value);
  else index.set(key, new Set([value]));
}

/** Removes `value` from the set at `key`, dropping the set when it empties. */
export function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}
