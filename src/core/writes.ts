/**
 * Which commands may change durable state. While the store cannot be written the
 * shell refuses these before applying them, and serves the rest; a property test
 * checks that a command judged read-only here never records a change.
 */
import type { Command } from "./commands.js";
import type { ChatState } from "./model.js";

export function mayWrite(state: ChatState, cmd: Command): boolean {
  switch (cmd.type) {
    case "connect":
    case "disconnect":
    case "auth":
    case "show_rooms":
    case "ping":
    case "sign_out":
      return false;
    case "choose_room": {
      // Opening a room one is already in, or one that does not exist, only reads.
      const user = state.connections.get(cmd.conn)?.userId;
      const room = state.rooms.get(cmd.room_id);
      return user !== undefined && room !== undefined && !room.members.has(user);
    }
    case "change_name":
    case "del_user":
    case "send_message":
    case "create_room":
    case "rename_room":
    case "del_room":
    case "exit_room":
    case "replace_token":
      return true;
    default: {
      const unhandled: never = cmd;
      throw new Error(`unhandled command ${JSON.stringify(unhandled)}`);
    }
  }
}
