/** Wire views of state records. */
import type { Message, Room, RoomListing, User } from "../protocol/wire.generated.js";
import type { ChatState, RoomRecord, UserRecord } from "./model.js";
import { nameKey } from "./names.js";

export function userView(u: UserRecord): User {
  return { id: u.id, username: u.username };
}

/** A message as it reads now: `from` with its sender's current name, or marked deleted once the account is gone. */
export function currentMessage(state: ChatState, m: Message): Message {
  const sender = state.users.get(m.from.id);
  const from: User = sender ? userView(sender) : { id: m.from.id, username: null, deleted: true };
  return from.username === m.from.username && from.deleted === m.from.deleted ? m : { ...m, from };
}

export function roomView(r: RoomRecord): Room {
  return { id: r.id, name: r.name, owner_id: r.ownerId, member_count: r.members.size };
}

export function roomListing(r: RoomRecord, joined: boolean): RoomListing {
  return { ...roomView(r), joined };
}

/** Rooms by name as names compare (`nameKey`), then by id, so that listings are stable. */
export function byName(a: RoomRecord, b: RoomRecord): number {
  const x = nameKey(a.name);
  const y = nameKey(b.name);
  if (x !== y) return x < y ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
