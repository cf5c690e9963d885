/** The page's other controls: name, rooms, navigation, older pages, "Retry now". */
import { LOBBY } from "../model/keys.js";
import type { PageActions } from "../net/actions.js";
import type { Store } from "../store.js";
import { byId } from "../view/dom.js";
import { isNearBottom } from "../view/timeline.js";

/** Runs `run` on submitting the form #id, in place of the browser's page load. */
function onSubmit(id: string, run: (form: HTMLFormElement) => Promise<unknown> | void): void {
  const form = byId(id, HTMLFormElement);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void run(form);
  });
}

/** Matches style.css: from this width the list and the conversation stand side by side. */
export const wide = (): boolean => window.matchMedia("(min-width: 721px)").matches;

/** Puts the keyboard in a conversation just opened: its message box on a wide screen, its title on a narrow one. */
export function focusConversation(): void {
  if (!wide()) {
    byId("conv-title", HTMLHeadingElement).focus();
    return;
  }
  if (!byId("composer", HTMLFormElement).hidden) byId("composer-input", HTMLTextAreaElement).focus();
  else if (!byId("join-panel", HTMLDivElement).hidden) byId("join", HTMLButtonElement).focus();
}

export function wireForms(store: Store, actions: PageActions, refreshRooms: () => void): void {
  onSubmit("pick-name", async () => {
    const input = byId("pick-name-input", HTMLInputElement);
    if (await actions.changeName(input.value, "name")) input.value = "";
  });
  onSubmit("create-room", async () => {
    const input = byId("create-room-input", HTMLInputElement);
    if (await actions.createRoom(input.value)) {
      input.value = "";
      focusConversation();
    }
  });

  const renameInput = byId("rename-room-input", HTMLInputElement);
  onSubmit("rename-room", async () => {
    const id = store.state.renaming;
    if (id && (await actions.rename(id, renameInput.value))) byId("conv-title", HTMLHeadingElement).focus();
  });
  const endRename = (): void => store.dispatch({ type: "endRename" });
  byId("rename-cancel", HTMLButtonElement).addEventListener("click", endRename);
  byId("rename-room", HTMLFormElement).addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") endRename();
  });
  let renaming: string | null = null;
  store.watch((s) => {
    if (s.renaming !== renaming && s.renaming !== null) {
      renameInput.value = s.rooms[s.renaming]?.name ?? "";
      // After the draw shows the form.
      queueMicrotask(() => {
        renameInput.focus();
        renameInput.select();
      });
    }
    renaming = s.renaming;
  });

  byId("join", HTMLButtonElement).addEventListener("click", () => {
    const t = store.state.current;
    if (t.startsWith("room:")) void actions.join(t.slice(5)).then(() => focusConversation());
  });
  byId("lobby-button", HTMLButtonElement).addEventListener("click", () => {
    actions.open(LOBBY);
    focusConversation();
  });
  byId("back", HTMLButtonElement).addEventListener("click", () => {
    store.dispatch({ type: "pane", pane: "list" });
    // The list is shown again: its member counts are read afresh (protocol.md, show_rooms).
    refreshRooms();
  });
  byId("retry-now", HTMLButtonElement).addEventListener("click", () => actions.retryNow());

  byId("older", HTMLButtonElement).addEventListener("click", () => actions.olderPage());
  const log = byId("log", HTMLDivElement);
  let atBottom = true;
  log.addEventListener("scroll", () => {
    atBottom = isNearBottom(log);
    const conv = store.state.convs[store.state.current];
    if (log.scrollTop < 40 && conv?.hasMore && !conv.loading) actions.olderPage();
  });
  // A notice above, the typing line, or the phone's keyboard shrinks the log: keep the newest message in sight.
  new ResizeObserver(() => {
    if (atBottom) log.scrollTop = log.scrollHeight;
  }).observe(log);
}
