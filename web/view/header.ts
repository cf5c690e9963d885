/** The open conversation's title, what it is, and its buttons (join, leave, rename, delete, members). */
import { parseKey } from "../model/keys.js";
import { isOwner, memberLine, person, titleOf } from "../model/select.js";
import type { State } from "../model/state.js";
import type { Actions } from "./actions.js";
import { byId, h, reconcile, setHidden, setText, type Item } from "./dom.js";

function button(key: string, label: string, run: () => void, cls = "", extra: Record<string, string> = {}): Item {
  return { key, sig: `${label}|${cls}|${JSON.stringify(extra)}`, make: () => h("button", { type: "button", class: cls, onclick: run, ...extra }, label) };
}

export function drawHeader(state: State, actions: Actions): void {
  const t = parseKey(state.current);
  let subtitle = "";
  const buttons: Item[] = [];
  if (t?.kind === "room") {
    const room = state.rooms[t.id];
    if (room) {
      const owner = isOwner(state, room);
      const listed = state.members[room.id];
      const online = listed && state.connection.state === "open" ? ` · ${listed.filter((id) => person(state, id).online === true).length} online` : "";
      subtitle = `${memberLine(room)}${online}${owner ? " · you own this room" : ""}`;
      if (room.joined && listed) {
        buttons.push(button("members", `Members (${listed.length})`, () => actions.dispatch({ type: "toggleMembers" }), "members-toggle", { "aria-expanded": String(state.showMembers), "aria-controls": "members" }));
      }
      // The owner keeps these after leaving: the room is still theirs (protocol.md, exit_room).
      if (owner) {
        buttons.push(button("rename", "Rename", () => actions.dispatch({ type: "startRename", roomId: room.id })));
        buttons.push(button("delete", "Delete room", () => actions.removeRoom(room.id), "danger"));
      }
      if (room.joined) buttons.push(button("leave", "Leave room", () => actions.leave(room.id)));
    }
  } else if (t?.kind === "dm") {
    const p = person(state, t.id);
    if (p.deleted) subtitle = "This account was deleted.";
    else subtitle = `Direct messages: only the two of you read them.${p.online === true ? " Online now." : ""}`;
  } else {
    subtitle = "Everyone reads the lobby.";
  }
  setText(byId("conv-title", HTMLHeadingElement), titleOf(state, state.current));
  setText(byId("conv-sub", HTMLParagraphElement), subtitle);
  reconcile(byId("conv-actions", HTMLDivElement), buttons);
  const renaming = t?.kind === "room" && state.renaming === t.id;
  setHidden(byId("rename-room", HTMLFormElement), !renaming);
}
