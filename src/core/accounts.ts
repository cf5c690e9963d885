/** Accounts and sessions: connect, disconnect, node_gone, auth, change_name, del_user, sign_out, replace_token. */
import type { CommandOf, NewAccount } from "./commands.js";
import { putUser, record } from "./changes.js";
import type { Effects } from "./effects.js";
import type { Limits } from "./limits.js";
import { addTo, nodeOf, removeFrom, type ChatState, type ConnId, type UserId, type UserRecord } from "./model.js";
import type { Outbound, TokenReplyOut } from "./outbound.js";
import { deleteRoom, leaveRoom } from "./rooms.js";
import { accountOf, fail, reply } from "./step.js";
import { nameKey } from "./names.js";
import { byName, roomView, userView } from "./views.js";

function createAccount(state: ChatState, fx: Effects, account: NewAccount): UserRecord {
  const user: UserRecord = { id: account.id, username: null, tokenHash: account.tokenHash, touched: false };
  state.users.set(user.id, user);
  record(fx, { type: "guest_put", id: user.id, tokenHash: user.tokenHash });
  return user;
}

/** Notes whether an account was online before the command changed its connections. */
function notePresence(state: ChatState, fx: Effects, userId: UserId): void {
  if (!fx.presence.has(userId)) fx.presence.set(userId, state.sessions.has(userId));
}

/** Signs a connection into an account. */
function seat(state: ChatState, fx: Effects, conn: ConnId, userId: UserId): void {
  notePresence(state, fx, userId);
  const c = state.connections.get(conn);
  if (c) c.userId = userId;
  else state.connections.set(conn, { userId });
  addTo(state.sessions, userId, conn);
  record(fx, { type: "session_put", conn, userId });
}

/** Ends a connection's session, leaving its account as it is. */
function unseat(state: ChatState, fx: Effects, conn: ConnId, userId: UserId): void {
  notePresence(state, fx, userId);
  state.connections.delete(conn);
  removeFrom(state.sessions, userId, conn);
  record(fx, { type: "session_deleted", conn });
}

function welcome(conn: ConnId, user: UserRecord): Outbound {
  return { to: { kind: "conn", conn }, event: "welcome", data: { user: userView(user) } };
}

/** Forgets an account nothing refers to once its last connection has moved away. */
function discardIfPristine(state: ChatState, fx: Effects, userId: UserId): void {
  const user = state.users.get(userId);
  if (user && !user.touched && !state.sessions.has(userId)) {
    state.users.delete(userId);
    record(fx, { type: "guest_deleted", id: userId });
  }
}

export function connect(state: ChatState, cmd: CommandOf<"connect">, fx: Effects): Outbound[] {
  // The same connection twice (an entry applied again) must not leave a second guest behind.
  if (state.connections.has(cmd.conn)) return [];
  const user = createAccount(state, fx, cmd.guest);
  seat(state, fx, cmd.conn, user.id);
  return [welcome(cmd.conn, user)];
}

/** Ends a connection, forgetting its account if that is pristine and has no other. */
function endConnection(state: ChatState, fx: Effects, conn: ConnId): void {
  const c = state.connections.get(conn);
  if (!c) return;
  unseat(state, fx, conn, c.userId);
  discardIfPristine(state, fx, c.userId);
}

export function disconnect(state: ChatState, cmd: CommandOf<"disconnect">, fx: Effects): Outbound[] {
  endConnection(state, fx, cmd.conn);
  return [];
}

export function nodeGone(state: ChatState, cmd: CommandOf<"node_gone">, fx: Effects): Outbound[] {
  for (const conn of [...state.connections.keys()]) if (nodeOf(conn) === cmd.node) endConnection(state, fx, conn);
  return [];
}

/** Moves a connection onto another account, forgetting the one it leaves if that is pristine. */
function moveConnection(state: ChatState, fx: Effects, conn: ConnId, to: UserId): void {
  const c = state.connections.get(conn);
  if (!c) throw new Error(`connection ${conn} is unknown`);
  const previous = c.userId;
  notePresence(state, fx, previous);
  removeFrom(state.sessions, previous, conn);
  seat(state, fx, conn, to);
  discardIfPristine(state, fx, previous);
}

/** The fresh guest account the command brought for each connection; a connection without one ends. */
function guestsOf(cmd: { guests: Array<NewAccount & { conn: ConnId }> }): Map<ConnId, NewAccount> {
  return new Map<ConnId, NewAccount>(cmd.guests.map((g) => [g.conn, g]));
}

export function auth(state: ChatState, cmd: CommandOf<"auth">, fx: Effects, limits: Readonly<Limits>): Outbound[] {
  const c = state.connections.get(cmd.conn);
  const target = state.users.get(cmd.user_id);
  if (!c || !target) return fail(cmd, "auth_failed");
  const tokenOk = cmd.tokenHash === null ? cmd.openAuth : cmd.tokenHash === target.tokenHash;
  if (!tokenOk) return fail(cmd, "auth_failed");
  const sessions = state.sessions.get(target.id)?.size ?? 0;
  const max = limits.maxSessionsPerAccount;
  if (c.userId !== target.id && sessions >= max) {
    return fail(cmd, "limit_reached", `At most ${max} connections may be signed into one account; close one first.`);
  }

  const rooms = [...(state.memberships.get(target.id) ?? [])]
    .map((id) => state.rooms.get(id))
    .filter((r) => r !== undefined)
    .sort(byName)
    .map(roomView);
  const out: Outbound[] = [reply(cmd, "auth", target.renamedFrom === undefined ? { user: userView(target), rooms } : { user: userView(target), rooms, renamed_from: target.renamedFrom })];
  if (target.renamedFrom !== undefined) {
    // Told once: the account's next sign-in hears nothing of it.
    delete target.renamedFrom;
    putUser(fx, target);
  }
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
  moveConnection(state, fx, cmd.conn, target.id);
  return out;
}

