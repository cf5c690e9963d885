/** Messages: send_message (room, lobby, direct) and history. */
import type { Message } from "../protocol/wire.generated.js";
import type { CommandOf } from "./commands.js";
import { page } from "./history.js";
import { addTo, directKey, LOBBY, type ChatState, type Conversation } from "./model.js";
import type { Audience, Outbound } from "./outbound.js";
import { accountOf, fail, reply } from "./step.js";
import { userView } from "./views.js";

function append(state: ChatState, key: string, message: Message): void {
  const conversation: Conversation | undefined = state.conversations.get(key);
  if (conversation) conversation.push(message);
  else state.conversations.set(key, [message]);
}

type Resolved = { key: string; to: Audience } | { error: Outbound[] };

/** Where a message goes, or why it may not: the checks shared by send_message and history. */
function resolveTarget(state: ChatState, cmd: CommandOf<"send_message" | "history">): Resolved {
  const user = accountOf(state, cmd.conn);
  if ("user_id" in cmd.target) {
    const peer = cmd.target.user_id;
    if (!state.users.has(peer)) return { error: fail(cmd, "not_found", `No user has the id ${peer}.`) };
    return { key: directKey(user.id, peer), to: { kind: "users", users: [peer, user.id], except: cmd.conn } };
  }
  const roomId = cmd.target.room_id;
  if (roomId === LOBBY) return { key: LOBBY, to: { kind: "everyone" } };
  const room = state.rooms.get(roomId);
  if (!room) return { error: fail(cmd, "not_found", `No room has the id ${roomId}.`) };
  if (!room.members.has(user.id)) return { error: fail(cmd, "not_member", "Join the room first (choose_room).") };
  return { key: roomId, to: { kind: "room", room: roomId } };
}

export function sendMessage(state: ChatState, cmd: CommandOf<"send_message">): Outbound[] {
  const resolved = resolveTarget(state, cmd);
  if ("error" in resolved) return resolved.error;
  const sender = accountOf(state, cmd.conn);
  const base = { id: cmd.messageId, from: userView(sender), text: cmd.text, ts: cmd.ts };
  let message: Message;
  if ("user_id" in cmd.target) {
    const peer = cmd.target.user_id;
    message = { ...base, to_user_id: peer };
    addTo(state.directPeers, sender.id, peer);
    addTo(state.directPeers, peer, sender.id);
    state.users.get(peer)!.touched = true;
  } else {
    message = { ...base, room_id: cmd.target.room_id };
  }
  sender.touched = true;
  append(state, resolved.key, message);
  return [reply(cmd, "send_message", { message }), { to: resolved.to, event: "message", data: message }];
}

export function history(state: ChatState, cmd: CommandOf<"history">): Outbound[] {
  const resolved = resolveTarget(state, cmd);
  if ("error" in resolved) return resolved.error;
  return [reply(cmd, "history", page(state.conversations.get(resolved.key), cmd.limit, cmd.before))];
}
