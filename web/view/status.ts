/** The connection line at the top: connected, or lost with a countdown to the next try and "Retry now". */
import { secondsToRetry } from "../model/select.js";
import type { State } from "../model/state.js";
import { byId, setHidden, setText } from "./dom.js";

export function statusText(state: State): string {
  const c = state.connection;
  switch (c.state) {
    case "connecting":
      return "Connecting…";
    case "open":
      return "Connected";
    case "closed":
      return "Disconnected.";
    case "reconnecting": {
      if (c.manual === "trying") return "Connection lost. Reconnecting now…";
      const lead = c.manual === "failed" ? "Still cannot reach the server." : "Connection lost.";
      const s = secondsToRetry(state);
      if (s === null || s === 0) return `${lead} Reconnecting…`;
      return `${lead} Trying again in ${s} s (attempt ${c.attempt ?? 1}).`;
    }
  }
}

export function drawStatus(state: State): void {
  document.body.dataset.state = state.connection.state;
  setText(byId("status", HTMLParagraphElement), statusText(state));
  const retry = byId("retry-now", HTMLButtonElement);
  setHidden(retry, state.connection.state === "open" || state.connection.state === "connecting");
  setText(retry, state.connection.state === "closed" ? "Reconnect" : "Retry now");
  retry.setAttribute("aria-disabled", String(state.connection.manual === "trying"));
}
