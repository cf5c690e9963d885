/**
 * The room-name indexes: name key → room (the uniqueness rule) and the
 * names in sorted order, so that a page of `show_rooms` costs O(log rooms + page)
 * rather than a sort of every room per request.
 */
import type { ChatState, RoomRecord } from "./model.js";
import { nameKey } from "./names.js";
import { itself, lowerBound } from "./sorted.js";

/** Builds both indexes from the rooms at once: one sort, where adding names one by one would cost O(rooms²). */
export function indexRoomNames(state: ChatState): void {
  for (const room of state.rooms.values()) state.roomByName.set(nameKey(room.name), room.id);
  state.roomOrder = [...state.roomByName.keys()].sort();
}

export function indexRoomName(state: ChatState, room: RoomRecord): void {
  const key = nameKey(room.name);
  state.roomByName.set(key, room.id);
  state.roomOrder.splice(lowerBound(state.roomOrder, key, itself), 0, key);
}

export function unindexRoomName(state: ChatState, room: RoomRecord): void {
  const key = nameKey(room.name);
  state.roomByName.delete(key);
  const at = lowerBound(state.roomOrder, key, itself);
  if (state.roomOrder[at] === key) state.roomOrder.splice(at, 1);
}
