/**
 * Changes: the durable facts a command established, as plain data, in the order
 * they happened. `reduce` returns them beside its outbound messages; a store
 * writes them and can rebuild the same state from what it wrote. Sessions (which
 * connection is signed into which account) and pristine guest accounts are changes
 * of their own: a single server drops them, since neither outlives its process, while
 * a cluster node stores them, because other nodes' connections outlive it.
 */
import type { Message } from "../protocol/wire.generated.js";
import type { Effects } from "./effects.js";
import type { ConnId, MessageId, RoomId, RoomRecord, UserId, UserRecord } from "./model.js";

export type Change =
  /** `renamedFrom`: see UserRecord; absent once told. */
  | { type: "user_put"; id: UserId; username: string | null; tokenHash: string; renamedFrom?: string }
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
  | { type: "message_added"; key: string; message: Message }
  /** The message as it is now, replacing the stored one of the same id. */
  | { type: "message_edited"; key: string; message: Message }
  | { type: "message_deleted"; key: string; id: MessageId }
  | { type: "session_put"; conn: ConnId; userId: UserId }
  | { type: "session_deleted"; conn: ConnId }
  /** A pristine account (nothing refers to it yet), or its new token hash. */
  | { type: "guest_put"; id: UserId; tokenHash: string }
  | { type: "guest_deleted"; id: UserId };

export type SessionChange = Extract<Change, { type: "session_put" | "session_deleted" | "guest_put" | "guest_deleted" }>;

export function isSessionChange(c: Change): c is SessionChange {
  return c.type === "session_put" || c.type === "session_deleted" || c.type === "guest_put" || c.type === "guest_deleted";
}

export function record(fx: Effects, change: Change): void {
  fx.changes.push(change);
}

export function putUser(fx: Effects, u: UserRecord): void {
  const change: Change = { type: "user_put", id: u.id, username: u.username, tokenHash: u.tokenHash };
  if (u.renamedFrom !== undefined) change.renamedFrom = u.renamedFrom;
  record(fx, change);
}

export function putRoom(fx: Effects, r: RoomRecord): void {
  record(fx, { type: "room_put", id: r.id, name: r.name, ownerId: r.ownerId });
}

/** Marks an account as referred to; the first time, it becomes durable. */
export function touch(fx: Effects, u: UserRecord): void {
  if (u.touched) return;
  u.touched = true;
  putUser(fx, u);
}
