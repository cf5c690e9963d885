/**
 * Browser notifications, only when the person asked for them (Account panel), only for
 * direct messages and messages that mention their name, and only when they are not
 * looking at that conversation already.
 */
import type { Message } from "../../src/client/index.js";
import { keyOf, type ConvKey } from "../model/keys.js";
import { nameOf } from "../model/select.js";
import type { State } from "../model/state.js";
import { mentions } from "../text/mentions.js";

export function supported(): boolean {
  return typeof window.Notification === "function";
}

export function permission(): NotificationPermission | "unsupported" {
  return supported() ? Notification.permission : "unsupported";
}

/** Asks the browser; true when notifications may be shown. */
export async function askPermission(): Promise<boolean> {
  if (!supported()) return false;
  if (Notification.permission === "granted") return true;
  if (Notification.permission === "denied") return false;
  return (await Notification.requestPermission()) === "granted";
}

export function notifyAbout(state: State, message: Message, open: (key: ConvKey) => void): void {
  const me = state.me;
  if (!state.notifications || !me || message.from.id === me.id || permission() !== "granted") return;
  const key = keyOf(message, me.id);
  const direct = "to_user_id" in message;
  if (!direct && !mentions(message.text, me.username)) return;
  const looking = document.visibilityState === "visible" && document.hasFocus() && state.current === key;
  if (looking) return;
  const who = nameOf(state, message.from.id);
  const title = direct ? `${who} (direct message)` : `${who} mentioned you`;
  try {
    const n = new Notification(title, { body: message.text.slice(0, 200), tag: key });
    n.onclick = () => {
      window.focus();
      open(key);
      n.close();
    };
  } catch {
    // Some browsers allow notifications only from a service worker: then there are none.
  }
}
