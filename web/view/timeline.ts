/** Draws the open conversation's lines and keeps the reader's place: at the bottom when they were there, else where they were. */
import type { State } from "../model/state.js";
import { timeline } from "../model/timeline.js";
import type { Actions } from "./actions.js";
import { byId, reconcile, setHidden, setText } from "./dom.js";
import { rowItem } from "./messageRow.js";

/** Closer than this to the bottom counts as "at the bottom". */
const NEAR_BOTTOM = 48;

let drawnKey: string | null = null;
let drawnPending = 0;

export function isNearBottom(log: HTMLElement): boolean {
  return log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM;
}

export function drawTimeline(state: State, actions: Actions, emptyText: string, blocked: boolean): void {
  const log = byId("log", HTMLDivElement);
  const list = byId("messages", HTMLOListElement);
  const conv = state.convs[state.current];
  const switched = drawnKey !== state.current;
  const fromBottom = log.scrollHeight - log.scrollTop - log.clientHeight;
  const atBottom = fromBottom < NEAR_BOTTOM;

  const rows = blocked ? [] : timeline(state, state.current);
  reconcile(list, rows.map((row) => rowItem(state, actions, row)));

  const older = byId("older", HTMLButtonElement);
  const hadFocus = document.activeElement === older;
  setHidden(older, blocked || !conv?.hasMore);
  // aria-disabled rather than disabled: a disabled button would drop the keyboard focus.
  older.setAttribute("aria-disabled", String(conv?.loading ?? false));
  setText(older, conv?.loading ? "Loading…" : "Load older messages");
  if (hadFocus && older.hidden) log.focus();

  const empty = byId("log-empty", HTMLParagraphElement);
  setHidden(empty, blocked || rows.length > 0 || !conv?.loaded);
  setText(empty, emptyText);

  // A message of one's own just written: show it, wherever the reader was.
  const pending = state.outbox.filter((o) => o.key === state.current).length;
  const wrote = pending > drawnPending && !switched;
  drawnPending = pending;
  drawnKey = state.current;
  if (switched || atBottom || wrote) log.scrollTop = log.scrollHeight;
  else log.scrollTop = log.scrollHeight - log.clientHeight - fromBottom;
}
