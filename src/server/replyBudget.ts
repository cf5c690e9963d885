/**
 * The size budget of one reply: a reply whose list would serialise to more than the
 * budget keeps what the client needs first and says there is more, so one request
 * can never queue more than the budget. `history` pages and `choose_room`'s recent
 * messages keep their newest messages (page on with `before`); `show_rooms` keeps
 * its first rooms (page on with `after`). `auth`'s room list is bounded instead by
 * the rooms an account may join.
 */
import type { ChooseRoomReply, ConversationsReply, HistoryReply, RoomMembersReply, ShowRoomsReply } from "../protocol/wire.generated.js";

/** Room for the envelope around the list: event, a ref of up to 64 escaped characters, the other fields. */
const ENVELOPE_BYTES = 1024;

/**
 * The reply's frame, cut by `fit` only when it is over the budget, so that a reply that
 * fits (nearly all) is serialised once and never measured item by item.
 */
export function withinBudget<T>(frame: (data: T) => string, data: T, maxBytes: number, fit: (data: T, maxBytes: number) => T): string {
  const text = frame(data);
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so short frames need no count.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return text;
  return frame(fit(data, maxBytes));
}

/** How many of `items`, taken from the end (`fromEnd`) or the start, fit in `maxBytes`; always at least one. */
function fitting(items: readonly unknown[], maxBytes: number, fromEnd: boolean): number {
  let bytes = ENVELOPE_BYTES;
  let keep = 0;
  for (let n = 0; n < items.length; n++) {
    const item = items[fromEnd ? items.length - 1 - n : n];
    bytes += Buffer.byteLength(JSON.stringify(item)) + 1;
    // At least one, so that paging makes progress whatever the budget.
    if (bytes > maxBytes && keep > 0) break;
    keep++;
  }
  return keep;
}

/**
 * A reply's list cut to what fits, kept from its end (the newest messages) or its start;
 * a reply that pages (`has_more`) then says there is more.
 */
function cutList<R extends object, K extends keyof R>(field: K, fromEnd: boolean): (reply: R, maxBytes: number) => R {
  return (reply, maxBytes) => {
    const items = reply[field] as unknown as readonly unknown[];
    const keep = fitting(items, maxBytes, fromEnd);
    if (keep === items.length) return reply;
    const kept = fromEnd ? items.slice(items.length - keep) : items.slice(0, keep);
    return { ...reply, [field]: kept, ...("has_more" in reply && { has_more: true }) };
  };
}

export const fitPage = cutList<HistoryReply, "messages">("messages", true);
/** A page read forward (`after`) keeps its oldest messages, so that paging on with the last one's id reads the rest. */
export const fitPageAfter = cutList<HistoryReply, "messages">("messages", false);
export const fitRecent = cutList<ChooseRoomReply, "history">("history", true);
export const fitConversations = cutList<ConversationsReply, "conversations">("conversations", false);
export const fitMembers = cutList<RoomMembersReply, "members">("members", false);
export const fitRooms = cutList<ShowRoomsReply, "rooms">("rooms", false);
