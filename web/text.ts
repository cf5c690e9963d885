/** Words the page shows: names, times, and a sentence for every error. */
import { ChatError, type User } from "../src/client/index.js";

/** A user's name, or "Guest" and the start of the id for one who has not picked a name. */
export function displayName(user: User): string {
  return user.username ?? `Guest ${user.id.slice(0, 4)}`;
}

/** "14:05" for today, "3 Mar, 14:05" for another day. */
export function shortTime(ts: string): string {
  const d = new Date(ts);
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return d.toDateString() === new Date().toDateString() ? time : `${d.toLocaleDateString([], { day: "numeric", month: "short" })}, ${time}`;
}

export function longTime(ts: string): string {
  return new Date(ts).toLocaleString();
}

const FIELD_NAMES: Record<string, string> = {
  username: "The name",
  room_name: "The room name",
  message: "The message",
  user_id: "The user id",
  room_id: "The room id",
  token: "The token",
};

/** "Could not create the room: Another room is already called "Tea" (names ignore case)." */
export function describeError(action: string, err: unknown): string {
  if (!(err instanceof ChatError)) return `Could not ${action}: ${err instanceof Error ? err.message : String(err)}`;
  switch (err.code) {
    case "disconnected":
      return `Could not ${action}: the page is not connected to the server right now. It reconnects by itself; try again in a moment.`;
    case "timeout":
      return `Could not ${action}: the server did not answer in time. Try again.`;
    case "rate_limited": {
      const wait = err.details?.retry_after_ms;
      return `Could not ${action}: you are sending too fast.${typeof wait === "number" ? ` Wait ${Math.ceil(wait / 1000)} s.` : ""}`;
    }
    case "auth_failed":
      return `Could not ${action}: that id and token do not match an account.`;
    case "bad_request": {
      const field = err.details?.fields?.[0];
      if (field) {
        const key = field.pointer.split("/").pop() ?? "";
        return `Could not ${action}: ${FIELD_NAMES[key] ?? "A field"} ${field.reason}.`;
      }
      return `Could not ${action}: ${err.message}`;
    }
    default:
      return `Could not ${action}: ${err.message}`;
  }
}
