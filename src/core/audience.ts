/** Resolves an audience to connection ids, at O(recipients) through the state's indexes. */
import type { ChatState, ConnId } from "./model.js";
import type { Audience } from "./outbound.js";

export function forEachConn(state: ChatState, to: Audience, visit: (conn: ConnId) => void): void {
  switch (to.kind) {
    case "conn":
      if (state.connections.has(to.conn)) visit(to.conn);
      return;
    case "users": {
      const seen = new Set<ConnId>();
      for (const user of to.users) {
        for (const conn of state.sessions.get(user) ?? []) {
          if (conn === to.except || seen.has(conn)) continue;
          seen.add(conn);
          visit(conn);
        }
      }
      return;
    }
    case "room": {
      const room = state.rooms.get(to.room);
      if (!room) return;
      for (const member of room.members) {
        for (const conn of state.sessions.get(member) ?? []) visit(conn);
      }
      return;
    }
    case "everyone":
      for (const conn of state.connections.keys()) visit(conn);
      return;
    default: {
      const unhandled: never = to;
      throw new Error(`unhandled audience ${JSON.stringify(unhandled)}`);
    }
  }
}
