/** A person as drawn: a coloured initial (the colour comes from the account id) and a name that opens a conversation. */
import { person } from "../model/select.js";
import type { State } from "../model/state.js";
import { displayName, hueOf, initial, nameTitle } from "../text/names.js";
import type { Actions } from "./actions.js";
import { h } from "./dom.js";

export function avatar(state: State, id: string, withPresence = false): HTMLElement {
  const p = person(state, id);
  const dot = withPresence && p.online !== undefined && !p.deleted ? h("span", { class: `presence ${p.online ? "online" : "offline"}` }) : null;
  return h("span", { class: `avatar hue-${p.deleted ? "gone" : hueOf(id)}`, "aria-hidden": "true" }, initial(p), dot);
}

/** The name: a button that writes to them, just text for yourself ("(you)") and for a deleted account. */
export function nameOf(state: State, actions: Actions, id: string): HTMLElement {
  const p = person(state, id);
  if (p.deleted) return h("span", { class: "name gone", title: "This account was deleted" }, displayName(p));
  if (id === state.me?.id) return h("span", { class: "name self", title: nameTitle(p) }, `${displayName(p)} (you)`);
  return h("button", { type: "button", class: "name", title: `${nameTitle(p)} · write to them directly`, onclick: () => actions.writeTo(id) }, displayName(p));
}

/** Enough to tell when a drawn name must change. */
export function personSig(state: State, id: string): string {
  const p = person(state, id);
  return `${p.username ?? ""}|${p.deleted ? 1 : 0}|${p.online === undefined ? "" : p.online ? 1 : 0}|${id === state.me?.id ? 1 : 0}`;
}
