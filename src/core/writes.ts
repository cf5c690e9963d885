/**
 * What a command may write, judged before it is applied: whether it may change
 * durable state at all (while the store cannot be written the shell refuses those
 * and serves the rest), and which accounts it may make permanent (for quotas).
 * Property tests check both against what `reduce` then does.
 */
import type { Command } from "./commands.js";
import type { ChatState, UserId, UserRecord } from "./model.js";

export function mayWrite(state: ChatState, cmd: Command): boolean {
  switch (cmd.type) {
    case "connect":
    case "disconnect":
    case "node_gone":
    case "auth":
    case "show_rooms":
    case "room_members":
    case "typing":
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
    case "edit_message":
    case "delete_message":
      return true;
    default: {
      const unhandled: never = cmd;
      throw new Error(`unhandled command ${JSON.stringify(unhandled)}`);
    }
  }
}

/**
 * The pristine accounts a command would make permanent if it succeeds: the per-address
 * quota on new accounts is judged on these before the command is applied.
 */
export function accountsMadePermanent(state: ChatState, cmd: Command): UserId[] {
  const requester = state.users.get(state.connections.get(cmd.conn)?.userId ?? "");
  const pristine = (u: UserRecord | undefined): UserId[] => (u && !u.touched ? [u.id] : []);
  switch (cmd.type) {
    case "connect":
    case "disconnect":
    case "node_gone":
    case "auth":
    case "show_rooms":
    case "room_members":
    case "typing":
    case "ping":
    case "sign_out":
    case "replace_token":
    case "del_user":
    case "rename_room":
    case "del_room":
    case "exit_room":
    case "edit_message":
    case "delete_message":
      return [];
    case "change_name":
    case "create_room":
      return pristine(requester);
    case "choose_room": {
      const room = state.rooms.get(cmd.room_id);
      return room && requester && !room.members.has(requester.id) ? pristine(requester) : [];
    }
    case "send_message": {
      // A direct message makes its pristine recipient permanent too.
      if (!("user_id" in cmd.target) || cmd.target.user_id === requester?.id) return pristine(requester);
      return [...pristine(requester), ...pristine(state.users.get(cmd.target.user_id))];
    }
    default: {
      const unhandled: never = cmd;
      throw new Error(`unhandled command ${JSON.stringify(unhandled)}`);
    }
  }
}
