/** Accounts and sessions: connect, disconnect, auth, change_name, del_user, sign_out, replace_token. */
import type { CommandOf, NewAccount } from "./commands.js";
import { putUser, record } from "./changes.js";
import { addTo, removeFrom, type ChatState, type ConnId, type UserId, type UserRecord } from "./model.js";
import type { Outbound, TokenReplyOut } from "./outbound.js";
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

/** Moves a connection onto another account, forgetting the one it leaves if that is pristine. */
function moveConnection(state: ChatState, conn: ConnId, to: UserId): void {
  const c = state.connections.get(conn);
  if (!c) throw new Error(`connection ${conn} is unknown`);
  const previous = c.userId;
  removeFrom(state.sessions, previous, conn);
  c.userId = to;
  addTo(state.sessions, to, conn);
  discardIfPristine(state, previous);
}

/** The fresh guest account for each of `conns`, checked before anything changes so a malformed command leaves no trace. */
function guestsFor(cmd: { type: string; guests: Array<NewAccount & { conn: ConnId }> }, conns: readonly ConnId[], user: UserId): Map<ConnId, NewAccount> {
  const guests = new Map<ConnId, NewAccount>(cmd.guests.map((g) => [g.conn, g]));
  for (const conn of conns) {
    if (!guests.has(conn)) throw new Error(`${cmd.type} for ${user} lacks a guest account for ${conn}`);
  }
  return guests;
}

export function auth(state: ChatState, cmd: CommandOf<"auth">): Outbound[] {
  const c = state.connections.get(cmd.conn);
  const target = state.users.get(cmd.user_id);
  if (!c || !target) return fail(cmd, "auth_failed");
  const tokenOk = cmd.tokenHash === null ? cmd.openAuth : cmd.tokenHash === target.tokenHash;
  if (!tokenOk) return fail(cmd, "auth_failed");
  const sessions = state.sessions.get(target.id)?.size ?? 0;
  const max = state.limits.maxSessionsPerAccount;
  if (c.userId !== target.id && sessions >= max) {
    return fail(cmd, "limit_reached", `At most ${max} connections may be signed into one account; close one first.`);
  }

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
  // The account left is forgotten only if it holds nothing and has no connection left.
  moveConnection(state, cmd.conn, target.id);
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
  const guests = guestsFor(cmd, conns, user.id);

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

export function signOut(state: ChatState, cmd: CommandOf<"sign_out">): Outbound[] {
  const user = accountOf(state, cmd.conn);
  const guest = createAccount(state, cmd.guest);
  moveConnection(state, cmd.conn, guest.id);
  return [reply(cmd, "sign_out", { user_id: user.id }), welcome(cmd.conn, guest)];
}

export function replaceToken(state: ChatState, cmd: CommandOf<"replace_token">): Outbound[] {
  const user = accountOf(state, cmd.conn);
  const others = [...(state.sessions.get(user.id) ?? [])].filter((conn) => conn !== cmd.conn);
  const guests = guestsFor(cmd, others, user.id);
  user.tokenHash = cmd.tokenHash;
  // A pristine account is not stored; its new hash lives with it in memory.
  if (user.touched) putUser(state, user);
  const token: TokenReplyOut = { to: { kind: "conn", conn: cmd.conn }, event: "replace_token", data: { user: userView(user) } };
  if (cmd.ref !== undefined) token.ref = cmd.ref;
  const out: Outbound[] = [token];
  for (const conn of others) {
    const guest = createAccount(state, guests.get(conn)!);
    moveConnection(state, conn, guest.id);
    out.push({ to: { kind: "conn", conn }, event: "signed_out", data: { user_id: user.id, reason: "token_replaced" } });
    out.push(welcome(conn, guest));
  }
  return out;
}
