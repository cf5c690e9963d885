/** Wire views of state records. */
import type { Room, RoomListing, User } from "../protocol/wire.generated.js";
import { nameKey, type RoomRecord, type UserRecord } from "./model.js";

export function userView(u: UserRecord): User {
  return { id: u.id, username: u.username };
}

export function roomView(r: RoomRecord): Room {
  return { id: r.id, name: r.name, owner_id: r.ownerId, member_count: r.members.size };
}

export function roomListing(r: RoomRecord, joined: boolean): RoomListing {
  return { ...roomView(r), joined };
}

/** Rooms by name ignoring case, then by id, so that listings are stable. */
export function byName(a: RoomRecord, b: RoomRecord): number {
  const x = nameKey(a.name);
  const y = nameKey(b.name);
  if (x !== y) return x < y ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
