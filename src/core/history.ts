/** Paging through a conversation, which is kept sorted by message id. */
import type { Message } from "../protocol/wire.generated.js";
import type { Conversation, MessageId } from "./model.js";

/** Index of the first message whose id is not below `id` (binary search). */
function lowerBound(messages: Conversation, id: MessageId): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (messages[mid]!.id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Page {
  messages: Message[];
  has_more: boolean;
}

/** The newest `limit` messages older than `before` (or the newest overall), oldest first. */
export function page(messages: Conversation | undefined, limit: number, before?: MessageId): Page {
  if (!messages) return { messages: [], has_more: false };
  const end = before === undefined ? messages.length : lowerBound(messages, before);
  const start = Math.max(0, end - limit);
  return { messages: messages.slice(start, end), has_more: start > 0 };
}

export function lastPage(messages: Conversation | undefined, limit: number): Message[] {
  return page(messages, limit).messages;
}
