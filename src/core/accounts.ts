/** Accounts and sessions: connect, disconnect, auth, change_name, del_user. */
import type { CommandOf, NewAccount } from "./commands.js";
import { putUser, record } from "./changes.js";
import { addTo, removeFrom, type ChatState, type ConnId, type UserId, type UserRecord } from "./model.js";
import type { Outbound } from "./outbound.js";
import { deleteRoom, leaveRoom } from "./rooms.js";
import { accountOf, fail, reply } from "./step.js";
import { byName, roomView, userView } from "./views.js";

function createAccount(state: ChatState, account: NewAccount): UserRecord {
  const user: UserRecord = { id: account.id, username: null, tokenHash: account.tokenHash, touched: false };
  state.users.set(user.id, user);
  return user;
}

function welcome(conn: ConnId, user: UserRecord): Outbound {
  return { to: { kind: "conn", conn }, event: "welcome", data: { user: userView(user) } };
}

/** Forgets an account nothing refers to once its last connection has moved away. */
function discardIfPristine(state: ChatState, userId: UserId): void {
  const user = state.users.get(userId);
  if (user && !user.touched && !state.sessions.has(userId)) state.users.delete(userId);
}

export function connect(state: ChatState, cmd: CommandOf<"connect">): Outbound[] {
  const user = createAccount(state, cmd.guest);
  state.connections.set(cmd.conn, { userId: user.id });
  addTo(state.sessions, user.id, cmd.conn);
  return [welcome(cmd.conn, user)];
}

export function disconnect(state: ChatState, cmd: CommandOf<"disconnect">): Outbound[] {
  const c = state.connections.get(cmd.conn);
  if (!c) return [];
  state.connections.delete(cmd.conn);
  removeFrom(state.sessions, c.userId, cmd.conn);
  discardIfPristine(state, c.userId);
  return [];
}

export function auth(state: ChatState, cmd: CommandOf<"auth">): Outbound[] {
  const c = state.connections.get(cmd.conn);
  const target = state.users.get(cmd.user_id);
  if (!c || !target) return fail(cmd, "auth_failed");
  const tokenOk = cmd.tokenHash === null ? cmd.openAuth : cmd.tokenHash === target.tokenHash;
  if (!tokenOk) return fail(cmd, "auth_failed");

  const rooms = [...(state.memberships.get(target.id) ?? [])]
    .map((id) => state.rooms.get(id))
    .filter((r) => r !== undefined)
    .sort(byName)
    .map(roomView);
  const out: Outbound[] = [reply(cmd, "auth", { user: userView(target), rooms })];
  if (c.userId === target.id) return out;

  const others = state.sessions.get(target.id);
  if (others && others.size > 0) {
    out.push({
      to: { kind: "users", users: [target.id], except: cmd.conn },
      event: "signed_in_elsewhere",
      data: { user_id: target.id, ts: cmd.ts },
    });
  }
  const previous = c.userId;
  removeFrom(state.sessions, previous, cmd.conn);
  c.userId = target.id;
  addTo(state.sessions, target.id, cmd.conn);
  // Never an account anything refers to: only one that holds nothing and has no connection left.
  discardIfPristine(state, previous);
  return out;
}

export function changeName(state: ChatState, cmd: CommandOf<"change_name">): Outbound[] {
  const user = accountOf(state, cmd.conn);
  user.username = cmd.username;
  user.touched = true;
  putUser(state, user);
  const audience = new Set<UserId>([user.id]);
  for (const roomId of state.memberships.get(user.id) ?? []) {
    for (const member of state.rooms.get(roomId)?.members ?? []) audience.add(member);
  }
  return [
    reply(cmd, "change_name", { user: userView(user) }),
    { to: { kind: "users", users: [...audience], except: cmd.conn }, event: "user_renamed", data: { user: userView(user) } },
  ];
}

export function delUser(state: ChatState, cmd: CommandOf<"del_user">): Outbound[] {
  const user = accountOf(state, cmd.conn);
  const conns = [...(state.sessions.get(user.id) ?? [])];
  const guests = new Map(cmd.guests.map((g) => [g.conn, g]));
  // Check before changing anything, so that a malformed command leaves no half-applied state.
  for (const conn of conns) {
    if (!guests.has(conn)) throw new Error(`del_user for ${user.id} lacks a guest account for ${conn}`);
  }

  const out: Outbound[] = [reply(cmd, "del_user", { deleted_user_id: user.id })];
  for (const conn of conns) {
    const guest = createAccount(state, guests.get(conn)!);
    const c = state.connections.get(conn)!;
    c.userId = guest.id;
    addTo(state.sessions, guest.id, conn);
    if (conn !== cmd.conn) out.push({ to: { kind: "conn", conn }, event: "account_deleted", data: { user_id: user.id } });
    out.push(welcome(conn, guest));
  }
  state.sessions.delete(user.id);

  const by = userView(user);
  for (const roomId of [...(state.owned.get(user.id) ?? [])]) out.push(...deleteRoom(state, roomId, by));
  for (const roomId of [...(state.memberships.get(user.id) ?? [])]) out.push(...leaveRoom(state, roomId, user));
  for (const peer of state.directPeers.get(user.id) ?? []) {
    removeFrom(state.directPeers, peer, user.id);
    record(state, { type: "direct_pair_deleted", a: user.id, b: peer });
  }
  state.directPeers.delete(user.id);
  state.users.delete(user.id);
  if (user.touched) record(state, { type: "user_deleted", id: user.id });
  return out;
}
