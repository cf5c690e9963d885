/**
 * The functional core: `reduce(state, command)` applies one command and returns the
 * outbound messages it causes. It does no I/O and reads no clock or random source,
 * so the same commands from the same initial state always give the same state and
 * the same messages; that is what replay, recovery and cluster mode stand on.
 *
 * It updates `state` in place: copying whole collections per command would make
 * every send cost O(users), and the caller owns the only reference anyway.
 */
import { auth, changeName, connect, delUser, disconnect, nodeGone, replaceToken, signOut } from "./accounts.js";
import type { Change } from "./changes.js";
import type { Command } from "./commands.js";
import { deleteMessage, editMessage, sendMessage, typing } from "./messages.js";
import { presencePushes, roomMembers } from "./presence.js";
import type { ChatState } from "./model.js";
import type { Outbound } from "./outbound.js";
import { reply } from "./step.js";
import { chooseRoom, createRoom, delRoom, exitRoom, renameRoom, showRooms } from "./rooms.js";

export interface Step {
  state: ChatState;
  out: Outbound[];
  /** The durable changes the command made, in order; empty when it failed or changed nothing durable. */
  changes: Change[];
}

function apply(state: ChatState, cmd: Command): Outbound[] {
  // A request from a connection that is already gone (possible once several nodes share state) changes nothing.
  if (cmd.type !== "connect" && cmd.type !== "node_gone" && !state.connections.has(cmd.conn)) return [];
  switch (cmd.type) {
    case "connect":
      return connect(state, cmd);
    case "node_gone":
      return nodeGone(state, cmd);
    case "disconnect":
      return disconnect(state, cmd);
    case "auth":
      return auth(state, cmd);
    case "change_name":
      return changeName(state, cmd);
    case "del_user":
      return delUser(state, cmd);
    case "send_message":
      return sendMessage(state, cmd);
    case "create_room":
      return createRoom(state, cmd);
    case "rename_room":
      return renameRoom(state, cmd);
    case "choose_room":
      return chooseRoom(state, cmd);
    case "show_rooms":
      return showRooms(state, cmd);
    case "room_members":
      return roomMembers(state, cmd);
    case "typing":
      return typing(state, cmd);
    case "edit_message":
      return editMessage(state, cmd);
    case "delete_message":
      return deleteMessage(state, cmd);
    case "del_room":
      return delRoom(state, cmd);
    case "exit_room":
      return exitRoom(state, cmd);
    case "ping":
      return [reply(cmd, "ping", { ts: cmd.ts })];
    case "sign_out":
      return signOut(state, cmd);
    case "replace_token":
      return replaceToken(state, cmd);
    default: {
      const unhandled: never = cmd;
      throw new Error(`unhandled command ${JSON.stringify(unhandled)}`);
    }
  }
}

export function reduce(state: ChatState, cmd: Command): Step {
  try {
    const out = apply(state, cmd);
    if (state.presence.size > 0) out.push(...presencePushes(state));
    return { state, out, changes: state.journal };
  } finally {
    // Also when a command threw (a bug): its half-recorded changes must not join the next one's.
    state.journal = [];
    state.presence.clear();
  }
}