/** Takes an account's name out of the uniqueness index (only if it holds the entry: a stored clash keeps the first). */
function unindexUserName(state: ChatState, user: UserRecord): void {
  if (user.username === null) return;
  const key = nameKey(user.username);
  if (state.userByName.get(key) === user.id) state.userByName.delete(key);
}

export function changeName(state: ChatState, cmd: CommandOf<"change_name">, fx: Effects): Outbound[] {
  const user = accountOf(state, cmd.conn);
  const key = nameKey(cmd.username);
  const holder = state.userByName.get(key);
  if (holder !== undefined && holder !== user.id) {
    return fail(cmd, "name_taken", `Another account is already called ${JSON.stringify(cmd.username)} (names are compared ignoring case, width and invisible characters).`);
  }
  unindexUserName(state, user);
  state.userByName.set(key, user.id);
  user.username = cmd.username;
  user.touched = true;
  putUser(fx, user);
  const audience = new Set<UserId>([user.id, ...(state.directPeers.get(user.id) ?? [])]);
  for (const roomId of state.memberships.get(user.id) ?? []) {
    for (const member of state.rooms.get(roomId)?.members ?? []) audience.add(member);
  }
  return [
    reply(cmd, "change_name", { user: userView(user) }),
    { to: { kind: "users", users: [...audience], except: cmd.conn }, event: "user_renamed", data: { user: userView(user) } },
  ];
}

export function delUser(state: ChatState, cmd: CommandOf<"del_user">, fx: Effects): Outbound[] {
  const user = accountOf(state, cmd.conn);
  const conns = [...(state.sessions.get(user.id) ?? [])];
  const guests = guestsOf(cmd);
  // Checked before anything changes, so that a malformed command leaves no trace.
  if (!guests.has(cmd.conn)) throw new Error(`del_user for ${user.id} lacks a guest account for ${cmd.conn}`);

  const out: Outbound[] = [reply(cmd, "del_user", { deleted_user_id: user.id })];
  for (const conn of conns) {
    const account = guests.get(conn);
    if (!account) {
      unseat(state, fx, conn, user.id);
      continue;
    }
    const guest = createAccount(state, fx, account);
    notePresence(state, fx, user.id);
    seat(state, fx, conn, guest.id);
    if (conn !== cmd.conn) out.push({ to: { kind: "conn", conn }, event: "account_deleted", data: { user_id: user.id } });
    out.push(welcome(conn, guest));
  }
  state.sessions.delete(user.id);

  const by = userView(user);
  for (const roomId of [...(state.owned.get(user.id) ?? [])]) out.push(...deleteRoom(state, fx, roomId, by));
  for (const roomId of [...(state.memberships.get(user.id) ?? [])]) out.push(...leaveRoom(state, fx, roomId, user));
  for (const peer of state.directPeers.get(user.id) ?? []) {
    removeFrom(state.directPeers, peer, user.id);
    record(fx, { type: "direct_pair_deleted", a: user.id, b: peer });
  }
  state.directPeers.delete(user.id);
  unindexUserName(state, user);
  state.users.delete(user.id);
  record(fx, user.touched ? { type: "user_deleted", id: user.id } : { type: "guest_deleted", id: user.id });
  return out;
}

export function signOut(state: ChatState, cmd: CommandOf<"sign_out">, fx: Effects): Outbound[] {
  const user = accountOf(state, cmd.conn);
  const guest = createAccount(state, fx, cmd.guest);
  moveConnection(state, fx, cmd.conn, guest.id);
  return [reply(cmd, "sign_out", { user_id: user.id }), welcome(cmd.conn, guest)];
}

export function replaceToken(state: ChatState, cmd: CommandOf<"replace_token">, fx: Effects): Outbound[] {
  const user = accountOf(state, cmd.conn);
  const others = [...(state.sessions.get(user.id) ?? [])].filter((conn) => conn !== cmd.conn);
  const guests = guestsOf(cmd);
  user.tokenHash = cmd.tokenHash;
  if (user.touched) putUser(fx, user);
  else record(fx, { type: "guest_put", id: user.id, tokenHash: user.tokenHash });
  const token: TokenReplyOut = { to: { kind: "conn", conn: cmd.conn }, event: "replace_token", data: { user: userView(user) } };
  if (cmd.ref !== undefined) token.ref = cmd.ref;
  const out: Outbound[] = [token];
  for (const conn of others) {
    const account = guests.get(conn);
    if (!account) {
      unseat(state, fx, conn, user.id);
      continue;
    }
    const guest = createAccount(state, fx, account);
    moveConnection(state, fx, conn, guest.id);
    out.push({ to: { kind: "conn", conn }, event: "signed_out", data: { user_id: user.id, reason: "token_replaced" } });
    out.push(welcome(conn, guest));
  }
  return out;
}
