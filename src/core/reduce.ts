/**
 * The functional core: `reduce(state, command, limits)` applies one command and returns
 * the outbound messages and durable changes it causes. It does no I/O and reads no clock
 * or random source, so the same commands from the same initial state under the same
 * limits always give the same state and the same messages; that is what replay,
 * recovery and cluster mode stand on.
 *
 * It updates `state` in place: copying whole collections per command would make
 * every send cost O(users), and the caller owns the only reference anyway.
 */
import { auth, changeName, connect, delUser, disconnect, nodeGone, replaceToken, signOut } from "./accounts.js";
import type { Change } from "./changes.js";
import type { Command } from "./commands.js";
import { newEffects, type Effects } from "./effects.js";
import type { Limits } from "./limits.js";
import { deleteMessage, editMessage, sendMessage, typing } from "./messages.js";
import { presencePushes, roomMembers } from "./presence.js";
import type { ChatState } from "./model.js";
import type { Outbound } from "./outbound.js";
import { reply } from "./step.js";
import { chooseRoom, createRoom, delRoom, exitRoom, renameRoom, showRooms } from "./rooms.js";

export interface Step {
  out: Outbound[];
  /** The durable changes the command made, in order; empty when it failed or changed nothing durable. */
  changes: Change[];
}

function apply(state: ChatState, cmd: Command, fx: Effects, limits: Readonly<Limits>): Outbound[] {
  // A request from a connection that is already gone (possible once several nodes share state) changes nothing.
  if (cmd.type !== "connect" && cmd.type !== "node_gone" && !state.connections.has(cmd.conn)) return [];
  switch (cmd.type) {
    case "connect":
      return connect(state, cmd, fx);
    case "node_gone":
      return nodeGone(state, cmd, fx);
    case "disconnect":
      return disconnect(state, cmd, fx);
    case "auth":
      return auth(state, cmd, fx, limits);
    case "change_name":
      return changeName(state, cmd, fx);
    case "del_user":
      return delUser(state, cmd, fx);
    case "send_message":
      return sendMessage(state, cmd, fx);
    case "create_room":
      return createRoom(state, cmd, fx, limits);
    case "rename_room":
      return renameRoom(state, cmd, fx);
    case "choose_room":
      return chooseRoom(state, cmd, fx, limits);
    case "show_rooms":
      return showRooms(state, cmd);
    case "room_members":
      return roomMembers(state, cmd);
    case "typing":
      return typing(state, cmd);
    case "edit_message":
      return editMessage(state, cmd, fx);
    case "delete_message":
      return deleteMessage(state, cmd, fx);
    case "del_room":
      return delRoom(state, cmd, fx);
    case "exit_room":
      return exitRoom(state, cmd, fx);
    case "ping":
      return [reply(cmd, "ping", { ts: cmd.ts })];
    case "sign_out":
      return signOut(state, cmd, fx);
    case "replace_token":
      return replaceToken(state, cmd, fx);
    default: {
      const unhandled: never = cmd;
      throw new Error(`unhandled command ${JSON.stringify(unhandled)}`);
    }
  }
}

export function reduce(state: ChatState, cmd: Command, limits: Readonly<Limits>): Step {
  const fx = newEffects();
  const out = apply(state, cmd, fx, limits);
  if (fx.presence.size > 0) out.push(...presencePushes(state, fx.presence));
  return { out, changes: fx.changes };
}
