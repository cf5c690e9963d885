/**
 * Changes: the durable facts a command established, as plain data, in the order
 * they happened. `reduce` returns them beside its outbound messages; a store
 * writes them and can rebuild the same state from what it wrote. Connections and
 * pristine accounts are deliberately absent: neither outlives the process.
 */
import type { Message } from "../protocol/wire.generated.js";
import type { ChatState, RoomId, RoomRecord, UserId, UserRecord } from "./model.js";

export type Change =
  | { type: "user_put"; id: UserId; username: string | null; tokenHash: string }
  | { type: "user_deleted"; id: UserId }
  | { type: "room_put"; id: RoomId; name: string; ownerId: UserId }
  /** Also ends the room's memberships and deletes its messages. */
  | { type: "room_deleted"; id: RoomId }
  | { type: "member_added"; roomId: RoomId; userId: UserId }
  | { type: "member_removed"; roomId: RoomId; userId: UserId }
  | { type: "direct_pair_added"; a: UserId; b: UserId }
  /** Deletes the pair's direct messages too. */
  | { type: "direct_pair_deleted"; a: UserId; b: UserId }
  /** `key` is the room id, LOBBY or directKey(a, b). */
  | { type: "message_added"; key: string; message: Message };

export function record(state: ChatState, change: Change): void {
  state.journal.push(change);
}

export function putUser(state: ChatState, u: UserRecord): void {
  record(state, { type: "user_put", id: u.id, username: u.username, tokenHash: u.tokenHash });
}

export function putRoom(state: ChatState, r: RoomRecord): void {
  record(state, { type: "room_put", id: r.id, name: r.name, ownerId: r.ownerId });
}

/** Marks an account as referred to; the first time, it becomes durable. */
export function touch(state: ChatState, u: UserRecord): void {
  if (u.touched) return;
  u.touched = true;
  putUser(state, u);
}
