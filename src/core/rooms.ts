/** Rooms: create_room, rename_room, choose_room, show_rooms, del_room, exit_room. */
import type { User } from "../protocol/wire.generated.js";
import { putRoom, record, touch } from "./changes.js";
import type { CommandOf } from "./commands.js";
import type { Effects } from "./effects.js";
import type { Limits } from "./limits.js";
import { addTo, removeFrom, type ChatState, type ConnId, type RoomId, type RoomRecord, type UserRecord } from "./model.js";
import { nameKey } from "./names.js";
import type { Outbound } from "./outbound.js";
import { accountOf, fail, reply } from "./step.js";
import { indexRoomName, unindexRoomName } from "./roomNames.js";
import { itself, upperBound } from "./sorted.js";
import { currentMessage, roomListing, roomView, userView } from "./views.js";

/** Removes a room with its memberships and history; everyone is told. */
export function deleteRoom(state: ChatState, fx: Effects, roomId: RoomId, by: User): Outbound[] {
  const room = state.rooms.get(roomId);
  if (!room) return [];
  for (const member of room.members) removeFrom(state.memberships, member, roomId);
  removeFrom(state.owned, room.ownerId, roomId);
  unindexRoomName(state, room);
  state.recent.delete(roomId);
  state.rooms.delete(roomId);
  record(fx, { type: "room_deleted", id: roomId });
  return [{ to: { kind: "everyone" }, event: "room_deleted", data: { room_id: roomId, room_name: room.name, by } }];
}

/** Ends a membership; the remaining members are told. */
/**
 * Takes `user` out of a room; the remaining members hear `member_left`, and so, when `tell`
 * names the requesting connection, do the leaver's other connections (its other devices).
 */
export function leaveRoom(state: ChatState, fx: Effects, roomId: RoomId, user: UserRecord, tell?: { except: ConnId }): Outbound[] {
  const room = state.rooms.get(roomId);
  if (!room || !room.members.delete(user.id)) return [];
  removeFrom(state.memberships, user.id, roomId);
  record(fx, { type: "member_removed", roomId, userId: user.id });
  const data = { room_id: roomId, user: userView(user) };
  if (!tell) return [{ to: { kind: "room", room: roomId }, event: "member_left", data }];
  return [{ to: { kind: "users", users: [...room.members, user.id], except: tell.except }, event: "member_left", data }];
}

/** Why the account may join no more rooms, if it may not. */
function joinedLimit(state: ChatState, limits: Readonly<Limits>, user: UserRecord): string | undefined {
  const max = limits.maxRoomsJoined;
  if ((state.memberships.get(user.id)?.size ?? 0) < max) return undefined;
  return `An account may be in at most ${max} rooms; leave one first.`;
}

type RoomCommand = CommandOf<"rename_room" | "choose_room" | "del_room" | "exit_room">;

/** The room a command names, or the `not_found` reply. */
function findRoom(state: ChatState, cmd: RoomCommand): RoomRecord | Outbound[] {
  return state.rooms.get(cmd.room_id) ?? fail(cmd, "not_found", `No room has the id ${cmd.room_id}.`);
}

function nameTaken(state: ChatState, cmd: CommandOf<"create_room" | "rename_room">, except?: RoomId): Outbound[] | undefined {
  const holder = state.roomByName.get(nameKey(cmd.room_name));
  if (holder === undefined || holder === except) return undefined;
  return fail(cmd, "name_taken", `Another room is already called ${JSON.stringify(cmd.room_name)} (names are compared ignoring case, width and invisible characters).`);
}

export function createRoom(state: ChatState, cmd: CommandOf<"create_room">, fx: Effects, limits: Readonly<Limits>): Outbound[] {
  const taken = nameTaken(state, cmd);
  if (taken) return taken;
  const owner = accountOf(state, cmd.conn);
  const max = limits.maxRoomsPerAccount;
  if ((state.owned.get(owner.id)?.size ?? 0) >= max) {
    return fail(cmd, "limit_reached", `An account may own at most ${max} rooms; delete one first.`);
  }
  const joinedTooMany = joinedLimit(state, limits, owner);
  if (joinedTooMany) return fail(cmd, "limit_reached", joinedTooMany);
  const room: RoomRecord = { id: cmd.roomId, name: cmd.room_name, ownerId: owner.id, members: new Set([owner.id]) };
  state.rooms.set(room.id, room);
  indexRoomName(state, room);
  addTo(state.memberships, owner.id, room.id);
  addTo(state.owned, owner.id, room.id);
  touch(fx, owner);
  putRoom(fx, room);
  record(fx, { type: "member_added", roomId: room.id, userId: owner.id });
  return [
    reply(cmd, "create_room", { room: roomView(room) }),
    { to: { kind: "everyone" }, event: "room_created", data: { room: roomView(room), by: userView(owner) } },
  ];
}

