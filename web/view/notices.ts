/**
 * Notices, each in its place: beside the form or the conversation it is about, one
 * per place (a new one replaces the old), errors until dismissed or until the same
 * thing succeeds, news for a few seconds.
 */
import type { NoticeArea, State } from "../model/state.js";
import type { Actions } from "./actions.js";
import { byId, h, reconcile } from "./dom.js";

const AREAS: readonly NoticeArea[] = ["global", "name", "sidebar", "room", "conversation", "composer", "account"];

export function drawNotices(state: State, actions: Actions): void {
  for (const area of AREAS) {
    const slot = byId(`notice-${area}`, HTMLDivElement);
    const n = state.notices[area];
    reconcile(
      slot,
      n
        ? [
            {
              key: "notice",
              sig: `${n.kind}|${n.text}`,
              make: () =>
                h(
                  "div",
                  { class: `notice notice-${n.kind}`, role: n.kind === "error" ? "alert" : "status", "data-area": area },
                  h("p", {}, n.text),
                  h("button", { type: "button", class: "notice-close", "aria-label": "Dismiss", onclick: () => actions.dispatch({ type: "notice", area, notice: null }) }, "✕"),
                ),
            },
          ]
        : [],
    );
  }
}
