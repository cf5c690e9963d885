/** The open room's members, each with an online dot; kept current by member_joined, member_left and presence. */
import { parseKey } from "../model/keys.js";
import { person } from "../model/select.js";
import type { State } from "../model/state.js";
import { displayName } from "../text/names.js";
import type { Actions } from "./actions.js";
import { byId, h, reconcile, setHidden, setText } from "./dom.js";
import { avatar, nameOf, personSig } from "./people.js";

export function drawMembers(state: State, actions: Actions): void {
  const aside = byId("members", HTMLElement);
  const t = parseKey(state.current);
  const room = t?.kind === "room" ? state.rooms[t.id] : undefined;
  const ids = room?.joined ? state.members[room.id] : undefined;
  setHidden(aside, ids === undefined);
  document.body.dataset.members = state.showMembers ? "shown" : "folded";
  if (!ids || !room) return;
  // Online first, then by name; yourself first of all.
  const me = state.me?.id;
  const sorted = [...ids].sort((a, b) => {
    const pa = person(state, a);
    const pb = person(state, b);
    if ((a === me) !== (b === me)) return a === me ? -1 : 1;
    if ((pa.online === true) !== (pb.online === true)) return pa.online ? -1 : 1;
    return displayName(pa).localeCompare(displayName(pb), undefined, { sensitivity: "base" });
  });
  const online = ids.filter((id) => person(state, id).online === true).length;
  // Who is online is only known while connected.
  setText(byId("members-heading", HTMLHeadingElement), state.connection.state === "open" ? `Members · ${online} online` : "Members");
  reconcile(
    byId("member-list", HTMLUListElement),
    sorted.map((id) => ({
      key: id,
      sig: `${personSig(state, id)}|${room.owner_id === id ? 1 : 0}`,
      make: () => {
        const p = person(state, id);
        const status = p.online === true ? "online" : p.online === false ? "offline" : "";
        return h(
          "li",
          { class: `member ${status}`, "data-user": id },
          avatar(state, id, true),
          nameOf(state, actions, id),
          room.owner_id === id ? h("span", { class: "tag" }, "owner") : null,
          status ? h("span", { class: "visually-hidden" }, `, ${status}`) : null,
        );
      },
    })),
  );
}