export function renameRoom(state: ChatState, cmd: CommandOf<"rename_room">, fx: Effects): Outbound[] {
  const room = findRoom(state, cmd);
  if (Array.isArray(room)) return room;
  const user = accountOf(state, cmd.conn);
  if (room.ownerId !== user.id) return fail(cmd, "forbidden", "Only the room's owner may rename it.");
  const taken = nameTaken(state, cmd, room.id);
  if (taken) return taken;
  unindexRoomName(state, room);
  room.name = cmd.room_name;
  indexRoomName(state, room);
  putRoom(fx, room);
  return [
    reply(cmd, "rename_room", { room: roomView(room) }),
    { to: { kind: "everyone" }, event: "room_renamed", data: { room: roomView(room), by: userView(user) } },
  ];
}

export function chooseRoom(state: ChatState, cmd: CommandOf<"choose_room">, fx: Effects, limits: Readonly<Limits>): Outbound[] {
  const room = findRoom(state, cmd);
  if (Array.isArray(room)) return room;
  const user = accountOf(state, cmd.conn);
  const history = (state.recent.get(room.id) ?? []).map((m) => currentMessage(state, m));
  if (room.members.has(user.id)) return [reply(cmd, "choose_room", { room: roomView(room), history })];
  const joinedTooMany = joinedLimit(state, limits, user);
  if (joinedTooMany) return fail(cmd, "limit_reached", joinedTooMany);
  const max = limits.maxRoomMembers;
  if (room.members.size >= max) return fail(cmd, "limit_reached", `The room is full (${max} members).`);
  room.members.add(user.id);
  addTo(state.memberships, user.id, room.id);
  touch(fx, user);
  record(fx, { type: "member_added", roomId: room.id, userId: user.id });
  return [
    reply(cmd, "choose_room", { room: roomView(room), history }),
    { to: { kind: "room", room: room.id }, event: "member_joined", data: { room_id: room.id, user: userView(user) } },
  ];
}

export function showRooms(state: ChatState, cmd: CommandOf<"show_rooms">): Outbound[] {
  const user = accountOf(state, cmd.conn);
  const joined = state.memberships.get(user.id);
  const order = state.roomOrder;
  // Names are unique under nameKey, so "after this name" is exact and stable between pages.
  const from = cmd.after === undefined ? 0 : upperBound(order, nameKey(cmd.after), itself);
  const keys = order.slice(from, from + cmd.limit);
  const rooms = keys.map((key) => {
    const room = state.rooms.get(state.roomByName.get(key)!)!;
    return roomListing(room, joined?.has(room.id) ?? false);
  });
  return [reply(cmd, "show_rooms", { rooms, has_more: from + keys.length < order.length })];
}

export function delRoom(state: ChatState, cmd: CommandOf<"del_room">, fx: Effects): Outbound[] {
  const room = findRoom(state, cmd);
  if (Array.isArray(room)) return room;
  const user = accountOf(state, cmd.conn);
  if (room.ownerId !== user.id) return fail(cmd, "forbidden", "Only the room's owner may delete it.");
  return [reply(cmd, "del_room", { room_id: room.id }), ...deleteRoom(state, fx, room.id, userView(user))];
}

export function exitRoom(state: ChatState, cmd: CommandOf<"exit_room">, fx: Effects): Outbound[] {
  const room = findRoom(state, cmd);
  if (Array.isArray(room)) return room;
  const user = accountOf(state, cmd.conn);
  if (!room.members.has(user.id)) return fail(cmd, "not_member", "You are not a member of that room.");
  return [reply(cmd, "exit_room", { room_id: room.id }), ...leaveRoom(state, fx, room.id, user, { except: cmd.conn })];
}
