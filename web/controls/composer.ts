/**
 * The message box. It is never locked and never cleared by a reply: Enter hands the
 * text to the outbox (shown at once as sending) and empties the box for the next one.
 * Each conversation keeps its own draft; editing one's own message borrows the box and
 * gives the draft back after. Enter sends, Shift+Enter starts a new line, Esc cancels
 * an edit, ↑ in an empty box edits one's last message.
 */
import { findMessage } from "../model/conversation.js";
import type { ConvKey } from "../model/keys.js";
import type { State } from "../model/state.js";
import type { PageActions } from "../net/actions.js";
import type { TypingNotifier } from "../net/typing.js";
import type { Store } from "../store.js";
import { byId } from "../view/dom.js";

export function wireComposer(store: Store, actions: PageActions, typing: TypingNotifier): void {
  const input = byId("composer-input", HTMLTextAreaElement);
  const form = byId("composer", HTMLFormElement);
  const drafts = new Map<ConvKey, string>();
  let shownKey: ConvKey = store.state.current;
  let editing: string | null = null;

  store.watch((s: State) => {
    if (s.current !== shownKey) {
      if (editing === null) drafts.set(shownKey, input.value);
      input.value = drafts.get(s.current) ?? "";
      shownKey = s.current;
      editing = null;
    }
    const now = s.editing?.key === s.current ? s.editing.messageId : null;
    if (now !== editing) {
      if (editing === null) drafts.set(s.current, input.value);
      if (now !== null) {
        input.value = findMessage(s.convs[s.current]?.entries ?? [], now)?.text ?? "";
        input.focus();
        input.setSelectionRange(input.value.length, input.value.length);
      } else {
        input.value = drafts.get(s.current) ?? "";
      }
      editing = now;
    }
  });

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value;
    if (text.trim() === "") {
      if (editing !== null) store.dispatch({ type: "notice", area: "composer", notice: { kind: "error", text: "A message cannot be empty. To remove it, use its Delete button." } });
      return;
    }
    if (editing !== null) {
      void actions.saveEdit(editing, text);
      return;
    }
    actions.send(text);
    input.value = "";
    drafts.delete(store.state.current);
    typing.sent(store.state.current);
  });

  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    } else if (ev.key === "Escape" && editing !== null) {
      ev.preventDefault();
      store.dispatch({ type: "endEdit" });
    } else if (ev.key === "ArrowUp" && input.value === "" && editing === null) {
      const me = store.state.me?.id;
      const entries = store.state.convs[store.state.current]?.entries ?? [];
      for (let i = entries.length - 1; i >= 0; i--) {
        const e = entries[i]!;
        if (e.kind === "message" && e.message.from.id === me) {
          ev.preventDefault();
          store.dispatch({ type: "startEdit", messageId: e.message.id });
          break;
        }
      }
    }
  });
  input.addEventListener("input", () => {
    if (editing === null && input.value.trim() !== "") typing.touch(store.state.current);
  });
  byId("edit-cancel", HTMLButtonElement).addEventListener("click", () => {
    store.dispatch({ type: "endEdit" });
    input.focus();
  });
}
