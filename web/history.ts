/**
 * A conversation's history from the server: the newest page when it is first opened,
 * and older pages as the reader scrolls back.
 */
import type { RequestDataMap } from "../src/client/index.js";
import { byId } from "./dom.js";
import { addMessage, conversationFor, oldestMessageId, parseKey, prependPage, type ConvKey } from "./model.js";
import { attempt } from "./notices.js";
import type { Page } from "./page.js";

/** Messages asked for at a time; a room's history on joining counts as more to come when it is this long. */
export const HISTORY_PAGE = 50;

function historyTarget(key: ConvKey): RequestDataMap["history"] | null {
  const t = parseKey(key);
  if (!t) return null;
  if (t.kind === "lobby") return { room_id: "all" };
  if (t.kind === "room") return { room_id: t.id };
  return { user_id: t.id };
}

/** The newest page of `key`, or with `older` the page before its oldest message. */
export async function loadHistory(page: Page, key: ConvKey, older: boolean): Promise<void> {
  const target = historyTarget(key);
  const conv = conversationFor(page.state.convs, key);
  if (!target || conv.loading) return;
  const before = older ? oldestMessageId(conv) : undefined;
  conv.loading = true;
  page.drawIfCurrent(key);
  const reply = await attempt(older ? "load older messages" : "load the messages", () =>
    page.client.request("history", { ...target, limit: HISTORY_PAGE, ...(before === undefined ? {} : { before }) }),
  );
  conv.loading = false;
  if (reply) {
    if (older) prependPage(conv, reply.messages);
    else for (const m of reply.messages) addMessage(conv, m);
    conv.loaded = true;
    conv.hasMore = reply.has_more;
  }
  page.drawIfCurrent(key, !older);
}

export function wireScrollBack(page: Page): void {
  const { state } = page;
  byId("older", HTMLButtonElement).addEventListener("click", () => void loadHistory(page, state.current, true));
  const log = byId("log", HTMLDivElement);
  let atBottom = true;
  log.addEventListener("scroll", () => {
    atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
    const conv = state.convs.get(state.current);
    if (log.scrollTop < 40 && conv?.hasMore && !conv.loading) void loadHistory(page, state.current, true);
  });
  // A notice above, or the phone's keyboard, shrinks the log: keep the newest message in sight.
  new ResizeObserver(() => {
    if (atBottom) log.scrollTop = log.scrollHeight;
  }).observe(log);
}
