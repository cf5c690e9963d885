/** Around the message box: who it writes to, the join or "gone" panel instead of it, the editing bar, and who is typing. */
import { parseKey } from "../model/keys.js";
import { canWrite, titleOf, typingLine } from "../model/select.js";
import type { State } from "../model/state.js";
import { byId, setHidden, setText } from "./dom.js";

/** What stands in the composer's place, or null when one can write. */
export function blockedText(state: State): { join?: string; gone?: string } | null {
  const t = parseKey(state.current);
  if (t?.kind === "room") {
    const room = state.rooms[t.id];
    if (room && !room.joined) return { join: `You are not a member of “${room.name}”. Join to read its messages and write in it.` };
  }
  if (t?.kind === "dm" && !canWrite(state, state.current)) {
    return { gone: "This account was deleted: your direct messages with it are gone, and nothing can be sent to it." };
  }
  return null;
}

export function drawComposer(state: State): void {
  const blocked = blockedText(state);
  setHidden(byId("join-panel", HTMLDivElement), blocked?.join === undefined);
  setText(byId("join-text", HTMLParagraphElement), blocked?.join ?? "");
  setHidden(byId("gone-panel", HTMLParagraphElement), blocked?.gone === undefined);
  setText(byId("gone-panel", HTMLParagraphElement), blocked?.gone ?? "");
  setHidden(byId("composer", HTMLFormElement), blocked !== null);
  const editing = state.editing !== null && state.editing.key === state.current;
  setHidden(byId("editing-bar", HTMLDivElement), !editing);
  setText(byId("send", HTMLButtonElement), editing ? "Save" : "Send");
  setText(byId("composer-label", HTMLLabelElement), editing ? "Edit your message" : `Message to ${titleOf(state, state.current)}`);
  setText(byId("typing", HTMLParagraphElement), typingLine(state, state.current));
}
