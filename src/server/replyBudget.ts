/**
 * The size budget of one reply: a history page that would serialise to more than
 * the budget keeps its newest messages and says `has_more`, so the client pages on
 * with `before` as usual. One request can then never queue more than the budget.
 */
import type { HistoryReply } from "../protocol/wire.generated.js";

/** Room for the envelope around the messages: event, ref, has_more, brackets. */
const ENVELOPE_BYTES = 256;

export function fitPage(page: HistoryReply, maxBytes: number): HistoryReply {
  let bytes = ENVELOPE_BYTES;
  let keep = 0;
  // Newest first: they are the ones next to `before`, so paging on loses nothing.
  for (let i = page.messages.length - 1; i >= 0; i--) {
    bytes += Buffer.byteLength(JSON.stringify(page.messages[i])) + 1;
    // Always one message, so that paging makes progress whatever the budget.
    if (bytes > maxBytes && keep > 0) break;
    keep++;
  }
  if (keep === page.messages.length) return page;
  return { messages: page.messages.slice(page.messages.length - keep), has_more: true };
}
