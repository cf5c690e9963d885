/**
 * After a failed commit the shell reloads the durable state from the store, which
 * undoes every change that was not stored. Connections are never stored, so they
 * are carried over from the state being abandoned, each onto the account it had
 * as far as the store knows.
 */
import { addTo, type ChatState, type ConnId, type UserId } from "./model.js";

/**
 * Puts `old`'s connections into `fresh`. `restore` names connections a failed command
 * moved to fresh guest accounts (del_user, replace_token) and the account they had before.
 */
export function carryConnections(fresh: ChatState, old: ChatState, restore: ReadonlyMap<ConnId, UserId>): void {
  for (const [conn, c] of old.connections) {
    const before = restore.get(conn);
    const userId = before !== undefined && (fresh.users.has(before) || old.users.has(before)) ? before : c.userId;
    if (!fresh.users.has(userId)) {
      const user = old.users.get(userId);
      if (!user) throw new Error(`connection ${conn} has no account to carry over`);
      // Not in the store: whatever made it permanent (a name, say) was not stored either.
      fresh.users.set(userId, { ...user, username: null, touched: false });
    }
    fresh.connections.set(conn, { userId });
    addTo(fresh.sessions, userId, conn);
  }
}
