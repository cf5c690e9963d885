/** Draws the whole page from the state. Called once after each batch of events; every part is idempotent. */
import { parseKey } from "../model/keys.js";
import { person, titleOf, totalUnread } from "../model/select.js";
import type { State } from "../model/state.js";
import { displayName } from "../text/names.js";
import type { Actions } from "./actions.js";
import { blockedText, drawComposer } from "./composer.js";
import { byId, setText } from "./dom.js";
import { drawHeader } from "./header.js";
import { drawMembers } from "./members.js";
import { drawNotices } from "./notices.js";
import { drawSidebar } from "./sidebar.js";
import { drawStatus } from "./status.js";
import { drawTimeline } from "./timeline.js";

function emptyText(state: State): string {
  const t = parseKey(state.current);
  if (t?.kind === "dm") return `No messages with ${displayName(person(state, t.id))} yet. Write the first one.`;
  if (t?.kind === "room") return "No messages here yet. Write the first one.";
  return "No messages in the lobby yet. Say hello!";
}

export function draw(state: State, actions: Actions): void {
  document.body.dataset.view = state.pane;
  setText(byId("me-name", HTMLElement), state.me ? `${displayName(state.me)}` : "…");
  drawStatus(state);
  drawSidebar(state, actions);
  drawHeader(state, actions);
  drawMembers(state, actions);
  drawComposer(state);
  drawTimeline(state, actions, emptyText(state), blockedText(state) !== null);
  drawNotices(state, actions);
  const unread = totalUnread(state);
  const title = `${titleOf(state, state.current)} · Chat`;
  const full = unread > 0 ? `(${unread > 99 ? "99+" : unread}) ${title}` : title;
  if (document.title !== full) document.title = full;
}
