/** Messages: send_message (room, lobby, direct), and who may read which conversation. */
import { errorData } from "../protocol/errors.js";
import type { ErrorPush, Message } from "../protocol/wire.generated.js";
import { record, touch } from "./changes.js";
import type { CommandOf, Target } from "./commands.js";
import type { Effects } from "./effects.js";
import { addTo, directKey, LOBBY, trimRecent, type ChatState, type ConnId, type UserRecord } from "./model.js";
import type { Audience, Outbound } from "./outbound.js";
import { accountOf, fail, reply } from "./step.js";
import { currentMessage, userView } from "./views.js";

function remember(state: ChatState, key: string, message: Message): void {
  const recent = state.recent.get(key);
  if (!recent) return void state.recent.set(key, [message]);
  recent.push(message);
  trimRecent(recent);
}

/** The conversation a target names, as seen by the connection's account (returned too), or why it may not use it. */
export function conversationOf(
  state: ChatState,
  conn: ConnId,
  target: Target,
): { key: string; to: Audience; user: UserRecord } | { error: ErrorPush } {
  const user = accountOf(state, conn);
  if ("user_id" in target) {
    const peer = target.user_id;
    if (!state.users.has(peer)) return { error: errorData("not_found", undefined, `No user has the id ${peer}.`) };
    return { key: directKey(user.id, peer), to: { kind: "users", users: [peer, user.id], except: conn }, user };
  }
  const roomId = target.room_id;
  if (roomId === LOBBY) return { key: LOBBY, to: { kind: "everyone" }, user };
  const room = state.rooms.get(roomId);
  if (!room) return { error: errorData("not_found", undefined, `No room has the id ${roomId}.`) };
  if (!room.members.has(user.id)) return { error: errorData("not_member", undefined, "Join the room first (choose_room).") };
  return { key: roomId, to: { kind: "room", room: roomId }, user };
}

/** Tells the others in a conversation that the requester is typing; changes nothing. */
export function typing(state: ChatState, cmd: CommandOf<"typing">): Outbound[] {
  const conversation = conversationOf(state, cmd.conn, cmd.target);
  if ("error" in conversation) return fail(cmd, conversation.error.code, conversation.error.message);
  const user = conversation.user;
  const out: Outbound[] = [reply(cmd, "typing", "user_id" in cmd.target ? { user_id: cmd.target.user_id } : { room_id: cmd.target.room_id })];
  if ("user_id" in cmd.target) {
    if (cmd.target.user_id !== user.id) out.push({ to: { kind: "users", users: [cmd.target.user_id] }, event: "user_typing", data: { user: userView(user) } });
    return out;
  }
  const others = [...(state.rooms.get(cmd.target.room_id)?.members ?? [])].filter((m) => m !== user.id);
  if (others.length > 0) out.push({ to: { kind: "users", users: others }, event: "user_typing", data: { user: userView(user), room_id: cmd.target.room_id } });
  return out;
}

/** Who may read the conversation of `key` now: where a change to one of its messages goes. */
function readersOf(key: string, message: Message, except: ConnId): Audience {
  if (key === LOBBY) return { kind: "everyone" };
  if ("room_id" in message) return { kind: "room", room: key };
  return { kind: "users", users: [message.from.id, message.to_user_id], except };
}

/** Replaces (or, with `undefined`, drops) a message among a conversation's recent ones. */
function reviseRecent(state: ChatState, key: string, id: string, message: Message | undefined): void {
  const recent = state.recent.get(key);
  const i = recent?.findIndex((m) => m.id === id) ?? -1;
  if (!recent || i < 0) return;
  if (message) recent[i] = message;
  else recent.splice(i, 1);
  if (recent.length === 0) state.recent.delete(key);
}

export function editMessage(state: ChatState, cmd: CommandOf<"edit_message">, fx: Effects): Outbound[] {
  const user = accountOf(state, cmd.conn);
  const found = cmd.found;
  if (!found) return fail(cmd, "not_found", `No message has the id ${cmd.message_id}.`);
  if (found.message.from.id !== user.id) return fail(cmd, "forbidden", "Only its author may edit a message.");
  const message: Message = { ...found.message, text: cmd.text, edited_ts: cmd.ts };
  record(fx, { type: "message_edited", key: found.key, message });
  reviseRecent(state, found.key, message.id, message);
  trimRecent(state.recent.get(found.key) ?? []);
  const shown = currentMessage(state, message);
  return [reply(cmd, "edit_message", { message: shown }), { to: readersOf(found.key, message, cmd.conn), event: "message_edited", data: { message: shown } }];
}

export function deleteMessage(state: ChatState, cmd: CommandOf<"delete_message">, fx: Effects): Outbound[] {
  const user = accountOf(state, cmd.conn);
  const found = cmd.found;
  if (!found) return fail(cmd, "not_found", `No message has the id ${cmd.message_id}.`);
  const { key, message } = found;
  const ownsRoom = "room_id" in message && state.rooms.get(key)?.ownerId === user.id;
  if (message.from.id !== user.id && !ownsRoom) return fail(cmd, "forbidden", "Only its author, or the owner of its room, may delete a message.");
  record(fx, { type: "message_deleted", key, id: message.id });
  reviseRecent(state, key, message.id, undefined);
  const where = "room_id" in message ? { room_id: message.room_id } : { from_user_id: message.from.id, to_user_id: message.to_user_id };
  return [
    reply(cmd, "delete_message", { message_id: message.id }),
    { to: readersOf(key, message, cmd.conn), event: "message_deleted", data: { message_id: message.id, ...where } },
  ];
}

export function sendMessage(state: ChatState, cmd: CommandOf<"send_message">, fx: Effects): Outbound[] {
  // A repeat of a send already made: its original, and nothing sent or stored again.
  if (cmd.duplicateOf) return [reply(cmd, "send_message", { message: cmd.duplicateOf })];
  const conversation = conversationOf(state, cmd.conn, cmd.target);
  if ("error" in conversation) return fail(cmd, conversation.error.code, conversation.error.message);
  const sender = conversation.user;
  touch(fx, sender);
  const base = { id: cmd.messageId, from: userView(sender), text: cmd.text, ts: cmd.ts, ...(cmd.clientMsgId === undefined ? {} : { client_msg_id: cmd.clientMsgId }) };
  let message: Message;
  if ("user_id" in cmd.target) {
    const peer = state.users.get(cmd.target.user_id)!;
    touch(fx, peer);
    message = { ...base, to_user_id: peer.id };
    if (!state.directPeers.get(sender.id)?.has(peer.id)) {
      addTo(state.directPeers, sender.id, peer.id);
      addTo(state.directPeers, peer.id, sender.id);
      record(fx, { type: "direct_pair_added", a: sender.id, b: peer.id });
    }
  } else {
    message = { ...base, room_id: cmd.target.room_id };
    remember(state, conversation.key, message);
  }
  record(fx, { type: "message_added", key: conversation.key, message });
  return [reply(cmd, "send_message", { message }), { to: conversation.to, event: "message", data: message }];
}
