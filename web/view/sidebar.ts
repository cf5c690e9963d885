/** The lists: the lobby, your rooms, other rooms (with member counts), and direct conversations, each with its unread count. */
import type { RoomListing } from "../../src/client/index.js";
import { dmKey, LOBBY, roomKey, type ConvKey } from "../model/keys.js";
import { isOwner, memberLine, person } from "../model/select.js";
import type { State } from "../model/state.js";
import { displayName, nameTitle } from "../text/names.js";
import type { Actions } from "./actions.js";
import { byId, h, reconcile, setHidden, type Item } from "./dom.js";
import { avatar, personSig } from "./people.js";

function badge(n: number): HTMLElement | null {
  if (n === 0) return null;
  return h("span", { class: "badge", "aria-label": `${n >= 100 ? "more than 99" : n} unread` }, n > 99 ? "99+" : String(n));
}

function convItem(state: State, actions: Actions, key: ConvKey, name: string, meta: string, lead: HTMLElement | null, extraSig = "", title = name): Item {
  const unread = state.convs[key]?.unread ?? 0;
  const current = state.current === key;
  return {
    key,
    sig: JSON.stringify([name, meta, unread, current, extraSig]),
    make: () =>
      h(
        "li",
        {},
        h(
          "button",
          { type: "button", class: "conv", "data-key": key, "aria-current": current ? "page" : undefined, onclick: () => actions.open(key) },
          lead,
          h("span", { class: "conv-name", title }, name),
          h("span", { class: "conv-meta" }, meta),
          badge(unread),
        ),
      ),
  };
}

function roomItem(state: State, actions: Actions, r: RoomListing): Item {
  return convItem(state, actions, roomKey(r.id), r.name, isOwner(state, r) ? `${memberLine(r)} · yours` : memberLine(r), null);
}

const none = (text: string): Item => ({ key: "none", sig: text, make: () => h("li", { class: "none" }, text) });

export function drawSidebar(state: State, actions: Actions): void {
  setHidden(byId("pick-name", HTMLFormElement), state.me === null || state.me.username !== null);

  const lobby = byId("lobby-button", HTMLButtonElement);
  if (state.current === LOBBY) lobby.setAttribute("aria-current", "page");
  else lobby.removeAttribute("aria-current");
  reconcile(lobby, [
    { key: "name", sig: "", make: () => h("span", { class: "conv-name" }, "Lobby") },
    { key: "meta", sig: "", make: () => h("span", { class: "conv-meta" }, "everyone") },
    ...(state.convs[LOBBY]?.unread ? [{ key: "badge", sig: String(state.convs[LOBBY].unread), make: () => badge(state.convs[LOBBY]!.unread)! }] : []),
  ]);

  const rooms = Object.values(state.rooms).sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base" }));
  const mine = rooms.filter((r) => r.joined);
  const others = rooms.filter((r) => !r.joined);
  reconcile(byId("my-rooms", HTMLUListElement), mine.length ? mine.map((r) => roomItem(state, actions, r)) : [none("None yet: create one, or join one below.")]);
  reconcile(byId("other-rooms", HTMLUListElement), others.length ? others.map((r) => roomItem(state, actions, r)) : [none("No other rooms.")]);

  const dms = state.dms.map((id) => {
    const p = person(state, id);
    const meta = p.deleted ? "deleted" : p.online === true ? "online" : "direct";
    return convItem(state, actions, dmKey(id), displayName(p), meta, avatar(state, id, true), personSig(state, id), nameTitle(p));
  });
  reconcile(byId("dm-list", HTMLUListElement), dms.length ? dms : [none("No conversations yet.")]);
}
