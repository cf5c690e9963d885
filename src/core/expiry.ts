/**
 * Message retention as the state sees it: the store deletes expired messages, and
 * the recent messages the state keeps for `choose_room` drop them as well, so that
 * no reply shows a message that `history` no longer has.
 */
import type { ChatState } from "./model.js";

export interface Expiry {
  /** Messages with a lower id (UUIDv7, so older) are expired. */
  beforeId?: string;
  /** Only this many newest messages of each conversation are kept. */
  keepPerConversation?: number;
}

export function expireRecent(state: ChatState, expiry: Expiry): void {
  for (const [key, conversation] of state.recent) {
    let drop = 0;
    if (expiry.beforeId !== undefined) while (drop < conversation.length && conversation[drop]!.id < expiry.beforeId) drop++;
    if (expiry.keepPerConversation) drop = Math.max(drop, conversation.length - expiry.keepPerConversation);
    if (drop === 0) continue;
    conversation.splice(0, drop);
    if (conversation.length === 0) state.recent.delete(key);
  }
}
