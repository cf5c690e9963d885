/** Writing in the open conversation: Enter sends, Shift+Enter starts a new line. */
import type { RequestDataMap } from "../src/client/index.js";
import { receive } from "./conversations.js";
import { byId, onSubmit } from "./dom.js";
import { parseKey } from "./model.js";
import { attempt, notify } from "./notices.js";
import type { Page } from "./page.js";

export function wireComposer(page: Page): void {
  // One message at a time: a second Enter while the first is on its way would send it twice.
  let sending = false;
  onSubmit("composer", async () => {
    const textarea = byId("composer-input", HTMLTextAreaElement);
    const text = textarea.value;
    const t = parseKey(page.state.current);
    if (!t || sending) return;
    if (text.trim() === "") {
      notify("error", "Write something first: a message cannot be empty.");
      return;
    }
    const data: RequestDataMap["send_message"] =
      t.kind === "dm" ? { user_id: t.id, message: text } : { room_id: t.kind === "lobby" ? "all" : t.id, message: text };
    sending = true;
    const reply = await attempt("send the message", () => page.client.request("send_message", data));
    sending = false;
    if (!reply) return;
    textarea.value = "";
    receive(page, reply.message, true);
  });

  byId("composer-input", HTMLTextAreaElement).addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      byId("composer", HTMLFormElement).requestSubmit();
    }
  });
}
