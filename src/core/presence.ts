/**
 * Presence: an account is online while it has a connection. When a command takes an
 * account from offline to online or back, the accounts that share a room or a direct
 * conversation with it hear `presence`; `room_members` tells where everyone stands.
 */
import type { CommandOf } from "./commands.js";
import { itself, upperBound } from "./sorted.js";
import type { ChatState, UserId } from "./model.js";
import type { Outbound } from "./outbound.js";
import { accountOf, fail, reply } from "./step.js";
import { userView } from "./views.js";

/** The accounts that share a room or a direct conversation with `userId`, itself left out. */
function acquaintances(state: ChatState, userId: UserId): Set<UserId> {
  const audience = new Set<UserId>();
  for (const roomId of state.memberships.get(userId) ?? []) {
    for (const member of state.rooms.get(roomId)?.members ?? []) audience.add(member);
  }
  for (const peer of state.directPeers.get(userId) ?? []) audience.add(peer);
  audience.delete(userId);
  return audience;
}

/** The `presence` pushes for the accounts whose being online the command changed; `noted` has whether each was online before it. */
export function presencePushes(state: ChatState, noted: ReadonlyMap<UserId, boolean>): Outbound[] {
  const out: Outbound[] = [];
  for (const [userId, before] of noted) {
    const user = state.users.get(userId);
    const online = state.sessions.has(userId);
    if (!user || online === before) continue;
    const audience = acquaintances(state, userId);
    if (audience.size > 0) out.push({ to: { kind: "users", users: [...audience] }, event: "presence", data: { user: userView(user), online } });
  }
  return out;
}

export function roomMembers(state: ChatState, cmd: CommandOf<"room_members">): Outbound[] {
  const user = accountOf(state, cmd.conn);
  const room = state.rooms.get(cmd.room_id);
  if (!room) return fail(cmd, "not_found", `No room has the id ${cmd.room_id}.`);
  if (!room.members.has(user.id)) return fail(cmd, "not_member", "Join the room first (choose_room).");
  const ids = [...room.members].sort();
  const from = cmd.after === undefined ? 0 : upperBound(ids, cmd.after, itself);
  const page = ids.slice(from, from + cmd.limit);
  const members = page.map((id) => ({ ...userView(state.users.get(id)!), online: state.sessions.has(id) }));
  return [reply(cmd, "room_members", { room_id: room.id, members, has_more: from + page.length < ids.length })];
}
