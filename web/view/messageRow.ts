/** One line of the timeline: a message (sent, sending or failed), a day heading, a note, or the "New messages" line. */
import type { Message } from "../../src/client/index.js";
import { canDelete } from "../model/select.js";
import type { State } from "../model/state.js";
import type { Row } from "../model/timeline.js";
import { linkify } from "../text/links.js";
import { mentions } from "../text/mentions.js";
import { displayName } from "../text/names.js";
import { clockTime, dayLabel, fullDate } from "../text/time.js";
import type { Actions } from "./actions.js";
import { h, type Item } from "./dom.js";
import { avatar, nameOf, personSig } from "./people.js";

/** Message text with its web addresses as links that open in a new tab and tell the site nothing. */
function body(text: string): HTMLParagraphElement {
  const p = h("p", { class: "msg-text" });
  for (const piece of linkify(text)) {
    p.append("href" in piece ? h("a", { href: piece.href, target: "_blank", rel: "noopener noreferrer" }, piece.text) : piece.text);
  }
  return p;
}

function time(ts: string, edited?: string): HTMLElement[] {
  const out: HTMLElement[] = [h("time", { datetime: ts, title: fullDate(ts) }, clockTime(ts))];
  if (edited) out.push(h("span", { class: "edited", title: `Edited ${fullDate(edited)}` }, "(edited)"));
  return out;
}

function messageItem(state: State, actions: Actions, row: Extract<Row, { kind: "message" }>): Item {
  const m: Message = row.message;
  const me = state.me;
  const mention = !row.mine && mentions(m.text, me?.username ?? null);
  const deletable = canDelete(state, state.current, m.from.id);
  const editable = row.mine;
  const sig = JSON.stringify([m.text, m.edited_ts, row.continued, row.mine, mention, deletable, editable, personSig(state, m.from.id), state.editing?.messageId === m.id]);
  return {
    key: row.key,
    sig,
    make: () => {
      const cls = `msg${row.mine ? " mine" : ""}${row.continued ? " cont" : ""}${mention ? " mention" : ""}${state.editing?.messageId === m.id ? " being-edited" : ""}`;
      const tools =
        editable || deletable
          ? h(
              "div",
              { class: "msg-tools" },
              editable ? h("button", { type: "button", class: "small", "aria-label": "Edit this message", onclick: () => actions.editMessage(m.id) }, "Edit") : null,
              deletable ? h("button", { type: "button", class: "small", "aria-label": "Delete this message", onclick: () => actions.deleteMessage(m.id) }, "Delete") : null,
            )
          : null;
      const sent = row.mine ? h("span", { class: "sent-mark", title: "Sent: the server has it" }, "✓ Sent") : null;
      if (row.continued) {
        // The name and time are shown once per group; screen readers still hear who wrote each line.
        return h(
          "li",
          { class: cls, "data-id": m.id, "data-state": row.mine ? "sent" : null, title: fullDate(m.ts) },
          h("span", { class: "visually-hidden" }, `${displayName(state.people[m.from.id] ?? m.from)}, ${clockTime(m.ts)}: `),
          body(m.text),
          m.edited_ts ? h("div", { class: "msg-foot" }, ...time(m.ts, m.edited_ts).slice(1), sent) : sent ? h("div", { class: "msg-foot" }, sent) : null,
          tools,
        );
      }
      return h(
        "li",
        { class: cls, "data-id": m.id, "data-state": row.mine ? "sent" : null },
        h("div", { class: "msg-head" }, avatar(state, m.from.id), nameOf(state, actions, m.from.id), ...time(m.ts, m.edited_ts), sent),
        body(m.text),
        tools,
      );
    },
  };
}

function pendingItem(state: State, actions: Actions, row: Extract<Row, { kind: "pending" }>): Item {
  const o = row.outgoing;
  const offline = state.connection.state !== "open";
  const sig = JSON.stringify([o.text, o.status, o.error, row.continued, offline, personSig(state, state.me?.id ?? "")]);
  return {
    key: row.key,
    sig,
    make: () => {
      let status: HTMLElement;
      if (o.status === "failed") {
        status = h(
          "div",
          { class: "msg-status failed", role: "alert" },
          h("span", {}, `Not sent: ${o.error ?? "it failed"}`),
          h("button", { type: "button", class: "small", onclick: () => actions.retrySend(o.id) }, "Retry"),
          h("button", { type: "button", class: "small", onclick: () => actions.discardSend(o.id) }, "Discard"),
        );
      } else {
        status = h("div", { class: "msg-status sending" }, offline ? "Waiting for the connection…" : "Sending…");
      }
      const meId = state.me?.id ?? "";
      return h(
        "li",
        { class: `msg mine pending${row.continued ? " cont" : ""}`, "data-state": o.status === "failed" ? "failed" : "sending", "data-client-id": o.id },
        row.continued ? null : h("div", { class: "msg-head" }, avatar(state, meId), nameOf(state, actions, meId), ...time(o.ts)),
        body(o.text),
        status,
      );
    },
  };
}

export function rowItem(state: State, actions: Actions, row: Row): Item {
  switch (row.kind) {
    case "message":
      return messageItem(state, actions, row);
    case "pending":
      return pendingItem(state, actions, row);
    case "day": {
      const label = dayLabel(row.day, state.now);
      const [y, mo, d] = row.day.split("-").map(Number);
      const full = new Date(y!, mo! - 1, d!).toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", year: "numeric" });
      return {
        key: row.key,
        sig: label,
        make: () => h("li", { class: "day", role: "separator", "aria-label": full }, h("span", { title: full }, label)),
      };
    }
    case "divider":
      return { key: row.key, sig: "", make: () => h("li", { class: "divider", role: "separator" }, h("span", {}, "New messages")) };
    case "note": {
      const n = row.note;
      return {
        key: row.key,
        sig: n.userId ? personSig(state, n.userId) : "",
        make: () => h("li", { class: "note" }, n.userId ? nameOf(state, actions, n.userId) : null, n.userId ? " " : null, n.text),
      };
    }
  }
}
