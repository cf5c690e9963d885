/**
 * The room-name indexes: lower-cased name → room (the uniqueness rule) and the
 * names in sorted order, so that a page of `show_rooms` costs O(log rooms + page)
 * rather than a sort of every room per request.
 */
import { nameKey, type ChatState, type RoomRecord } from "./model.js";

/** Index of the first name in `order` not below `key` (binary search). */
export function firstAtOrAfter(order: readonly string[], key: string): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (order[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Builds both indexes from the rooms at once: one sort, where adding names one by one would cost O(rooms²). */
export function indexRoomNames(state: ChatState): void {
  for (const room of state.rooms.values()) state.roomByName.set(nameKey(room.name), room.id);
  state.roomOrder = [...state.roomByName.keys()].sort();
}

export function indexRoomName(state: ChatState, room: RoomRecord): void {
  const key = nameKey(room.name);
  state.roomByName.set(key, room.id);
  state.roomOrder.splice(firstAtOrAfter(state.roomOrder, key), 0, key);
}

export function unindexRoomName(state: ChatState, room: RoomRecord): void {
  const key = nameKey(room.name);
  state.roomByName.delete(key);
  const at = firstAtOrAfter(state.roomOrder, key);
  if (state.roomOrder[at] === key) state.roomOrder.splice(at, 1);
}
